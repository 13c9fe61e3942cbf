"""packdepth: self-supervised monocular depth and ego-motion from video.

PackNet's 3D packing networks and the monodepth2 recipe, tested and fast on CPU.
"""

from __future__ import annotations

__version__ = "0.1.0"
