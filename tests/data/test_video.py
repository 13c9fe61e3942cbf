"""Videos decode upright: the display matrix phones write (rotation, mirrors) is applied."""

from __future__ import annotations

import av
import numpy as np
import pytest

from packdepth.data.folder import video_dataset
from packdepth.data.video import apply_display_matrix, read_video
from packdepth.errors import PackdepthError
from tests.data.layouts import frame_pixels

UW, UH = 48, 64  # the upright picture: portrait, as a phone held upright shows it


def _write(path, coded: list[np.ndarray], codec: str, pix_fmt: str, options: dict,
           rotation: int, hflip: bool) -> None:
    """A video of the ``coded`` frames whose display matrix says: turn ``rotation`` degrees
    counter-clockwise, then mirror left-right if ``hflip`` (PyAV's ``set_display_rotation``)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=10)
        stream.height, stream.width = coded[0].shape[:2]
        stream.pix_fmt, stream.options = pix_fmt, options
        stream.set_display_rotation(rotation, hflip=hflip)
        for f in coded:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        container.mux(stream.encode())


def _coded(upright: np.ndarray, rotation: int, hflip: bool) -> np.ndarray:
    """The pixels to store so that turning them ``rotation``° counter-clockwise and then
    mirroring gives ``upright`` (np.rot90 turns counter-clockwise)."""
    unmirrored = upright[:, ::-1] if hflip else upright
    return np.ascontiguousarray(np.rot90(unmirrored, -rotation // 90))


@pytest.mark.parametrize("hflip", [False, True])
@pytest.mark.parametrize("rotation", [0, 90, 180, -90])
def test_display_matrix_every_orientation_decodes_upright(tmp_path, rotation, hflip):
    upright = [frame_pixels(i, UW, UH) for i in range(3)]
    path = tmp_path / "phone.mkv"
    _write(path, [_coded(u, rotation, hflip) for u in upright], "ffv1", "bgr0", {},
           rotation, hflip)  # lossless RGB
    frames, indices, _, native = read_video(path, UW, UH)
    assert native == (UW, UH) and indices == [0, 1, 2]
    for got, want in zip(frames, upright, strict=True):
        np.testing.assert_array_equal(got, want)


def test_phone_mp4_rotated_a_quarter_turn_decodes_upright(tmp_path):
    upright = [frame_pixels(i, UW, UH) for i in range(3)]
    path = tmp_path / "phone.mp4"  # a phone held upright: landscape sensor frames, -90 in tkhd
    _write(path, [_coded(u, -90, False) for u in upright], "libx264", "yuv444p", {"crf": "0"},
           -90, False)
    frames, _, _, native = read_video(path, UW, UH)
    assert native == (UW, UH)
    for got, want in zip(frames, upright, strict=True):
        assert np.abs(got.astype(int) - want).max() <= 3  # lossless luma, RGB<->YUV rounding


def test_intrinsics_of_the_sensor_orientation_are_refused_with_the_reason(tmp_path):
    path = tmp_path / "phone.mkv"
    upright = [frame_pixels(i, UW, UH) for i in range(4)]
    _write(path, [_coded(u, 90, False) for u in upright], "ffv1", "bgr0", {}, 90, False)
    cam = tmp_path / "sensor.yaml"  # calibrated on the coded landscape frames
    cam.write_text(f"fx: 40\nfy: 40\ncx: 31.5\ncy: 23.5\nwidth: {UH}\nheight: {UW}\n")
    with pytest.raises(PackdepthError, match=r"sensor.yaml: intrinsics for 64x48 .* frames are "
                                             r"48x64 .*width and height are swapped"):
        video_dataset(path, 32, 24, intrinsics=cam)
    upright_cam = tmp_path / "upright.yaml"
    upright_cam.write_text(f"fx: 40\nfy: 40\ncx: 23.5\ncy: 31.5\nwidth: {UW}\nheight: {UH}\n")
    K = video_dataset(path, UH // 2, UW // 2, intrinsics=upright_cam)[0]["K"]
    np.testing.assert_allclose(K.numpy(), [[20, 0, 11.5], [0, 20, 15.5], [0, 0, 1]])


def test_other_angles_are_refused():
    # b = -sin: 30 degrees counter-clockwise, as a quarter turn (rotation 90) has b = -1
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    matrix = np.round(np.array([c, -s, 0, s, c, 0, 0, 0, 0]) * 65536).astype(np.int32)
    with pytest.raises(PackdepthError, match=r"clip.mp4: display rotation of 30.0 degrees"):
        apply_display_matrix(np.zeros((4, 6, 3)), matrix, "clip.mp4")
