"""Image folders and video files as a :class:`SequenceDataset` (no ground truth).

Frames are taken in natural order (``frame2.png`` before ``frame10.png``), every ``stride``-th
one; with ``skip_static > 0`` a frame is dropped while it differs from the last kept frame by less
than that mean absolute difference (grayscale in [0, 1], at 64 px wide): the frames of a stopped
car add nothing but a zero-motion bias.

Intrinsics come from, in order: explicit :class:`Intrinsics`, a YAML/JSON file
``{fx, fy, cx, cy[, width, height]}`` (scaled when ``width``/``height`` differ from the frames),
or a guess with a warning: COLMAP's default for images without EXIF focal length,
``fx = fy = 1.2 * max(W, H)`` (about 45° across the long side), principal point at the image
centre ``((W - 1) / 2, (H - 1) / 2)`` in packdepth's pixel-centre convention. Dashcams are usually
much wider (KITTI: ``fx ≈ 0.58 W``), so pass real intrinsics when you have them.

Videos are decoded with PyAV (``pip install 'packdepth[video]'``); the kept frames are held in
memory at the output size (``height * width * 3`` bytes each).
"""

from __future__ import annotations

import operator
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np
import torch
import yaml
from PIL import Image

from packdepth.data.augment import AugmentConfig
from packdepth.data.sequence import (
    FrameRecord,
    SequenceDataset,
    image_size,
    read_rgb,
    samples_from_sequence,
)
from packdepth.errors import PackdepthError
from packdepth.geometry import scale_intrinsics

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm")
DEFAULT_FOCAL_FACTOR = 1.2
THUMB_WIDTH = 64


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics in pixels, for frames of ``width x height`` (``None`` = the frames')."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int | None = None
    height: int | None = None

    def matrix(self, width: int, height: int) -> np.ndarray:
        """``[3,3]`` intrinsics for ``width x height`` frames (scaled if calibrated at another)."""
        K = torch.tensor(
            [[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]], dtype=torch.float64
        )
        if self.width and self.height and (self.width, self.height) != (width, height):
            K = scale_intrinsics(K, width / self.width, height / self.height)
        return K.numpy()


def load_intrinsics(path: str | os.PathLike) -> Intrinsics:
    """Read ``{fx, fy, cx, cy[, width, height]}`` from a YAML or JSON file."""
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: intrinsics file not found")
    try:
        data = yaml.safe_load(path.read_text(errors="replace"))
    except yaml.YAMLError as exc:
        raise PackdepthError(f"{path}: not valid YAML/JSON ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise PackdepthError(f"{path}: expected a mapping with fx, fy, cx, cy")
    missing = [k for k in ("fx", "fy", "cx", "cy") if k not in data]
    if missing:
        raise PackdepthError(f"{path}: missing {', '.join(missing)}")
    try:
        values = {k: float(data[k]) for k in ("fx", "fy", "cx", "cy")}
        size = {k: int(data[k]) for k in ("width", "height") if data.get(k) is not None}
    except (TypeError, ValueError):
        raise PackdepthError(f"{path}: fx, fy, cx, cy, width, height must be numbers") from None
    if values["fx"] <= 0 or values["fy"] <= 0:
        raise PackdepthError(f"{path}: fx and fy must be positive")
    return Intrinsics(**values, **size)


def default_intrinsics(width: int, height: int, focal_factor: float = DEFAULT_FOCAL_FACTOR,
                       source: str = "frames") -> Intrinsics:
    """The documented guess (see the module docstring), with a warning."""
    f = focal_factor * max(width, height)
    warnings.warn(
        f"{source}: no intrinsics given; guessing fx = fy = {focal_factor} * max(W, H) = {f:.1f} "
        "px and a centred principal point. Pass an intrinsics file or --fx --fy --cx --cy.",
        stacklevel=2,
    )
    return Intrinsics(f, f, (width - 1) / 2.0, (height - 1) / 2.0)


def resolve_intrinsics(intrinsics: Intrinsics | str | os.PathLike | None, width: int,
                       height: int, source: str) -> np.ndarray:
    """``[3,3]`` intrinsics for ``width x height`` frames from any of the accepted forms."""
    if intrinsics is None:
        intrinsics = default_intrinsics(width, height, source=source)
    elif not isinstance(intrinsics, Intrinsics):
        intrinsics = load_intrinsics(intrinsics)
    return intrinsics.matrix(width, height)


def natural_key(name: str) -> list:
    """Sort key treating digit runs as numbers: ``img2`` < ``img10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def list_images(
    folder: str | os.PathLike, recursive: bool = False,
    extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
) -> list[Path]:
    """The image files of a folder in natural order of their path below it.

    ``recursive`` also lists the subfolders (not hidden ones, ``.name``); ``extensions`` are the
    accepted suffixes (lower case).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise PackdepthError(f"{folder}: image folder not found")
    found = folder.rglob("*") if recursive else folder.iterdir()
    files = [p for p in found if p.suffix.lower() in extensions and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    if not files:
        raise PackdepthError(f"{folder}: no images ({', '.join(extensions)})")
    return sorted(files, key=lambda p: natural_key(p.relative_to(folder).as_posix()))


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
) -> SequenceDataset:
    """A folder of frames (see the module docstring)."""
    if stride < 1:
        raise PackdepthError(f"{folder}: stride must be >= 1, got {stride}")
    files = list_images(folder)[::stride]
    size = image_size(files[0])
    for path in files[1:]:
        if image_size(path) != size:
            raise PackdepthError(
                f"{path}: size {image_size(path)} differs from {files[0].name}'s {size}"
            )
    if skip_static > 0:
        thumbs = [thumbnail(read_rgb(p)) for p in files]
        files = [files[i] for i in keep_moving(thumbs, skip_static)]
    K = resolve_intrinsics(intrinsics, *size, source=str(folder))
    frames = [FrameRecord(image=p, K=K, name=p.stem) for p in files]
    return SequenceDataset(
        samples_from_sequence(frames, offsets), offsets, height, width,
        augment=augment, seed=seed, source=str(folder),
    )


@dataclass(frozen=True)
class VideoFrame:
    """One decoded video frame.

    Attributes:
        index: the frame's index in the video (0-based, before any stride).
        time: its presentation time in seconds, ``None`` when the container has none.
        image: the picture, RGB at the video's native resolution.
        rate: the stream's average frame rate (frames/s), ``None`` when unknown.
        length: the number of frames the container declares, ``None`` when it does not say.
    """

    index: int
    time: float | None
    image: Image.Image
    rate: Fraction | None = None
    length: int | None = None


def decode_video(
    path: str | os.PathLike, stride: int = 1, max_frames: int | None = None
) -> Iterator[VideoFrame]:
    """Decode every ``stride``-th frame of a video (any file PyAV reads), one at a time.

    Raises:
        PackdepthError: the file is missing, PyAV is not installed, the file has no video stream
            or cannot be decoded, or no frame was decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: video file not found")
    try:
        import av
    except ImportError:
        raise PackdepthError(
            f"{path}: reading videos needs PyAV (pip install 'packdepth[video]')"
        ) from None
    count = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise PackdepthError(f"{path}: no video stream")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate) if stream.average_rate else None
            for i, frame in enumerate(container.decode(stream)):
                if i % stride:
                    continue
                time = None if frame.time is None else float(frame.time)
                yield VideoFrame(i, time, frame.to_image().convert("RGB"), rate,
                                 stream.frames or None)
                count += 1
                if max_frames is not None and count >= max_frames:
                    break
    except av.FFmpegError as exc:
        raise PackdepthError(f"{path}: not a readable video ({exc})") from None
    if not count:
        raise PackdepthError(f"{path}: no frames decoded")


def read_video(
    path: str | os.PathLike, width: int, height: int, stride: int = 1,
    max_frames: int | None = None,
) -> tuple[list[np.ndarray], list[int], list[float | None], tuple[int, int]]:
    """Decode every ``stride``-th frame (:func:`decode_video`), resized to ``width x height``.

    Returns:
        frames (``[H,W,3]`` uint8), their indices in the video, their times in seconds (``None``
        when the container has none) and the native ``(width, height)``.
    """
    frames, indices, times, native = [], [], [], (0, 0)
    for frame in decode_video(path, stride, max_frames):
        image = frame.image
        native = image.size
        if native != (width, height):
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        frames.append(np.asarray(image))
        indices.append(frame.index)
        times.append(frame.time)
    return frames, indices, times, native


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
    keep = keep_moving([thumbnail(Image.fromarray(f)) for f in frames], skip_static)
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
