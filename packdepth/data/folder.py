"""Image folders and video files as a :class:`SequenceDataset` (no ground truth).

Frames are the folder's images matching ``pattern`` (a glob on the file name, e.g.
``*.color.png``; all images without one), in natural order (``frame2.png`` before
``frame10.png``), every ``stride``-th one. They must all be of one size and one kind (colour,
8-bit grey, single-channel 16-bit: :func:`~packdepth.data.images.pixel_kind`): a folder mixing
colour frames and depth maps (7-Scenes' ``frame-N.color.png`` beside ``frame-N.depth.png``) is
refused, naming two files, until a ``pattern`` picks one kind. With ``skip_static > 0`` a frame
is dropped while it differs from the last kept frame by less than that mean absolute difference
(grayscale in [0, 1], at 64 px wide): the frames of a stopped car add nothing but a zero-motion
bias.

Frames are read upright and at full bit depth (:mod:`packdepth.data.images`, :mod:`.video`).
Intrinsics come from, in order: explicit :class:`Intrinsics`, a file
(:func:`~packdepth.data.intrinsics.load_intrinsics`: ``{fx, fy, cx, cy[, width, height]}``, a 3x3
``K``; scaled when ``width``/``height`` differ from the frames, refused for another aspect
ratio), or a guess with a warning (:mod:`packdepth.data.intrinsics`).

Videos are decoded with PyAV (``pip install 'packdepth[video]'``); the kept frames are held in
memory at the output size (``height * width * 3`` bytes each).
"""

from __future__ import annotations

import operator
import os
import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np
import torch
from PIL import Image

from packdepth.data.augment import AugmentConfig
from packdepth.data.images import image_header, pixel_kind, read_rgb
from packdepth.data.intrinsics import Intrinsics, load_intrinsics, resolve_intrinsics
from packdepth.data.sequence import FrameRecord, SequenceDataset, samples_from_sequence
from packdepth.data.video import read_video
from packdepth.errors import PackdepthError
from packdepth.geometry import scale_intrinsics

__all__ = [  # Intrinsics, load_intrinsics and read_video moved; importable here as before
    "Intrinsics",
    "folder_dataset",
    "frame_size",
    "keep_moving",
    "list_images",
    "load_intrinsics",
    "natural_key",
    "read_video",
    "thumbnail",
    "two_kinds",
    "video_dataset",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
THUMB_WIDTH = 64


def natural_key(name: str) -> list:
    """Sort key treating digit runs as numbers: ``img2`` < ``img10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def list_images(
    folder: str | os.PathLike, recursive: bool = False,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS, pattern: str | None = None,
) -> list[Path]:
    """The image files of a folder in natural order of their path below it.

    ``recursive`` also lists the subfolders (not hidden ones, ``.name``); ``extensions`` are the
    accepted suffixes (lower case); ``pattern`` keeps the files whose path below the folder
    matches that glob from the right (:meth:`pathlib.PurePath.match`: ``*.color.png`` matches
    names, ``seq1/*.png`` a subfolder's files).

    Raises:
        PackdepthError: no folder, no images, or none matching ``pattern`` (with an example of
            the names there).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PackdepthError(f"{folder}: image folder not found")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = [p for p in found if p.suffix.lower() in extensions and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    if not files:
        raise PackdepthError(f"{folder}: no images ({', '.join(extensions)})")
    files.sort(key=lambda p: natural_key(p.relative_to(folder).as_posix()))
    if pattern:
        matching = [p for p in files if PurePosixPath(p.relative_to(folder).as_posix())
                    .match(pattern)]
        if not matching:
            raise PackdepthError(f"{folder}: none of its {len(files)} images matches the pattern "
                                 f"{pattern!r} (e.g. {files[0].name})")
        files = matching
    return files


def two_kinds(files: Sequence[Path], modes: Sequence[str]) -> str | None:
    """``"a.png is colour (RGB), b.png is single-channel 16-bit (I;16)"``: the first of
    ``files`` and the first whose kind (:func:`~packdepth.data.images.pixel_kind` of its PIL mode
    in ``modes``) differs from it; ``None`` when all are of one kind."""
    for path, mode in zip(files[1:], modes[1:]):
        if pixel_kind(mode) != pixel_kind(modes[0]):
            return (f"{files[0].name} is {pixel_kind(modes[0])} ({modes[0]}), "
                    f"{path.name} is {pixel_kind(mode)} ({mode})")
    return None


def frame_size(files: Sequence[Path], folder: str | os.PathLike) -> tuple[int, int]:
    """The ``(width, height)`` all of ``files`` share, read from their headers.

    Raises:
        PackdepthError: files of two kinds (:func:`two_kinds`: colour frames beside depth maps),
            naming one of each and suggesting a pattern; a file of another size; an unreadable
            file.
    """
    headers = [image_header(p) for p in files]
    mixed = two_kinds(files, [mode for _, mode in headers])
    if mixed:
        raise PackdepthError(f"{folder}: images of two kinds: {mixed}; take one kind of frame "
                             f"with a pattern (fit --pattern, data.pattern), e.g. "
                             f"'*{''.join(files[0].suffixes)}'")
    size = headers[0][0]
    for path, (other, _) in zip(files[1:], headers[1:]):
        if other != size:
            raise PackdepthError(f"{path}: size {other} differs from {files[0].name}'s {size}")
    return size


def thumbnail(image: Image.Image) -> np.ndarray:
    """Grayscale ``[h,64]`` float32 in [0,1] for frame comparison."""
    h = max(1, round(image.height * THUMB_WIDTH / image.width))
    small = image.convert("L").resize((THUMB_WIDTH, h), Image.Resampling.BILINEAR)
    return np.asarray(small, np.float32) / 255.0


def keep_moving(thumbs: list[np.ndarray], threshold: float) -> list[int]:
    """Indices of frames differing from the last kept one by at least ``threshold`` (mean abs)."""
    if threshold <= 0 or not thumbs:
        return list(range(len(thumbs)))
    keep = [0]
    for i in range(1, len(thumbs)):
        if float(np.abs(thumbs[i] - thumbs[keep[-1]]).mean()) >= threshold:
            keep.append(i)
    return keep


def moving_frames(
    thumbs: list[np.ndarray], threshold: float, offsets: Sequence[int], source: str
) -> list[int]:
    """:func:`keep_moving`, refusing with the reason when the static frames dropped leave too
    few for one target and its context frames (``offsets``)."""
    keep = keep_moving(thumbs, threshold)
    needed = max(0, *offsets) - min(0, *offsets) + 1 if offsets else 1
    if len(keep) < needed <= len(thumbs):
        raise PackdepthError(
            f"{source}: {len(thumbs) - len(keep)} of {len(thumbs)} frames dropped as static "
            f"(skip_static {threshold:g}: each differs from the last kept frame by less than that "
            f"mean absolute difference), {len(keep)} left, {needed} needed for offsets "
            f"{tuple(offsets)}; lower data.skip_static or check the frames"
        )
    return keep


def folder_dataset(
    folder: str | os.PathLike,
    height: int,
    width: int,
    *,
    intrinsics: Intrinsics | str | os.PathLike | None = None,
    offsets: tuple[int, ...] = (-1, 1),
    stride: int = 1,
    skip_static: float = 0.0,
    augment: AugmentConfig | None = None,
    seed: int = 0,
    pattern: str | None = None,
) -> SequenceDataset:
    """A folder of frames (see the module docstring); ``pattern``: a glob the files must match.

    Raises:
        PackdepthError: no (matching) images, images of two kinds or sizes, bad intrinsics.
    """
    if stride < 1:
        raise PackdepthError(f"{folder}: stride must be >= 1, got {stride}")
    files = list_images(folder, pattern=pattern)
    size = frame_size(files, folder)
    files = files[::stride]
    K = resolve_intrinsics(intrinsics, *size, source=str(folder))
    if skip_static > 0:
        thumbs = [thumbnail(read_rgb(p)) for p in files]
        files = [files[i] for i in moving_frames(thumbs, skip_static, offsets, str(folder))]
    frames = [FrameRecord(image=p, K=K, name=p.stem) for p in files]
    return SequenceDataset(
        samples_from_sequence(frames, offsets), offsets, height, width,
        augment=augment, seed=seed, source=str(folder),
    )


def video_dataset(
    path: str | os.PathLike,
    height: int,
    width: int,
    *,
    intrinsics: Intrinsics | str | os.PathLike | None = None,
    offsets: tuple[int, ...] = (-1, 1),
    stride: int = 1,
    skip_static: float = 0.0,
    max_frames: int | None = None,
    augment: AugmentConfig | None = None,
    seed: int = 0,
) -> SequenceDataset:
    """A video file (see the module docstring); ``max_frames`` caps the frames kept."""
    path = Path(path)
    if stride < 1:
        raise PackdepthError(f"{path}: stride must be >= 1, got {stride}")
    frames, indices, times, (w0, h0) = read_video(path, width, height, stride, max_frames)
    K_native = resolve_intrinsics(intrinsics, w0, h0, source=str(path))
    K = scale_intrinsics(torch.from_numpy(K_native), width / w0, height / h0).numpy()
    keep = range(len(frames))
    if skip_static > 0:
        thumbs = [thumbnail(Image.fromarray(f)) for f in frames]
        keep = moving_frames(thumbs, skip_static, offsets, str(path))
    records = [
        FrameRecord(
            image=partial(operator.getitem, frames, i),
            K=K,
            name=f"{path.stem}/{indices[i]:06d}",
            timestamp=times[i],
        )
        for i in keep
    ]
    return SequenceDataset(
        samples_from_sequence(records, offsets), offsets, height, width,
        augment=augment, seed=seed, source=str(path),
    )
