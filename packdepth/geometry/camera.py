"""Pinhole camera: intrinsics, back-projection and projection.

Pixel-centre convention (used everywhere in packdepth)
------------------------------------------------------
Pixel ``(i, j)`` (column ``i``, row ``j``) has its centre at the continuous image coordinate
``(u, v) = (i, j)``; the image covers ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``. This is the OpenCV and
KITTI convention, so a calibration's ``cx, cy`` are used as they are. It matches
``torch.nn.functional.grid_sample(..., align_corners=False)`` through
``x_norm = (2u + 1) / W - 1`` (:func:`pixels_to_grid`), which maps the image border (not the
outermost pixel centres) to ±1.

Resizing an image by factors ``sx = W'/W``, ``sy = H'/H`` maps edges to edges, so
``u' + 0.5 = sx (u + 0.5)``: ``fx' = sx fx`` and ``cx' = sx (cx + 0.5) - 0.5``
(:func:`scale_intrinsics`). A horizontal flip maps ``u`` to ``W - 1 - u``, so ``cx' = W - 1 - cx``
(:func:`flip_intrinsics`).

Camera frame: x right, y down, z forward (optical axis); depth is z, in metres.
"""

from __future__ import annotations

import torch
from torch import Tensor


def pixel_grid(batch: int, height: int, width: int, *, dtype=None, device=None) -> Tensor:
    """Homogeneous pixel-centre coordinates ``(u, v, 1)``.

    Returns:
        ``[B,3,H,W]``: channel 0 is the column ``u``, channel 1 the row ``v``, channel 2 ones.
    """
    dtype = dtype or torch.get_default_dtype()
    v, u = torch.meshgrid(
        torch.arange(height, dtype=dtype, device=device),
        torch.arange(width, dtype=dtype, device=device),
        indexing="ij",
    )
    grid = torch.stack([u, v, torch.ones_like(u)], dim=0)
    return grid.unsqueeze(0).expand(batch, 3, height, width)


def backproject(depth: Tensor, K_inv: Tensor) -> Tensor:
    """Lift every pixel to a 3D point in the camera frame.

    Args:
        depth: ``[B,1,H,W]`` depth (z along the optical axis).
        K_inv: ``[B,3,3]`` inverse intrinsics.

    Returns:
        ``[B,3,H,W]`` points ``depth * K^-1 (u, v, 1)^T``.
    """
    b, _, h, w = depth.shape
    pix = pixel_grid(b, h, w, dtype=depth.dtype, device=depth.device).reshape(b, 3, h * w)
    rays = K_inv.to(depth.dtype) @ pix
    return rays.reshape(b, 3, h, w) * depth


def transform_points(points: Tensor, T: Tensor) -> Tensor:
    """Apply rigid transforms to a point map.

    Args:
        points: ``[B,3,H,W]``.
        T: ``[B,4,4]``.

    Returns:
        ``[B,3,H,W]`` points ``R p + t``.
    """
    b, _, h, w = points.shape
    flat = points.reshape(b, 3, h * w)
    out = T[:, :3, :3] @ flat + T[:, :3, 3:]
    return out.reshape(b, 3, h, w)


def project(
    points: Tensor,
    K: Tensor,
    T: Tensor | None = None,
    *,
    eps: float = 1e-7,
    return_depth: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Project 3D points to pixel coordinates.

    Args:
        points: ``[B,3,H,W]`` points in the source frame of ``T``.
        K: ``[B,3,3]`` intrinsics of the camera projected into.
        T: ``[B,4,4]`` transform applied before projecting (``None`` = identity).
        eps: lower bound on ``|z|`` used in the division, so points on the camera plane give
            finite (far away) coordinates instead of NaN.
        return_depth: also return the projected ``z``.

    Returns:
        ``pix [B,H,W,2]`` pixel coordinates ``(u, v)`` (pixel-centre convention above), and, with
        ``return_depth``, ``z [B,1,H,W]`` in the camera projected into (negative = behind it).
    """
    if T is not None:
        points = transform_points(points, T.to(points.dtype))
    b, _, h, w = points.shape
    cam = (K.to(points.dtype) @ points.reshape(b, 3, h * w)).reshape(b, 3, h, w)
    z = cam[:, 2:3]
    z_safe = torch.where(z.abs() < eps, torch.full_like(z, eps), z)
    pix = (cam[:, :2] / z_safe).permute(0, 2, 3, 1)
    if return_depth:
        return pix, z
    return pix


def pixels_to_grid(pix: Tensor, height: int, width: int) -> Tensor:
    """Convert pixel coordinates to ``grid_sample``'s ``[-1, 1]`` range (``align_corners=False``).

    Args:
        pix: ``[B,H,W,2]`` pixel coordinates ``(u, v)``.

    Returns:
        ``[B,H,W,2]`` normalised coordinates.
    """
    scale = pix.new_tensor([2.0 / width, 2.0 / height])
    return (pix + 0.5) * scale - 1.0


def scale_intrinsics(K: Tensor, sx: float, sy: float) -> Tensor:
    """Intrinsics of an image resized by ``sx`` horizontally and ``sy`` vertically.

    Args:
        K: ``[...,3,3]``.

    Returns:
        ``[...,3,3]`` with ``fx, skew, cx`` scaled by ``sx`` and ``fy, cy`` by ``sy``, respecting
        the pixel-centre convention (``cx' = sx (cx + 0.5) - 0.5``).
    """
    out = K.clone()
    out[..., 0, 0] = K[..., 0, 0] * sx
    out[..., 0, 1] = K[..., 0, 1] * sx
    out[..., 1, 1] = K[..., 1, 1] * sy
    out[..., 0, 2] = (K[..., 0, 2] + 0.5) * sx - 0.5
    out[..., 1, 2] = (K[..., 1, 2] + 0.5) * sy - 0.5
    return out


def denormalise_intrinsics(K: Tensor, width: int, height: int) -> Tensor:
    """Pixel intrinsics of a ``width x height`` image from normalised ones (monodepth2's form).

    Normalised intrinsics are fractions of the image size measured from its outer corner, so
    ``(0.5, 0.5)`` is the image centre at any resolution: ``fx = fx_n W``, ``fy = fy_n H`` and, in
    the pixel-centre convention above, ``cx = cx_n W - 0.5``, ``cy = cy_n H - 0.5`` (the centre
    of a 640-wide image is 319.5). monodepth2 multiplies ``K[0]`` by ``W`` and ``K[1]`` by ``H``
    and uses ``cx_n W`` with pixel centres at integers, half a pixel right of (below) this at
    every scale; KITTI's normalised ``cx = 0.5`` is itself a rounding of 0.4908.

    Args:
        K: ``[...,3,3]`` normalised intrinsics.

    Returns:
        ``[...,3,3]`` intrinsics in pixels.
    """
    out = K.clone()
    out[..., 0, :2] = K[..., 0, :2] * width
    out[..., 1, 1] = K[..., 1, 1] * height
    out[..., 0, 2] = K[..., 0, 2] * width - 0.5
    out[..., 1, 2] = K[..., 1, 2] * height - 0.5
    return out


def flip_intrinsics(K: Tensor, width: int) -> Tensor:
    """Intrinsics of the horizontally mirrored image of width ``width``.

    Mirroring maps column ``u`` to ``W - 1 - u``; with ``fx`` kept positive (so the flipped image is
    again a right-handed pinhole view of the mirrored scene), ``cx' = W - 1 - cx``.

    Args:
        K: ``[...,3,3]``.
    """
    out = K.clone()
    out[..., 0, 2] = (width - 1) - K[..., 0, 2]
    out[..., 0, 1] = -K[..., 0, 1]
    return out


def aspect_change(size: tuple[int, int], other: tuple[int, int]) -> float:
    """How much two image sizes' aspect ratios differ: ``|(w/h) / (W/H) - 1|``.

    Args:
        size, other: ``(width, height)`` in pixels (or ``(height, width)``, the same for both).

    Returns:
        0 for the same shape (e.g. 1242x375 and 621x187.5), 1 for twice as wide, and so on; the
        callers' tolerances decide when resizing one onto the other stops being the same view.
    """
    (w, h), (W, H) = size, other
    return abs((w / h) / (W / H) - 1.0)


def intrinsics_matrix(fx: float, fy: float, cx: float, cy: float, **kw) -> Tensor:
    """A ``[3,3]`` pinhole matrix."""
    return torch.tensor([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]], **kw)
