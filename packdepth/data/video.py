"""Video files decoded upright with PyAV (``pip install 'packdepth[video]'``).

Phones record the sensor's frames as they are and store how to show them: a display matrix (MP4
``tkhd``, Matroska projection; FFmpeg hands it to every decoded frame as ``DISPLAYMATRIX`` side
data, PyAV's ``VideoFrame.rotation`` reads its angle). :func:`read_video` applies it as players
(and ``ffmpeg``'s autorotate) do, so frames, their size and the intrinsics that must fit them are
those of the upright picture (see :mod:`packdepth.data.intrinsics`).

The matrix maps a coded pixel ``(p, q)`` (column, row) to ``(a p + c q, b p + d q)`` plus a shift
(libavutil/display.h, entries ``a, b, ., c, d, ...`` in 16.16 fixed point). Quarter turns and
mirrors are applied exactly; other angles are refused.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

from packdepth.data.images import to_rgb
from packdepth.errors import PackdepthError


def display_matrix(frame) -> np.ndarray | None:
    """A decoded frame's ``[9]`` int32 display matrix, or ``None`` when it has none."""
    for data in getattr(frame, "side_data", ()):
        kind = getattr(data, "type", None)
        if str(getattr(kind, "name", kind)).upper().endswith("DISPLAYMATRIX"):
            matrix = np.frombuffer(bytes(data), dtype=np.int32)
            return matrix[:9] if matrix.size >= 9 else None
    return None


def apply_display_matrix(pixels: np.ndarray, matrix: np.ndarray | None, source: str) -> np.ndarray:
    """``[H,W,...]`` coded pixels as the display matrix shows them (see the module docstring).

    Raises:
        PackdepthError: naming ``source`` for a rotation that is not a multiple of 90 degrees.
    """
    if matrix is None:
        return pixels
    a, b, c, d = (float(matrix[i]) / 65536.0 for i in (0, 1, 3, 4))
    if abs(a) < 0.5 and abs(d) < 0.5 and abs(b) > 0.5 and abs(c) > 0.5:  # a quarter turn
        out = np.swapaxes(pixels, 0, 1)  # out[p, q] = pixels[q, p]: rows from p, columns from q
        rows, cols = b, c
    elif abs(b) < 0.5 and abs(c) < 0.5 and abs(a) > 0.5 and abs(d) > 0.5:
        out, rows, cols = pixels, d, a
    else:
        angle = -np.degrees(np.arctan2(b, a))  # counter-clockwise, as VideoFrame.rotation
        raise PackdepthError(
            f"{source}: display rotation of {angle:.1f} degrees is not a multiple of 90; "
            "re-encode the video upright"
        )
    if rows < 0:
        out = out[::-1]
    if cols < 0:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


@dataclass(frozen=True)
class VideoFrame:
    """One decoded video frame, upright.

    Attributes:
        index: the frame's index in the video (0-based, before any stride).
        time: its presentation time in seconds, ``None`` when the container has none.
        image: the picture, 8-bit RGB at the video's native upright resolution.
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
    """Decode every ``stride``-th frame of a video (any file PyAV reads) upright, one at a time.

    Raises:
        PackdepthError: naming the file: missing, PyAV not installed, no video stream, not
            decodable, no frame decoded, or a display rotation that is not a quarter turn.
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
                pixels = apply_display_matrix(
                    to_rgb(frame.to_image(), np.uint8, source=str(path)),
                    display_matrix(frame), str(path),
                )
                time = None if frame.time is None else float(frame.time)
                yield VideoFrame(i, time, Image.fromarray(pixels), rate, stream.frames or None)
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
    """Decode every ``stride``-th frame upright (:func:`decode_video`), resized to
    ``width x height``.

    Returns:
        frames (``[H,W,3]`` uint8), their indices in the video, their times in seconds (``None``
        when the container has none) and the native upright ``(width, height)``.

    Raises:
        PackdepthError: as :func:`decode_video`.
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
