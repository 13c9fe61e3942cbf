"""Depth evaluation inputs: ground truth, saved predictions, model inference, semantic labels.

Ground truth of a split entry (KITTI raw layout, see :mod:`packdepth.data.kitti`), by preference:

1. ``<drive>/proj_depth/groundtruth/image_0X/<frame>.png`` — KITTI's annotated depth or the
   synthetic world's exact depth (uint16, metres × 256, 0 = none);
2. ``<drive>/velodyne_points/data/<frame>.bin`` projected with ``<date>/calib_*.txt`` at the
   calibration's image size (nearest point per pixel);
3. otherwise a :class:`PackdepthError` naming the missing files.

Saved predictions (``packdepth eval --pred-dir DIR``) are found by
:class:`packdepth.evaluation.predictions.PredictionFolder` (the image's path mirrored, or its own
file stem in a flat folder, or, when asked, the split line's index) and read by
:func:`read_prediction`: ``.npz`` files hold depth in metres (or up to scale) under the key
``depth`` as ``[H,W]`` or ``[1,H,W]``; PNGs are 16-bit, metres × 256.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor, nn

from packdepth.data.images import read_image
from packdepth.data.intrinsics import intrinsics_at
from packdepth.data.kitti.calibration import KittiCalibration, load_calibration
from packdepth.data.kitti.layout import frame_name, gt_depth_path, read_depth_png, velodyne_path
from packdepth.data.kitti.splits import SplitEntry
from packdepth.data.kitti.velodyne import velodyne_depth_map
from packdepth.errors import PackdepthError
from packdepth.io.npz import read_npz

GT_ANNOTATED = "annotated"
GT_VELODYNE = "velodyne"


@lru_cache(maxsize=32)
def _calibration(date_dir: str, cam: int) -> KittiCalibration:
    return load_calibration(date_dir, cam)


def load_gt_depth(root: str | os.PathLike, entry: SplitEntry) -> tuple[np.ndarray, str]:
    """Ground-truth depth ``[H,W]`` float32 metres (0 = none) and its source.

    Returns:
        ``(depth, source)`` with ``source`` :data:`GT_ANNOTATED` or :data:`GT_VELODYNE`.
    """
    drive = entry.drive_dir(root)
    png = gt_depth_path(drive, entry.frame, entry.cam)
    if png.is_file():
        return read_depth_png(png), GT_ANNOTATED
    scan = velodyne_path(drive, entry.frame)
    if scan.is_file():
        return velodyne_depth_map(scan, _calibration(str(drive.parent), entry.cam)), GT_VELODYNE
    raise PackdepthError(
        f"{png}: no ground truth for {entry.name} (neither this depth PNG nor the Velodyne scan "
        f"{scan} exists)"
    )


def entry_intrinsics(root: str | os.PathLike, entry: SplitEntry, shape: tuple[int, int]
                     ) -> np.ndarray:
    """``[3,3]`` intrinsics of a split entry's camera (``<date>/calib_cam_to_cam.txt``) moved to
    a ``[H,W]`` map of ``shape`` (a prediction's resolution).

    Raises:
        PackdepthError: a missing or bad calibration, or a map of another aspect ratio.
    """
    drive = entry.drive_dir(root)
    calib = _calibration(str(drive.parent), entry.cam)
    source = f"{drive.parent / 'calib_cam_to_cam.txt'} (P_rect_0{entry.cam})"
    return intrinsics_at(calib.K, calib.size, (shape[1], shape[0]), source)


def read_prediction(path: str | os.PathLike) -> np.ndarray:
    """A saved depth prediction ``[H,W]`` float32: ``.npz`` key ``depth`` or a 16-bit PNG."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        try:
            with Image.open(path) as img:
                mode = img.mode
        except (OSError, ValueError) as exc:
            raise PackdepthError(f"{path}: not a readable PNG ({exc})") from None
        if mode not in ("I;16", "I;16B", "I"):
            raise PackdepthError(f"{path}: expected a 16-bit depth PNG (metres x 256), got {mode}")
        return read_depth_png(path)
    depth = read_npz(path, keys=("depth",), required=("depth",))["depth"].astype(np.float32)
    while depth.ndim > 2 and depth.shape[0] == 1:
        depth = depth[0]
    if depth.ndim != 2 or depth.size == 0:
        raise PackdepthError(f"{path}: 'depth' must be [H,W] or [1,H,W], got {depth.shape}")
    return depth


def load_image(path: str | os.PathLike) -> Tensor:
    """An image file as ``[3,H,W]`` float in [0,1] (RGB, upright, at full bit depth:
    :func:`~packdepth.data.images.read_image`)."""
    return torch.from_numpy(read_image(path, np.float32)).permute(2, 0, 1).contiguous()


def read_class_names(path: str | os.PathLike) -> dict[int, str]:
    """Class id → name from a ``classes.json``.

    Accepted shapes: ``{"0": "sky", ...}``, ``{"sky": 0, ...}``, ``["sky", ...]`` (index = id),
    ``[{"id": 0, "name": "sky"}, ...]``, or any of these under a top-level ``"classes"`` key.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise PackdepthError(f"{path}: not a readable JSON file ({exc})") from None
    if isinstance(data, dict) and "classes" in data:
        data = data["classes"]
    try:
        if isinstance(data, list):
            if all(isinstance(d, dict) for d in data):
                return {int(d["id"]): str(d["name"]) for d in data}
            return {i: str(name) for i, name in enumerate(data)}
        if isinstance(data, dict):
            if all(str(k).lstrip("-").isdigit() for k in data):
                return {int(k): str(v) for k, v in data.items()}
            return {int(v): str(k) for k, v in data.items()}
    except (KeyError, TypeError, ValueError):
        pass
    raise PackdepthError(f"{path}: cannot read a class id -> name table")


def load_semantic(
    root: str | os.PathLike, entry: SplitEntry
) -> tuple[np.ndarray, dict[int, str]] | None:
    """Semantic ids ``[H,W]`` (``<drive>/semantic/image_0X/<frame>.png``) and the class names
    (``classes.json`` in the drive, date or root folder; ``class_<id>`` otherwise), or ``None``."""
    drive = entry.drive_dir(root)
    path = drive / "semantic" / f"image_0{entry.cam}" / f"{frame_name(entry.frame)}.png"
    if not path.is_file():
        return None
    try:
        with Image.open(path) as img:
            labels = np.array(img)
    except (OSError, ValueError) as exc:
        raise PackdepthError(f"{path}: not a readable label PNG ({exc})") from None
    if labels.ndim != 2:
        raise PackdepthError(f"{path}: expected a single-channel label PNG, got {labels.shape}")
    for folder in (drive, drive.parent, Path(root)):
        if (folder / "classes.json").is_file():
            return labels, read_class_names(folder / "classes.json")
    return labels, {}


def flip_post_process(inv_depth: Tensor, inv_depth_flipped: Tensor) -> Tensor:
    """Blend a prediction with the one made on the mirrored image (monodepth's edge ramp).

    Args:
        inv_depth: ``[B,1,H,W]`` inverse depth predicted on the image.
        inv_depth_flipped: ``[B,1,H,W]`` inverse depth predicted on the horizontally flipped
            image, as the network returned it (still mirrored).

    Returns:
        ``[B,1,H,W]``: ``r·d + l·f + (1 − l − r)·(d + f)/2`` where ``f`` is the flipped prediction
        mirrored back, ``l(x) = 1 − clip(20·(x − 0.05), 0, 1)`` over ``x = linspace(0, 1, W)``
        (1 on the leftmost 5 % of columns, falling to 0 at 10 %) and ``r`` its mirror: each border
        strip comes from the pass in which it lay on the right of the network's input (the left
        edge is where monocular/stereo nets show disocclusion artefacts), the middle from the
        mean.
    """
    back = inv_depth_flipped.flip(-1)
    x = torch.linspace(0.0, 1.0, inv_depth.shape[-1]).to(inv_depth)
    left = 1.0 - (20.0 * (x - 0.05)).clamp(0.0, 1.0)
    right = left.flip(0)
    mean = 0.5 * (inv_depth + back)
    return right * inv_depth + left * back + (1.0 - left - right) * mean


@torch.no_grad()
def predict_depth(
    model: nn.Module,
    image: Tensor,
    *,
    size: tuple[int, int] | None = None,
    post_process: bool = False,
) -> Tensor:
    """Depth from a depth network, at the input's resolution.

    Args:
        model: maps ``[B,3,h,w]`` images in [0,1] to inverse depth (a list of scales, the
            first at full resolution, or one ``[B,1,h,w]`` tensor). Call ``model.eval()`` first.
        image: ``[B,3,H,W]`` in [0,1].
        size: ``(h,w)`` the network was trained at; the input is resized to it (bicubic,
            antialiased); ``None`` keeps ``(H,W)``.
        post_process: also predict on the mirrored image and blend (:func:`flip_post_process`).

    Returns:
        ``[B,1,H,W]`` depth; the inverse depth is resized back to ``(H,W)`` bilinearly
        (``align_corners=False``) before inverting, as the KITTI protocol resizes disparity.
    """
    b, _, H, W = image.shape
    param = next(model.parameters(), None)
    x = image.to(param.device if param is not None else image.device, torch.float32)
    if size is not None and tuple(size) != (H, W):
        x = F.interpolate(x, size=tuple(size), mode="bicubic", align_corners=False, antialias=True)
        x = x.clamp(0.0, 1.0)
    if post_process:
        x = torch.cat([x, x.flip(-1)], 0)
    out = model(x if param is None else x.to(param.dtype))  # e.g. a bfloat16 network
    inv = (out[0] if isinstance(out, (list, tuple)) else out).float()
    if post_process:
        inv = flip_post_process(inv[:b], inv[b:])
    if inv.shape[-2:] != (H, W):
        inv = F.interpolate(inv, size=(H, W), mode="bilinear", align_corners=False)
    return 1.0 / inv.clamp_min(1e-6)
