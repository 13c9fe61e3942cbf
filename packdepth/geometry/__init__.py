"""Camera geometry: pinhole projection, rigid poses and view synthesis (pure functions)."""

from __future__ import annotations

from packdepth.geometry.camera import (
    aspect_change,
    backproject,
    denormalise_intrinsics,
    flip_intrinsics,
    intrinsics_matrix,
    pixel_grid,
    pixels_to_grid,
    project,
    scale_intrinsics,
    transform_points,
)
from packdepth.geometry.pose import (
    axis_angle_to_rotation,
    euler_to_rotation,
    invert_pose,
    make_transform,
    pose_mat_to_vec,
    pose_vec_to_mat,
    relative_pose,
    rotation_to_axis_angle,
    rotation_to_euler,
)
from packdepth.geometry.warp import inverse_warp

__all__ = [
    "aspect_change",
    "axis_angle_to_rotation",
    "backproject",
    "denormalise_intrinsics",
    "euler_to_rotation",
    "flip_intrinsics",
    "intrinsics_matrix",
    "inverse_warp",
    "invert_pose",
    "make_transform",
    "pixel_grid",
    "pixels_to_grid",
    "pose_mat_to_vec",
    "pose_vec_to_mat",
    "project",
    "relative_pose",
    "rotation_to_axis_angle",
    "rotation_to_euler",
    "scale_intrinsics",
    "transform_points",
]
