"""``python -m packdepth``: the same command line as the ``packdepth`` script."""

import sys

from packdepth.cli import main

sys.exit(main())
