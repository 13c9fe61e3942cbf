"""The depth video of ``packdepth infer``: each frame's image | depth colours, encoded with PyAV.

H.264 (libx264, ``yuv420p``, CRF 20, preset ``veryfast``: plays in browsers and players) when the
installed FFmpeg has it, else MPEG-4 part 2. The frame rate is the source video's (25 frames/s when
it declares none; ``stride`` divides it, so the video lasts as long as its source). ``yuv420p``
needs even dimensions: a frame of odd height gets one black row at the bottom (the panel's width,
``2W + 2``, is always even).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType

import numpy as np

from packdepth.errors import PackdepthError

DEFAULT_RATE = Fraction(25)
CODECS = ("libx264", "mpeg4")
X264_OPTIONS = {"crf": "20", "preset": "veryfast"}


def even(image: np.ndarray) -> np.ndarray:
    """``[H,W,3]`` padded with black to even ``H`` and ``W`` (bottom row, right column)."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)))


class DepthVideoWriter:
    """Encode ``[H,W,3]`` uint8 frames, all of one size, into a video file.

    Args:
        path: the video to write (``.mp4``); the caller makes it atomic (the file is complete
            only after :meth:`close`).
        rate: frames per second (``None``: :data:`DEFAULT_RATE`).

    Use as a context manager, or call :meth:`close`. Raises :class:`PackdepthError` when PyAV
    is missing or a frame's size differs from the first one's.
    """

    def __init__(self, path: str | Path, rate: Fraction | float | None = None) -> None:
        try:
            import av
        except ImportError:
            raise PackdepthError(
                f"{path}: writing videos needs PyAV (pip install 'packdepth[video]')"
            ) from None
        self._av = av
        self.path = Path(path)
        self.rate = Fraction(rate).limit_denominator(1001) if rate else DEFAULT_RATE
        self.container = av.open(str(self.path), mode="w")
        self.stream = None
        self.frames = 0

    def _open_stream(self, height: int, width: int) -> None:
        for codec in CODECS:
            try:
                self._av.codec.Codec(codec, "w")
            except Exception:
                continue
            self.stream = self.container.add_stream(codec, rate=self.rate)
            break
        else:
            raise PackdepthError(f"{self.path}: no H.264 or MPEG-4 encoder in this FFmpeg")
        self.stream.width, self.stream.height = width, height
        self.stream.pix_fmt = "yuv420p"
        if self.stream.codec_context.name == "libx264":
            self.stream.options = dict(X264_OPTIONS)

    def write(self, image: np.ndarray) -> None:
        """Append one ``[H,W,3]`` uint8 RGB frame."""
        image = even(np.ascontiguousarray(image, dtype=np.uint8))
        h, w = image.shape[:2]
        if self.stream is None:
            self._open_stream(h, w)
        elif (h, w) != (self.stream.height, self.stream.width):
            raise PackdepthError(f"{self.path}: frame of {w}x{h} after frames of "
                                 f"{self.stream.width}x{self.stream.height}")
        frame = self._av.VideoFrame.from_ndarray(image, format="rgb24")
        self.container.mux(self.stream.encode(frame))
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and close the file."""
        if self.container is None:
            return
        try:
            if self.stream is not None:
                self.container.mux(self.stream.encode(None))
        finally:
            self.container.close()
            self.container = None

    def __enter__(self) -> DepthVideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
