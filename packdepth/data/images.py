"""The one image reader of packdepth: any image file or PIL image as upright RGB.

Every image input (image folders and their static-frame thumbnails, video frames, the KITTI
layout, DDAD, evaluation, inference) goes through :func:`to_rgb` / :func:`read_image`, so they
agree on two things:

**Orientation.** Images are returned upright, as viewers show them: an EXIF orientation tag
(JPEG, PNG ``eXIf``, TIFF, WebP; or XMP ``tiff:Orientation``) is applied as
``PIL.ImageOps.exif_transpose`` applies it. :func:`image_size` gives that upright size from the
file's header. Intrinsics describe the images as read here, upright (OpenCV's ``imread`` also
applies the tag by default): a calibration of the sensor's landscape frames does not fit portrait
phone photos (see :mod:`packdepth.data.intrinsics`, which refuses the swapped sizes).

**Bit depth.** Values are scaled by their format's full range, never clipped:

==============================  ==========================================================
PIL mode                        read as
==============================  ==========================================================
``1, L, P, RGB, YCbCr, CMYK``   PIL's conversion to RGB, ``/ 255`` (grey is copied to R, G, B)
``LA, PA, RGBA, RGBX, ...``     the same; alpha is dropped (not composited)
``I;16, I;16L, I;16B, I;16N``   16-bit samples (16-bit grey PNG/TIFF), ``/ 65535``
``I``                           32-bit integers holding 16-bit samples (older Pillow's 16-bit
                                PNGs), ``/ 65535``; values outside ``0..65535`` are refused
``F``                           32-bit float, taken as ``[0, 1]``; values outside are refused
16-bit-per-channel RGB(A)       Pillow reads them as 8-bit ``RGB``/``RGBA`` (the high byte:
                                within one 8-bit level of ``round(v / 257)``)
==============================  ==========================================================

16-bit data that uses only part of the range (12-bit sensors in a 16-bit container) reads dark:
PNG and TIFF define 16-bit samples over the full range. Colour profiles (ICC) are not applied.
Floats keep the 16-bit precision (``dtype=np.float32``); ``np.uint8`` rounds ``v / 257``. The
training datasets hold frames in 8 bits (their memory cache); evaluation (``load_image``) and
``load_frame`` read floats.

Image arrays (``packdepth.predict``'s numpy arrays and tensors) follow the same table through
:func:`array_to_rgb`: ``uint8`` as 8-bit files, ``uint16`` as 16-bit ones, floats as ``F``
(NaN, inf and values outside [0, 1] refused), grey copied to R, G, B, alpha dropped.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from packdepth.errors import PackdepthError

ORIENTATION = ExifTags.Base.Orientation  # 0x0112
#: EXIF orientations that swap width and height (the stored image is transposed).
TRANSPOSED = (5, 6, 7, 8)
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_METADATA_CHUNKS = (b"eXIf", b"tEXt", b"zTXt", b"iTXt")


@contextlib.contextmanager
def open_image(path: str | os.PathLike, what: str = "image") -> Iterator[Image.Image]:
    """``PIL.Image.open`` whose failures, in the block too, are one-line errors naming ``path``."""
    path = Path(path)
    try:
        with Image.open(path) as img:
            yield img
    except FileNotFoundError:
        raise PackdepthError(f"{path}: {what} not found") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise PackdepthError(f"{path}: not a readable {what} ({exc})") from None


def _orientation(exif: Image.Exif) -> int:
    try:
        value = int(exif.get(ORIENTATION, 1))
    except (TypeError, ValueError):
        return 1
    return value if 1 <= value <= 8 else 1


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation tag of an image (1 = upright, 2-8 the other seven; 1 when absent)."""
    return _orientation(image.getexif())


def _png_metadata_after_data(path: Path) -> bool:
    """Whether a PNG holds metadata chunks after its image data (Pillow parses those, and with
    them an EXIF orientation, only when it decodes the image)."""
    with open(path, "rb") as f:
        if f.read(8) != _PNG_SIGNATURE:
            return True  # let Pillow decide
        seen_data = False
        while header := f.read(8):
            if len(header) < 8:
                return False
            length, kind = struct.unpack(">I4s", header)
            if kind == b"IDAT":
                seen_data = True
            elif seen_data and kind in _PNG_METADATA_CHUNKS:
                return True
            elif kind == b"IEND":
                return False
            f.seek(length + 4, os.SEEK_CUR)  # data and CRC
    return False


def image_header(path: str | os.PathLike) -> tuple[tuple[int, int], str]:
    """``((width, height), mode)`` of an image file: the upright size :func:`read_image` returns
    and the PIL mode of its samples, read from the header without decoding the pixels (a PNG
    with metadata after its pixel data is decoded).

    Raises:
        PackdepthError: a missing or unreadable file.
    """
    path = Path(path)
    with open_image(path) as img:
        if img.format == "PNG" and not _png_metadata_after_data(path):
            # what the header holds (PngImageFile.getexif would decode the pixels to look further)
            orientation = _orientation(Image.Image.getexif(img))
        else:
            orientation = exif_orientation(img)
        (w, h), mode = img.size, img.mode
    return ((h, w) if orientation in TRANSPOSED else (w, h)), mode


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """``(width, height)`` of an image file as :func:`read_image` returns it (upright), from its
    header (:func:`image_header`). Raises :class:`PackdepthError` for a missing or unreadable
    file."""
    return image_header(path)[0]


def pixel_kind(mode: str) -> str:
    """What a PIL mode's samples are: ``"colour"``, ``"8-bit grey"``, or ``"single-channel
    16-bit"`` (16-bit, 32-bit integer or float samples: depth maps rather than camera frames)."""
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        return "single-channel 16-bit"
    return "8-bit grey" if mode in ("1", "L", "LA") else "colour"


def upright(image: Image.Image) -> Image.Image:
    """The image as viewers show it: its EXIF orientation applied (the same image if upright)."""
    if exif_orientation(image) == 1:
        return image
    return ImageOps.exif_transpose(image)


def _samples(image: Image.Image, source: str) -> tuple[np.ndarray, float]:
    """``[H,W]`` or ``[H,W,3]`` samples and the value that stands for full intensity."""
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES:
        return np.asarray(image).astype(np.float32), 65535.0
    if mode == "I":
        arr = np.asarray(image)
        lo, hi = int(arr.min(initial=0)), int(arr.max(initial=0))
        if lo < 0 or hi > 65535:
            raise PackdepthError(
                f"{source}: 32-bit integer image with values {lo}..{hi}; expected 16-bit samples "
                "(0..65535): save it as 8- or 16-bit"
            )
        return arr.astype(np.float32), 65535.0
    if mode == "F":
        arr = np.asarray(image, dtype=np.float32)
        problem = _float_problem(arr)
        if problem:
            raise PackdepthError(f"{source}: floating-point image with {problem}")
        return arr, 1.0
    try:
        rgb = image.convert("RGB")
    except ValueError:
        try:
            rgb = image.convert("RGBA").convert("RGB")
        except ValueError:
            raise PackdepthError(f"{source}: unsupported colour mode {mode}") from None
    return np.asarray(rgb), 255.0


def to_rgb(
    image: Image.Image, dtype: type = np.float32, *, source: str = "image"
) -> np.ndarray:
    """Any PIL image as upright RGB (see the module docstring for every mode).

    Args:
        image: a PIL image of any mode, e.g. just opened; its EXIF orientation is applied.
        dtype: ``np.float32`` (values in [0, 1], 16-bit precision kept) or ``np.uint8``.
        source: what to name in errors (e.g. the file).

    Returns:
        ``[H,W,3]`` array of ``dtype``, ``H x W`` the upright size.

    Raises:
        PackdepthError: unreadable pixel data, an ``I`` image beyond 16 bits, an ``F`` image
            outside [0, 1], or a mode PIL cannot convert.
    """
    if np.dtype(dtype) not in (np.float32, np.uint8):
        raise ValueError(f"dtype must be np.float32 or np.uint8, got {dtype}")
    image = upright(image)
    return _scaled(*_samples(image, source), dtype)


def _float_problem(arr: np.ndarray, tolerance: float = 0.0) -> str:
    """What is wrong with float intensities (``""`` when all are finite and in [0, 1])."""
    finite = np.isfinite(arr)
    if not finite.all():
        return (f"{arr.size - int(finite.sum())} non-finite values (NaN or inf); expected "
                "intensities in [0, 1]")
    lo, hi = float(arr.min(initial=0)), float(arr.max(initial=0))
    if lo < -tolerance or hi > 1.0 + tolerance:
        return f"values {lo:.4g}..{hi:.4g}; expected intensities in [0, 1]"
    return ""


def _scaled(arr: np.ndarray, full: float, dtype: type) -> np.ndarray:
    """``[H,W]`` or ``[H,W,3]`` samples whose full intensity is ``full`` as ``[H,W,3]`` of
    ``dtype`` (float32 in [0, 1], or uint8)."""
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    if np.dtype(dtype) == np.uint8:
        if full == 255.0:
            return np.ascontiguousarray(arr, dtype=np.uint8)
        return np.round(arr * (255.0 / full)).astype(np.uint8)
    out = arr.astype(np.float32)
    return out if full == 1.0 else out / np.float32(full)


#: Array dtypes :func:`array_to_rgb` takes as integers, and the value of full intensity (as the
#: 8- and 16-bit files of the table above).
INTEGER_FULL = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
#: Channel counts of image arrays: grey, RGB, RGBA (alpha dropped, as for files).
CHANNELS = (1, 3, 4)
#: Float arrays may stray this far outside [0, 1] (rounding); they are clipped to it.
FLOAT_TOLERANCE = 1e-3


def array_to_rgb(array: np.ndarray, *, channels_first: bool = False) -> np.ndarray:
    """An image array as ``[H,W,3]`` float32 RGB in [0, 1], scaled as files of its depth are.

    Args:
        array: ``[H,W]`` grey, or ``[H,W,C]`` / ``[C,H,W]`` with ``C`` 1 (grey), 3 (RGB) or 4
            (RGBA: alpha dropped); ``uint8`` (``/ 255``), ``uint16`` (``/ 65535``, as a 16-bit
            PNG) or floats in [0, 1] (within :data:`FLOAT_TOLERANCE`, then clipped).
        channels_first: how to read a 3-D array whose first and last sizes could both be
            channels (``[3,H,3]``): ``True`` as ``[C,H,W]`` (torch's convention), ``False`` as
            ``[H,W,C]`` (PIL's and OpenCV's). Otherwise the channel axis is the one that fits.

    Raises:
        ValueError: an empty array, another number of dimensions or channels, another dtype
            (bool, signed integers, ...), NaN or inf, floats outside [0, 1]; the message says
            what is accepted.
    """
    arr = np.asarray(array)
    shape = list(arr.shape)
    if arr.size == 0:
        raise ValueError(f"image: empty array of shape {shape}")
    if arr.ndim == 3:
        first, last = arr.shape[0] in CHANNELS, arr.shape[-1] in CHANNELS
        if not (first or last):
            raise ValueError(f"image: expected [H,W], [H,W,C] or [C,H,W] with C = 1, 3 or 4, "
                             f"got {shape}")
        if first and (channels_first or not last):
            arr = np.moveaxis(arr, 0, -1)
        arr = arr[..., 0] if arr.shape[-1] == 1 else arr[..., :3]
    elif arr.ndim != 2:
        hint = " (one image: index a batch)" if arr.ndim == 4 else ""
        raise ValueError(f"image: expected [H,W], [H,W,C] or [C,H,W], got {shape}{hint}")
    if arr.dtype in INTEGER_FULL:
        return _scaled(arr, INTEGER_FULL[arr.dtype], np.float32)
    if arr.dtype.kind != "f":
        raise ValueError(f"image: dtype {arr.dtype} is not an image's: expected uint8 (0-255), "
                         "uint16 (0-65535) or floats in [0, 1]")
    problem = _float_problem(arr, FLOAT_TOLERANCE)
    if problem:
        hint = "; divide 0-255 values by 255" if problem.startswith("values") else ""
        raise ValueError(f"image: {problem}{hint}")
    return _scaled(np.clip(arr, 0.0, 1.0).astype(np.float32), 1.0, np.float32)


def read_image(path: str | os.PathLike, dtype: type = np.float32) -> np.ndarray:
    """An image file as upright RGB: :func:`to_rgb` of the decoded file.

    Args:
        path: any format Pillow reads (PNG, JPEG, TIFF, BMP, WebP, PPM, ...).
        dtype: ``np.float32`` (in [0, 1], 16-bit precision kept) or ``np.uint8``.

    Returns:
        ``[H,W,3]`` array of ``dtype`` (``W x H`` = :func:`image_size`).

    Raises:
        PackdepthError: a missing or unreadable file, or pixel values :func:`to_rgb` refuses;
            the message names the file.
    """
    with open_image(path) as img:
        img.load()
        return to_rgb(img, dtype, source=str(path))


def read_rgb(path: str | os.PathLike) -> Image.Image:
    """An image file as an upright 8-bit RGB PIL image (:func:`read_image` with ``np.uint8``)."""
    return Image.fromarray(read_image(path, np.uint8), "RGB")
