"""KITTI raw (and the synthetic world, written in the same layout), in one place.

* :mod:`~packdepth.data.kitti.layout`: the folder layout, the camera sides (``l``/``r``), the
  depth PNGs.
* :mod:`~packdepth.data.kitti.calibration`: ``calib_cam_to_cam.txt`` / ``calib_velo_to_cam.txt``.
* :mod:`~packdepth.data.kitti.velodyne`: scans projected into sparse depth maps.
* :mod:`~packdepth.data.kitti.splits`: split files (which frames), every frame of a drive.
* :mod:`~packdepth.data.kitti.dataset`: a KITTI-layout folder as a training/validation dataset.

Import from the modules themselves: this package imports none of them (reading a split file or
a depth PNG does not load torch).
"""
