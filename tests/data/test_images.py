"""The shared image reader: every PIL mode scaled to RGB, 16-bit precision, EXIF orientation."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from packdepth.data.images import image_size, read_image, read_rgb, to_rgb
from packdepth.errors import PackdepthError
from tests.data.layouts import frame_pixels, grey_pixels

H, W = 24, 40
GREY = grey_pixels(3, W, H)  # [H,W] in [0, 1]
RGB8 = frame_pixels(5, W, H)  # [H,W,3] uint8
RGB16 = np.round(RGB8.astype(np.float64) * 257 + np.linspace(0, 200, W)[:, None]).clip(0, 65535)
RGB16 = RGB16.astype(np.uint16)  # 16-bit colour with detail below the 8-bit levels


def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG (grey or RGB) written by hand: Pillow writes no 16-bit colour PNG."""
    h, w = arr.shape[:2]
    color_type = 0 if arr.ndim == 2 else 2

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + arr[r].astype(">u2").tobytes() for r in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, color_type,
                                                                0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _tiff16(arr: np.ndarray) -> bytes:
    """An uncompressed little-endian 16-bit TIFF (grey or RGB) written by hand."""
    h, w = arr.shape[:2]
    c = 1 if arr.ndim == 2 else arr.shape[2]
    data = arr.astype("<u2").tobytes()
    bits_offset = 8 + len(data)
    bits = struct.pack("<" + "H" * c, *[16] * c) if c > 1 else b""
    tags = [(256, 3, 1, w), (257, 3, 1, h), (258, 3, c, bits_offset if c > 1 else 16),
            (259, 3, 1, 1), (262, 3, 1, 2 if c == 3 else 1), (273, 4, 1, 8), (277, 3, 1, c),
            (278, 3, 1, h), (279, 4, 1, len(data)), (284, 3, 1, 1)]
    entries = b"".join(
        struct.pack("<HHI", tag, kind, n)
        + (struct.pack("<HH", v, 0) if kind == 3 and not (tag == 258 and c > 1)
           else struct.pack("<I", v))
        for tag, kind, n, v in tags
    )
    ifd = struct.pack("<H", len(tags)) + entries + struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", bits_offset + len(bits)) + data + bits + ifd


def _grey16(grey: np.ndarray) -> np.ndarray:
    return np.round(grey * 65535).astype(np.uint16)


def _palette_image() -> tuple[Image.Image, np.ndarray]:
    index = (np.arange(H * W).reshape(H, W) % 200).astype(np.uint8)
    palette = np.stack([np.arange(256), 255 - np.arange(256), np.arange(256) // 2], 1)
    img = Image.fromarray(index, "L")
    img = img.convert("P")
    img.putpalette(palette.astype(np.uint8).ravel().tolist())
    img.frombytes(index.tobytes())  # the indices themselves, not a quantisation of them
    return img, palette[index] / 255.0


def _cases() -> dict[str, tuple[Image.Image, np.ndarray, float]]:
    """mode → (image, true RGB in [0, 1], tolerance)."""
    grey3 = np.repeat(GREY[..., None], 3, 2)
    L = Image.fromarray(np.round(GREY * 255).astype(np.uint8))
    alpha = Image.fromarray(np.full((H, W), 77, np.uint8))
    g16 = _grey16(GREY)
    rgb = Image.fromarray(RGB8)
    cmy = Image.fromarray(np.concatenate([255 - RGB8, np.zeros((H, W, 1), np.uint8)], 2), "CMYK")
    half, half16 = 0.5 / 255 + 1e-6, 0.5 / 65535 + 1e-7
    palette, palette_truth = _palette_image()
    return {
        "1": (Image.fromarray(GREY > 0.5), np.repeat((GREY > 0.5)[..., None], 3, 2), 0.0),
        "L": (L, grey3, half),
        "LA": (Image.merge("LA", (L, alpha)), grey3, half),
        "P": (palette, palette_truth, 1e-6),
        "RGB": (rgb, RGB8 / 255.0, 1e-6),
        "RGBA": (Image.merge("RGBA", (*rgb.split(), alpha)), RGB8 / 255.0, 1e-6),
        "CMYK": (cmy, RGB8 / 255.0, 1e-6),
        "YCbCr": (rgb.convert("YCbCr"), RGB8 / 255.0, 3.5 / 255),  # two rounded conversions
        "I;16": (Image.fromarray(g16), grey3, half16),
        "I;16B": (Image.frombytes("I;16B", (W, H), g16.astype(">u2").tobytes()), grey3, half16),
        "I;16L": (Image.frombytes("I;16L", (W, H), g16.astype("<u2").tobytes()), grey3, half16),
        "I": (Image.fromarray(g16.astype(np.int32)), grey3, half16),
        "F": (Image.fromarray(GREY.astype(np.float32)), grey3, 1e-6),
        "RGB 16-bit PNG": (Image.open(io.BytesIO(_png16(RGB16))), RGB16 / 65535, 1 / 255),
        "RGB 16-bit TIFF": (Image.open(io.BytesIO(_tiff16(RGB16))), RGB16 / 65535, 1 / 255),
        "grey 16-bit TIFF": (Image.open(io.BytesIO(_tiff16(g16))), grey3, half16),
    }


@pytest.mark.parametrize("case", list(_cases()))
def test_every_mode_reads_as_rgb_scaled_to_its_range(case):
    image, truth, tol = _cases()[case]
    floats = to_rgb(image)
    assert floats.shape == (H, W, 3) and floats.dtype == np.float32
    np.testing.assert_allclose(floats, truth, atol=tol)
    uint8 = to_rgb(image, np.uint8)
    assert uint8.dtype == np.uint8
    assert np.abs(uint8 / 255.0 - truth).max() <= max(tol, 0.5 / 255 + 1e-6)


@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_8_and_16_bit_files_of_one_picture_read_alike(tmp_path, fmt):
    for bits, values in ((8, np.round(GREY * 255).astype(np.uint8)), (16, _grey16(GREY))):
        Image.fromarray(values).save(tmp_path / f"{bits}.{fmt.lower()}", format=fmt)
    eight, sixteen = (tmp_path / f"{b}.{fmt.lower()}" for b in (8, 16))
    assert np.abs(read_image(eight) - read_image(sixteen)).max() <= 0.5 / 255 + 1e-6
    a = np.asarray(read_rgb(eight), np.int16)
    b = np.asarray(read_rgb(sixteen), np.int16)
    assert np.abs(a - b).max() <= 1 and b.mean() < 250  # not clipped to white
    np.testing.assert_allclose(read_image(sixteen)[..., 1], GREY, atol=0.5 / 65535 + 1e-7)


def test_16_bit_precision_is_kept_in_floats(tmp_path):
    values = (30000 + np.arange(H * W).reshape(H, W) % 200).astype(np.uint16)  # < 1/255 apart
    (tmp_path / "fine.png").write_bytes(_png16(values))
    got = read_image(tmp_path / "fine.png")[..., 0] * 65535
    np.testing.assert_allclose(got, values, atol=0.01)


def test_values_outside_the_range_are_refused():
    beyond = Image.fromarray(np.array([[0, 70000]], np.int32))
    with pytest.raises(PackdepthError, match=r"c.png: 32-bit integer image with values 0..70000"):
        to_rgb(beyond, source="c.png")
    with pytest.raises(PackdepthError, match=r"x.tif: floating-point image with values 0..2"):
        to_rgb(Image.fromarray(np.array([[0.0, 2.0]], np.float32)), source="x.tif")
    with pytest.raises(PackdepthError, match=r"non-finite"):
        to_rgb(Image.fromarray(np.array([[0.0, np.nan]], np.float32)))


def test_unreadable_file_names_it(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image at all")
    with pytest.raises(PackdepthError, match=r"bad.png: not a readable image"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(PackdepthError, match=r"gone.png: image not found"):
        image_size(tmp_path / "gone.png")


#: EXIF orientation → the stored pixels of an upright picture U. Orientation names where the
#: stored 0th row and 0th column lie in the upright picture (EXIF 2.3, tag 0x0112).
STORED = {
    1: lambda u: u,  # row 0 top, column 0 left
    2: lambda u: u[:, ::-1],  # top, right
    3: lambda u: u[::-1, ::-1],  # bottom, right
    4: lambda u: u[::-1],  # bottom, left
    5: lambda u: u.transpose(1, 0, 2),  # left, top
    6: lambda u: np.rot90(u, 1),  # right, top: stored[i, j] = U[j, W-1-i]
    7: lambda u: u[::-1, ::-1].transpose(1, 0, 2),  # right, bottom
    8: lambda u: np.rot90(u, -1),  # left, bottom: stored[i, j] = U[H-1-j, i]
}


def _exif(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_png_reads_as_the_upright_original(tmp_path, orientation):
    upright = frame_pixels(2, 48, 32)  # 48 wide, 32 high
    path = tmp_path / "photo.png"
    Image.fromarray(np.ascontiguousarray(STORED[orientation](upright))).save(
        path, exif=_exif(orientation))
    np.testing.assert_array_equal(read_image(path, np.uint8), upright)
    assert image_size(path) == (48, 32)
    with Image.open(path) as img:
        np.testing.assert_array_equal(to_rgb(img, np.uint8), upright)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_jpeg_reads_upright(tmp_path, orientation):
    upright = frame_pixels(4, 48, 32)
    stored = np.ascontiguousarray(STORED[orientation](upright))
    tagged, plain = tmp_path / "tagged.jpg", tmp_path / "plain.jpg"
    Image.fromarray(stored).save(tagged, quality=95, exif=_exif(orientation))
    Image.fromarray(stored).save(plain, quality=95)
    decoded = read_image(plain, np.uint8)  # the stored pixels as the codec returns them
    got = read_image(tagged, np.uint8)
    inverse = {6: 8, 8: 6}.get(orientation, orientation)  # the others are their own inverse
    np.testing.assert_array_equal(got, np.ascontiguousarray(STORED[inverse](decoded)))
    assert np.abs(got.astype(int) - upright).mean() < 3  # JPEG loss only
    assert image_size(tagged) == (48, 32)


def _move_chunk_after_data(png: bytes, kind: bytes) -> bytes:
    """The PNG with chunk ``kind`` moved from before to after its image data."""
    chunks, pos = [], 8
    while pos < len(png):
        length = struct.unpack(">I", png[pos:pos + 4])[0]
        chunks.append(png[pos:pos + 12 + length])
        pos += 12 + length
    moved = [c for c in chunks if c[4:8] == kind]
    rest = [c for c in chunks if c[4:8] != kind]
    assert moved, f"no {kind!r} chunk"
    return png[:8] + b"".join(rest[:-1] + moved + rest[-1:])  # before IEND


def test_png_exif_after_the_image_data_is_found_by_image_size(tmp_path):
    upright = frame_pixels(1, 48, 32)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(STORED[6](upright))).save(buffer, "PNG", exif=_exif(6))
    path = Path(tmp_path / "late.png")
    path.write_bytes(_move_chunk_after_data(buffer.getvalue(), b"eXIf"))
    assert image_size(path) == (48, 32)
    np.testing.assert_array_equal(read_image(path, np.uint8), upright)
