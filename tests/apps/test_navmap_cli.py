"""``packdepth navmap`` end to end: infer's .npz files, images with a model, videos."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from packdepth.apps.depth_frames import DepthFrame
from packdepth.apps.navmap_run import NavRunOptions, write_maps
from packdepth.cli import main
from packdepth.errors import PackdepthError
from tests.apps.streets import CAMERA_HEIGHT, H, W, street, street_K, wall_depth
from tests.cli_checks import one_line_error
from tests.inference.conftest import save_model_dir


def _npz(path: Path, depth: np.ndarray, metric: bool, K: np.ndarray | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"depth": depth.astype(np.float32), "metric": np.array(metric)}
    if K is not None:
        arrays["K"] = K
    np.savez(path, **arrays)
    return path


def test_npz_from_infer_gives_a_picture_and_a_route_in_metres(tmp_path, capsys):
    frame = street()[0]
    npz = _npz(tmp_path / "depth" / "f0.npz", frame.depth, True, street_K())
    out = tmp_path / "nav"
    assert main(["navmap", str(npz), "--out", str(out), "--range", "12", "--lateral", "6"]) == 0
    assert "maps of 1 frame (1 with a route)" in capsys.readouterr().out
    record = json.loads((out / "f0_path.json").read_text())
    path = np.array(record["route"]["path_m"])
    assert path[0].tolist() == [0.0, 0.1] and path[-1, 1] == pytest.approx(11.9)
    steps = np.hypot(*np.diff(path, axis=0).T)
    assert np.all((np.isclose(steps, 0.2)) | (np.isclose(steps, 0.2 * np.sqrt(2))))
    assert record["route"]["length_m"] == pytest.approx(steps.sum())
    assert record["ground"]["height"] == pytest.approx(CAMERA_HEIGHT, rel=0.02)
    assert record["depth_scale"] == 1.0 and record["metric_input"] is True
    with Image.open(out / "f0_navmap.png") as img:
        assert img.mode == "RGB" and img.width > 2 * img.height


def test_an_unreachable_goal_is_one_line_exit_2_and_nothing_written(tmp_path, capsys):
    npz = _npz(tmp_path / "f0.npz", street()[0].depth, True, street_K())
    out = tmp_path / "nav"
    assert main(["navmap", str(npz), "--out", str(out), "--goal", "9.5,0.5"]) == 2
    one_line_error(capsys, "f0.npz", "goal (9.5, 0.5) m is unreachable")
    assert not out.exists()
    out.write_text("mine")  # a file where the output folder goes: infer's message, file kept
    assert main(["navmap", str(npz), "--out", str(out)]) == 2
    one_line_error(capsys, f"{out}: not a folder (the output folder)")
    assert out.read_text() == "mine"


def test_relative_depth_needs_a_camera_height_and_images_need_a_model(tmp_path, capsys):
    npz = _npz(tmp_path / "f0.npz", 0.3 * street()[0].depth, False, street_K())
    assert main(["navmap", str(npz), "--out", str(tmp_path / "nav")]) == 2
    one_line_error(capsys, "relative depth: give --camera-height")
    assert main(["navmap", str(npz), "--out", str(tmp_path / "nav"), "--camera-height",
                 "1.65"]) == 0
    record = json.loads((tmp_path / "nav" / "f0_path.json").read_text())
    assert record["depth_scale"] == pytest.approx(1 / 0.3, rel=0.02)
    image = tmp_path / "x.png"
    Image.fromarray(street()[0].rgb).save(image)
    assert main(["navmap", str(image), "--out", str(tmp_path / "n2")]) == 2
    one_line_error(capsys, "x.png", "not an .npz depth file")
    no_k = _npz(tmp_path / "nok.npz", street()[0].depth, True)
    assert main(["navmap", str(no_k), "--out", str(tmp_path / "n3")]) == 2
    one_line_error(capsys, "nok.npz: no [3,3] 'K' (camera intrinsics) in this .npz",
                    "packdepth infer --intrinsics FILE", "--model MODEL --intrinsics FILE")
    (tmp_path / "empty.npz").write_bytes(b"")
    assert main(["navmap", str(tmp_path / "empty.npz"), "--out", str(tmp_path / "n4")]) == 2
    one_line_error(capsys, "empty.npz: empty file, not a NumPy .npz archive")


def test_a_wall_npz_stops_unless_keep_going(tmp_path, capsys):
    good = _npz(tmp_path / "in" / "a.npz", street()[0].depth, True, street_K())
    wall = _npz(tmp_path / "in" / "b.npz", wall_depth(), True, street_K())
    out = tmp_path / "nav"
    assert main(["navmap", str(good), str(wall), "--out", str(out)]) == 2
    one_line_error(capsys, "b.npz", "no ground plane")
    assert not out.exists()  # all or nothing: a.npz's map is not left behind
    assert main(["navmap", str(tmp_path / "in"), "--out", str(out), "--keep-going"]) == 0
    assert "no route in 1 frame " in capsys.readouterr().err
    record = json.loads((out / "b_path.json").read_text())
    assert record["route"] is None and record["problem"].startswith("no ground plane")
    assert sorted(p.name for p in out.iterdir()) == ["a_navmap.png", "a_path.json",
                                                     "b_navmap.png", "b_path.json"]


def test_video_frames_give_one_map_video_and_one_record_each(tmp_path):
    K = street_K()
    depths = [street()[0].depth, wall_depth(), street()[2].depth]
    frames = [DepthFrame(Path("drive.mp4"), "video", "drive", f"drive/{i:06d}", d, True, K,
                         street()[i].rgb) for i, d in enumerate(depths)]
    summary = write_maps(frames, tmp_path / "nav", NavRunOptions())
    assert summary.frames == 3 and summary.routes == 2 and len(summary.problems) == 1
    records = json.loads((tmp_path / "nav" / "drive_paths.json").read_text())["frames"]
    assert [r["route"] is None for r in records] == [False, True, False]
    with av.open(str(tmp_path / "nav" / "drive_navmap.mp4")) as container:
        decoded = list(container.decode(container.streams.video[0]))
    assert len(decoded) == 3


def test_images_with_a_model(tmp_path, capsys):
    """The model path of the command: a (random) network's depth, intrinsics from the flags."""
    model = save_model_dir(tmp_path / "model")
    image = tmp_path / "in" / "s.png"
    image.parent.mkdir()
    Image.fromarray(street()[0].rgb).save(image)
    K = street_K()
    args = ["navmap", str(image), "--model", str(model), "--out", str(tmp_path / "nav"),
            "--camera-height", "1.65", "--keep-going", "--fx", str(K[0, 0]), "--fy",
            str(K[1, 1]), "--cx", str(K[0, 2]), "--cy", str(K[1, 2])]
    assert main(args) == 0
    capsys.readouterr()
    record = json.loads((tmp_path / "nav" / "s_path.json").read_text())
    assert record["source"] == str(image) and record["frame"] == "s"
    with Image.open(tmp_path / "nav" / "s_navmap.png") as img:
        assert img.height > H
    assert main(args[:-8]) == 2  # without intrinsics
    one_line_error(capsys, "s.png", "no camera intrinsics")
    with pytest.raises(PackdepthError, match="relative depth"):
        from packdepth.apps.navmap_run import map_frame

        map_frame(DepthFrame(image, "image", "s", "s", np.ones((H, W)), False, K,
                             street()[0].rgb), NavRunOptions())
