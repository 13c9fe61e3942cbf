"""KITTI raw (and the synthetic world, written in the same layout), in one place.

* :mod:`~packdepth.data.kitti.layout`: the folder layout, the camera sides (``l``/``r``), the
  depth PNGs.
* :mod:`~packdepth.data.kitti.calibration`: ``calib_cam_to_cam.txt`` / ``calib_velo_to_cam.txt``.
* :mod:`~packdepth.data.kitti.velodyne`: scans projected into sparse depth maps.
* :mod:`~packdepth.data.kitti.splits`: split files (which frames), every frame of a drive.
* :mod:`~packdepth.data.kitti.dataset`: a KITTI-layout folder as a training/validation dataset.
"""

from packdepth.data.kitti.calibration import KittiCalibration, load_calibration
from packdepth.data.kitti.dataset import kitti_dataset
from packdepth.data.kitti.layout import SIDES, read_depth_png, write_depth_png
from packdepth.data.kitti.splits import SplitEntry, read_split

__all__ = [
    "SIDES",
    "KittiCalibration",
    "SplitEntry",
    "kitti_dataset",
    "load_calibration",
    "read_depth_png",
    "read_split",
    "write_depth_png",
]
