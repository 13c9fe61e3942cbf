"""Pinhole intrinsics as users give them, and the one check every way in goes through.

Intrinsics enter packdepth as a file (:func:`load_intrinsics`, parsed by
:mod:`packdepth.data.intrinsics_file`; ``fit --intrinsics``, ``data.intrinsics``): YAML/JSON
``{fx, fy, cx, cy[, width, height]}`` or ``{K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]][, width,
height]}``, or a text file of the 3x3 matrix as three rows of three numbers (7-Scenes'
``camera-intrinsics.txt``; a matrix with skew or a bottom row other than ``0 0 1`` is refused);
as :class:`Intrinsics` in Python or ``data.fx/fy/cx/cy`` in a configuration, from KITTI
calibration files (:func:`~packdepth.data.kitti.calibration.load_calibration`) and DDAD
calibration JSON. All of them are checked by :func:`check_intrinsics` against the image size
they describe and moved to the frames' size by :func:`intrinsics_at`:

- Values are pixels, pixel centres at integers (:mod:`packdepth.geometry.camera`).
  ``fx < 5 % W`` or ``fy < 5 % H`` (a field of view over 168°) cannot be pixels, nor can a
  principal point outside the image ``[-0.5, W - 0.5] x [-0.5, H - 0.5]``: both are refused.
  Values that look normalised (monodepth2's ``fx 0.58, fy 1.92, cx 0.5, cy 0.5``: fractions of the
  image size) are converted, with a warning, when ``width`` and ``height`` come with them
  (:func:`~packdepth.geometry.denormalise_intrinsics`: ``fx W, fy H, cx W - 0.5, cy H - 0.5``);
  without a size the error gives the values in pixels of the frames.
- Intrinsics calibrated at another size are scaled to the frames' (edges to edges,
  :func:`~packdepth.geometry.scale_intrinsics`) only when both have the same aspect ratio, within
  :data:`ASPECT_TOLERANCE`; another aspect ratio is another view (a crop, a rotated frame), and
  scaling would make the focal lengths wrong by the ratio of the two.
- Intrinsics describe the frames upright, as packdepth reads them (EXIF orientation and video
  rotation applied, :mod:`packdepth.data.images`). A calibration of a phone's landscape sensor does
  not fit its portrait photos: width and height swapped is refused with that hint (rotate the
  calibration: ``fx`` and ``fy`` swap, the principal point turns with the image).

Without intrinsics packdepth guesses COLMAP's default for images without EXIF focal length,
``fx = fy = 1.2 max(W, H)`` (about 45° across the long side), principal point at the image centre
``((W - 1) / 2, (H - 1) / 2)``, and warns. Dashcams are usually much wider (KITTI:
``fx ≈ 0.58 W``), so pass real intrinsics when you have them.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from packdepth.data.intrinsics_file import read_intrinsics_file
from packdepth.errors import PackdepthError
from packdepth.geometry import aspect_change, denormalise_intrinsics, scale_intrinsics

DEFAULT_FOCAL_FACTOR = 1.2
#: Smallest focal length in pixels, as a fraction of the image width (``fx``) or height (``fy``):
#: ``2 atan(1 / (2 * 0.05)) = 168.6°`` of field of view, beyond any pinhole camera.
MIN_FOCAL_FRACTION = 0.05
#: Largest focal length a normalised calibration plausibly has (a 3° telephoto).
MAX_NORMALISED_FOCAL = 20.0
#: Intrinsics calibrated at ``w x h`` apply to frames of another size only when the aspect ratios
#: differ by at most this (:func:`~packdepth.geometry.aspect_change`): sizes rounded by a pixel
#: or a codec's padding (1080 vs 1088 rows: 0.7 %) pass, 4:3 vs 3:2 (12.5 %) does not.
ASPECT_TOLERANCE = 0.05


def looks_normalised(fx: float, fy: float, cx: float, cy: float) -> bool:
    """Whether intrinsics could be fractions of the image size (``0 <= cx, cy <= 1``, small f)."""
    return 0 < fx <= MAX_NORMALISED_FOCAL and 0 < fy <= MAX_NORMALISED_FOCAL and (
        0 <= cx <= 1 and 0 <= cy <= 1
    )


def check_intrinsics(
    K: np.ndarray, width: int, height: int, source: str, normalised_hint: str = ""
) -> None:
    """Refuse a ``[3,3]`` matrix that cannot be the pixel intrinsics of a ``width x height`` image.

    ``normalised_hint`` ends the message when the values look normalised (what else the user
    can do where they came from).

    Raises:
        PackdepthError: naming ``source``: non-finite values, ``fx``/``fy`` not positive or too
            small to be pixels (see the module docstring; the message says when they look
            normalised and what they are in pixels), or the principal point outside the image.
    """
    K = np.asarray(K, np.float64)
    fx, fy, cx, cy = (float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]))
    if not np.isfinite(K[:2]).all():
        raise PackdepthError(f"{source}: intrinsics must be finite, got fx {fx}, fy {fy}, "
                             f"cx {cx}, cy {cy}")
    if fx <= 0 or fy <= 0:
        raise PackdepthError(f"{source}: fx and fy must be positive, got {fx:g} and {fy:g}")
    if fx < MIN_FOCAL_FRACTION * width or fy < MIN_FOCAL_FRACTION * height:
        message = (
            f"{source}: fx {fx:g}, fy {fy:g} cannot be pixels of a {width}x{height} image "
            f"(under {MIN_FOCAL_FRACTION:.0%} of its width/height: over 168 degrees of view)"
        )
        if looks_normalised(fx, fy, cx, cy):
            px = denormalise_intrinsics(torch.from_numpy(K[:3, :3].copy()), width, height)
            message += (
                "; they look normalised (fractions of the image size, monodepth2's form): in "
                f"pixels fx*W, fy*H, cx*W - 0.5, cy*H - 0.5 = {px[0, 0]:.6g}, {px[1, 1]:.6g}, "
                f"{px[0, 2]:.6g}, {px[1, 2]:.6g}{normalised_hint}"
            )
        raise PackdepthError(message)
    if not (-0.5 <= cx <= width - 0.5 and -0.5 <= cy <= height - 0.5):
        raise PackdepthError(
            f"{source}: principal point ({cx:g}, {cy:g}) px lies outside the {width}x{height} "
            f"image ([-0.5, {width - 0.5:g}] x [-0.5, {height - 0.5:g}])"
        )


def check_same_view(calibrated: tuple[int, int], frames: tuple[int, int], source: str) -> None:
    """Refuse intrinsics calibrated at ``(w, h)`` for frames of another aspect ratio.

    Raises:
        PackdepthError: naming ``source`` when :func:`~packdepth.geometry.aspect_change` exceeds
            :data:`ASPECT_TOLERANCE`.
    """
    (w, h), (W, H) = calibrated, frames
    if aspect_change((w, h), (W, H)) <= ASPECT_TOLERANCE:
        return
    hint = (
        ": width and height are swapped; intrinsics must describe the frames upright, as "
        "packdepth reads them (EXIF orientation and video rotation applied)"
        if aspect_change((w, h), (H, W)) <= ASPECT_TOLERANCE else ": not the same view"
    )
    raise PackdepthError(
        f"{source}: intrinsics for {w}x{h} (aspect {w / h:.3f}) but the frames are {W}x{H} "
        f"(aspect {W / H:.3f}); scaling would make fx/fy wrong by "
        f"{max(w / h * H / W, W / H * h / w):.3g}x{hint}"
    )


def intrinsics_at(
    K: np.ndarray, calibrated: tuple[int, int], frames: tuple[int, int], source: str
) -> np.ndarray:
    """``[3,3]`` intrinsics calibrated at ``calibrated = (w, h)`` moved to frames of ``(W, H)``.

    Scaled edges to edges (:func:`~packdepth.geometry.scale_intrinsics`) after
    :func:`check_same_view`; returned as given when the sizes are equal.
    """
    if tuple(calibrated) == tuple(frames):
        return np.asarray(K, np.float64)
    check_same_view(calibrated, frames, source)
    (w, h), (W, H) = calibrated, frames
    K = torch.as_tensor(np.asarray(K, np.float64))
    return scale_intrinsics(K, W / w, H / h).numpy()


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, for frames of ``width x height`` (``None`` = the frames').

    Checked on creation (and against the frames in :meth:`matrix`) by :func:`check_intrinsics`;
    normalised values with a size are converted to pixels with a warning.

    Raises:
        PackdepthError: naming ``source`` (e.g. the file they came from).
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int | None = None
    height: int | None = None
    source: str = field(default="intrinsics", compare=False)

    def __post_init__(self) -> None:
        try:
            values = tuple(float(getattr(self, k)) for k in ("fx", "fy", "cx", "cy"))
            size = [None if v is None else int(v) for v in (self.width, self.height)]
        except (TypeError, ValueError):
            raise PackdepthError(f"{self.source}: fx, fy, cx, cy, width, height must be "
                                 "numbers") from None
        if not all(math.isfinite(v) for v in values):
            raise PackdepthError(f"{self.source}: fx, fy, cx, cy must be finite, got {values}")
        if (size[0] is None) != (size[1] is None):
            raise PackdepthError(f"{self.source}: give both width and height, or neither")
        if size[0] is not None and (size[0] <= 0 or size[1] <= 0):
            raise PackdepthError(f"{self.source}: width and height must be positive, got "
                                 f"{size[0]}x{size[1]}")
        for name, value in zip(("fx", "fy", "cx", "cy", "width", "height"), (*values, *size),
                               strict=True):
            object.__setattr__(self, name, value)
        if self.fx <= 0 or self.fy <= 0:
            raise PackdepthError(f"{self.source}: fx and fy must be positive, got "
                                 f"{self.fx:g} and {self.fy:g}")
        if self.width is None:
            return  # checked against the frames in matrix()
        w, h = self.width, self.height
        if looks_normalised(*values) and (
            self.fx < MIN_FOCAL_FRACTION * w or self.fy < MIN_FOCAL_FRACTION * h
        ):
            px = denormalise_intrinsics(self._K(), w, h)
            converted = (float(px[0, 0]), float(px[1, 1]), float(px[0, 2]), float(px[1, 2]))
            warnings.warn(
                f"{self.source}: fx, fy, cx, cy = {', '.join(f'{v:g}' for v in values)} look "
                f"normalised (fractions of the image size); converted to pixels of {w}x{h}: "
                f"fx*W, fy*H, cx*W - 0.5, cy*H - 0.5 = {', '.join(f'{v:.6g}' for v in converted)}",
                stacklevel=3,
            )
            for name, value in zip(("fx", "fy", "cx", "cy"), converted, strict=True):
                object.__setattr__(self, name, value)
        check_intrinsics(self._K().numpy(), w, h, self.source)

    def _K(self) -> torch.Tensor:
        return torch.tensor([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]],
                            dtype=torch.float64)

    def matrix(self, width: int, height: int) -> np.ndarray:
        """``[3,3]`` intrinsics for ``width x height`` frames (scaled if calibrated at another).

        Raises:
            PackdepthError: values that cannot be pixels of the frames, or a calibration size of
                another aspect ratio (:func:`check_same_view`).
        """
        calibrated = (self.width, self.height) if self.width else (width, height)
        K = self._K().numpy()
        check_intrinsics(K, *calibrated, self.source,
                         "; given with width and height (in the file) they are converted")
        return intrinsics_at(K, calibrated, (width, height), self.source)


def load_intrinsics(path: str | os.PathLike) -> Intrinsics:
    """Read pixel intrinsics from a file: YAML/JSON ``{fx, fy, cx, cy[, width, height]}`` or
    ``{K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]][, width, height]}``, or three rows of three
    numbers (the matrix as text, e.g. 7-Scenes' ``camera-intrinsics.txt``), parsed by
    :func:`~packdepth.data.intrinsics_file.read_intrinsics_file`.

    Raises:
        PackdepthError: naming the file: missing, malformed, a matrix with skew or a bottom row
            other than ``0 0 1``, both ``K`` and ``fx``..., or values :class:`Intrinsics` refuses.
    """
    path = Path(path)
    return Intrinsics(**read_intrinsics_file(path), source=str(path))


def default_intrinsics(width: int, height: int, focal_factor: float = DEFAULT_FOCAL_FACTOR,
                       source: str = "frames") -> Intrinsics:
    """The documented guess (see the module docstring), with a warning."""
    f = focal_factor * max(width, height)
    warnings.warn(
        f"{source}: no intrinsics given; guessing fx = fy = {focal_factor} * max(W, H) = {f:.1f} "
        "px and a centred principal point. Pass an intrinsics file (fit --intrinsics, "
        "data.intrinsics) or data.fx/fy/cx/cy.",
        stacklevel=2,
    )
    return Intrinsics(f, f, (width - 1) / 2.0, (height - 1) / 2.0, source=source)


def resolve_intrinsics(intrinsics: Intrinsics | str | os.PathLike | None, width: int,
                       height: int, source: str) -> np.ndarray:
    """``[3,3]`` intrinsics for ``width x height`` frames from any of the accepted forms."""
    if intrinsics is None:
        intrinsics = default_intrinsics(width, height, source=source)
    elif not isinstance(intrinsics, Intrinsics):
        intrinsics = load_intrinsics(intrinsics)
    return intrinsics.matrix(width, height)
