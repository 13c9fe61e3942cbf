"""The ground-plane scale where depth is made and scored: eval --scaling ground, infer and fit
with a camera height, on synthetic streets with exact depth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from packdepth.apps.metric_scale import GroundRescale, sequence_ground
from packdepth.cli import main
from packdepth.data.intrinsics import Intrinsics
from packdepth.data.kitti.splits import read_split
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.evaluation.depth import load_gt_depth
from packdepth.inference import InferOptions, infer, predict_batch
from packdepth.inference.predict import as_image
from packdepth.inference.sources import Frame, Input
from packdepth.training import fit as fit_module
from packdepth.training.fit import fit_config, write_depth_maps
from tests.apps.streets import (
    CAMERA_HEIGHT,
    H,
    W,
    known_model,
    mark,
    street,
    street_K,
    wall_depth,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic street in the KITTI raw layout (exact depth PNGs, calibration)."""
    root = tmp_path_factory.mktemp("world")
    write_dataset(root, SynthParams(height=H, width=W, frames=6, seed=3), sequences=1)
    return root


def _save_predictions(world: Path, out: Path, wall_at: int | None = None) -> None:
    """GT x 0.3 with 3 % noise (a relative prediction); a wall for entry ``wall_at``."""
    rng = np.random.default_rng(0)
    for i, entry in enumerate(read_split(world / "splits" / "all_files.txt")):
        gt, _ = load_gt_depth(world, entry)
        noisy = 0.3 * gt * np.exp(rng.normal(0.0, 0.03, gt.shape))
        pred = wall_depth() if i == wall_at else noisy
        path = out / f"{entry.name}.npz"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, depth=pred.astype(np.float32))


def _eval(world: Path, preds: Path, json_path: Path, *extra: str) -> dict:
    args = ["eval", "--pred-dir", str(preds), "--data", str(world), "--split",
            str(world / "splits" / "all_files.txt"), "--crop", "none", "--json", str(json_path)]
    assert main([*args, *extra]) == 0
    return json.loads(json_path.read_text())


def test_eval_ground_scaling_matches_median_scaling_on_exact_geometry(world, tmp_path, capsys):
    preds = tmp_path / "preds"
    _save_predictions(world, preds)
    median = _eval(world, preds, tmp_path / "median.json")
    capsys.readouterr()
    ground = _eval(world, preds, tmp_path / "ground.json", "--scaling", "ground",
                   "--camera-height", "1.65")
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("protocol: crop none, GT depth (0.001, 80) m, "
                                          "ground-plane scaling (camera height 1.65 m),")
    assert "no ground plane" not in out
    assert ground["protocol"]["camera_height"] == 1.65
    assert ground["protocol"]["unscaled_frames"] == 0
    assert ground["metrics"]["abs_rel"] == pytest.approx(median["metrics"]["abs_rel"], abs=0.01)
    for row in ground["per_image"]:  # GT / prediction is 1/0.3 up to the noise
        assert row["ground_scale"] == pytest.approx(1 / 0.3, rel=0.03)
    assert ground["metrics"]["ground_ratio_median"] == pytest.approx(1.0, abs=0.03)


def test_eval_scores_frames_without_a_plane_unscaled_and_counts_them(world, tmp_path, capsys):
    preds = tmp_path / "preds"
    _save_predictions(world, preds, wall_at=0)
    report = _eval(world, preds, tmp_path / "g.json", "--scaling", "ground", "--camera-height",
                   "1.65")
    assert report["protocol"]["unscaled_frames"] == 1
    assert "no ground plane in 1 image (scored unscaled)" in capsys.readouterr().out
    first, rest = report["per_image"][0], report["per_image"][1:]
    assert first["ground_scale"] is None and all(r["ground_scale"] for r in rest)
    gt, _ = load_gt_depth(world, read_split(world / "splits" / "all_files.txt")[0])
    valid = (gt > 1e-3) & (gt < 80)
    assert first["abs_rel"] == pytest.approx(np.mean(np.abs(gt[valid] - 5.0) / gt[valid]))


@pytest.mark.parametrize("extra, message", [
    (["--scaling", "ground"], "--scaling ground needs --camera-height"),
    (["--camera-height", "1.65"], "--camera-height goes with --scaling ground"),
    (["--scaling", "median", "--no-median-scaling"], "contradicts"),
])
def test_eval_scaling_options_are_checked(world, tmp_path, capsys, extra, message):
    args = ["eval", "--pred-dir", str(tmp_path), "--data", str(world), "--split",
            str(world / "splits" / "all_files.txt")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("packdepth: error: ") and message in err and "\n" not in err


def _frames(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        paths.append(folder / f"f{i}.png")
        Image.fromarray(mark(street()[i % 3].rgb, i)).save(paths[-1])
    return paths


def _depths(scales: list[float | None]) -> list[np.ndarray]:
    """Per frame: exact street depth x scale, or a wall (``None``)."""
    return [wall_depth() if s is None else street()[i % 3].depth * s
            for i, s in enumerate(scales)]


def test_infer_with_a_camera_height_writes_metric_depth_and_its_scale(tmp_path):
    paths = _frames(tmp_path / "in", 3)
    model = known_model(_depths([0.3, None, 0.5]))
    K = street_K()
    rescale = GroundRescale(CAMERA_HEIGHT)
    opts = InferOptions(save=("npz",), intrinsics=Intrinsics(K[0, 0], K[1, 1], K[0, 2], K[1, 2]),
                        rescale=rescale, progress=False)
    summary = infer(model, paths, tmp_path / "out", opts)
    assert summary.metric_frames == 2 and not summary.metric
    for i, expected in ((0, 1 / 0.3), (2, 1 / 0.5)):
        z = np.load(tmp_path / "out" / f"f{i}.npz")
        assert bool(z["metric"]) and float(z["scale"]) == pytest.approx(expected, rel=0.02)
        truth = street()[i].depth
        road = truth > 0
        assert np.median(z["depth"][road] / truth[road]) == pytest.approx(1.0, rel=0.02)
    wall = np.load(tmp_path / "out" / "f1.npz")
    assert not bool(wall["metric"]) and "scale" not in wall.files
    assert np.allclose(wall["depth"], 5.0)  # left as predicted, relative
    assert [f.found for _, f in rescale.fits] == [True, False, True]


def test_a_window_median_carries_frames_without_ground():
    rescale = GroundRescale(CAMERA_HEIGHT, window=3)
    model = known_model(_depths([0.3, 0.5, None, 0.4]))
    video = Input(Path("v.mp4"), "video", "v")
    written = []
    for i in range(4):
        frame = Frame(video, mark(street()[i % 3].rgb, i), f"v/{i:06d}", i)
        result = predict_batch(model, [as_image(frame.image)], K=[street_K()])[0]
        written.append(rescale(frame, result).scale)
    assert written[0] == pytest.approx(1 / 0.3, rel=0.02)
    assert written[1] == pytest.approx(np.median([1 / 0.3, 1 / 0.5]), rel=0.02)
    assert written[2] == written[1]  # no plane: the window's median
    assert written[3] == pytest.approx(np.median([1 / 0.3, 1 / 0.5, 1 / 0.4]), rel=0.02)


def test_infer_cli_checks_the_camera_height_options(tmp_path, capsys):
    image = _frames(tmp_path / "in", 1)[0]
    base = ["infer", str(tmp_path / "nomodel"), str(image), "--out", str(tmp_path / "o")]
    assert main([*base, "--camera-height", "1.65"]) == 2
    assert "needs the camera intrinsics" in capsys.readouterr().err
    assert main([*base, "--camera-height", "1.65", "--scale", "2", "--fx", "1", "--fy", "1",
                 "--cx", "1", "--cy", "1"]) == 2
    assert "give one" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main([*base, "--camera-height", "-1"])
    assert exc.value.code == 2 and "positive number of metres" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_fit_scales_every_depth_map_by_the_sequence_median(tmp_path, monkeypatch):
    """The written maps share one scale: the median of the frames' ground scales."""
    frames = tmp_path / "frames"
    _frames(frames, 4)
    K = street_K()
    (tmp_path / "cam.yaml").write_text(f"fx: {K[0, 0]}\nfy: {K[1, 1]}\ncx: {K[0, 2]}\n"
                                       f"cy: {K[1, 2]}\n")
    model = known_model(_depths([0.3, 0.5, None, 0.4]))
    monkeypatch.setattr(fit_module, "load", lambda *a, **k: model)  # the fitted network
    cfg = fit_config(frames, tmp_path / "fit", minutes=1, size=(H, W),
                     intrinsics=str(tmp_path / "cam.yaml"), init=None)
    n, ground = write_depth_maps(tmp_path / "model", cfg.data, tmp_path / "depth", (H, W),
                                 camera_height=CAMERA_HEIGHT)
    assert n == 4 and [f.found for _, f in ground.fits] == [True, True, False, True]
    assert ground.scale == pytest.approx(1 / 0.4, rel=0.02)
    for i in range(4):
        z = np.load(tmp_path / "depth" / f"f{i}.npz")
        assert bool(z["metric"]) and float(z["scale"]) == ground.scale
    again = sequence_ground(model, [frames], CAMERA_HEIGHT, intrinsics=tmp_path / "cam.yaml")
    assert again.scale == ground.scale
