"""Subcommands of the ``packdepth`` CLI, one module each (see :mod:`packdepth.cli`)."""
