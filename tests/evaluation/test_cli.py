"""``packdepth eval`` and ``packdepth eval-pose`` end to end through ``packdepth.cli.main``."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from packdepth.cli import main
from packdepth.data.kitti.layout import gt_depth_path, write_depth_png
from packdepth.data.kitti.splits import SplitEntry
from packdepth.evaluation.depth import load_gt_depth, load_image, predict_depth
from packdepth.evaluation.metrics import crop_mask, depth_metrics
from packdepth.io.trajectory import relative_from_absolute, write_kitti_poses
from tests.cli_checks import one_line_error
from tests.evaluation.helpers import DRIVE, KITTI_TINY_DRIVE, ConstantInvDepth
from tests.evaluation.test_pose import curved_trajectory

FRAMES = list(range(0, 40, 4))


@pytest.fixture(scope="module")
def tiny_gt(kitti_tiny: Path) -> dict[int, np.ndarray]:
    return {f: load_gt_depth(kitti_tiny, SplitEntry(KITTI_TINY_DRIVE, f))[0] for f in FRAMES}


@pytest.fixture
def split(tmp_path: Path) -> Path:
    path = tmp_path / "split.txt"
    lines = [f"{KITTI_TINY_DRIVE} {f} l" for f in FRAMES[:5]]
    lines += [f"{KITTI_TINY_DRIVE}/image_02/data/{f:010d}.png" for f in FRAMES[5:]]
    path.write_text("\n".join(lines) + "\n")
    return path


def _constant_baseline(tiny_gt: dict[int, np.ndarray]) -> float:
    rows = [depth_metrics(np.full_like(d, 3.0), d)["abs_rel"] for d in tiny_gt.values()]
    return float(np.mean(rows))


def test_gt_as_prediction_is_perfect(kitti_tiny, tiny_gt, split, tmp_path, capsys) -> None:
    preds = tmp_path / "preds"
    for f, depth in tiny_gt.items():
        out = preds / SplitEntry(KITTI_TINY_DRIVE, f).name
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(out.with_suffix(".npz"), depth=depth[None])
    code = main(
        [
            "eval",
            "--pred-dir",
            str(preds),
            "--data",
            str(kitti_tiny),
            "--split",
            str(split),
            "--json",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("protocol: crop garg") and "10 images (10 velodyne GT)" in out
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["metrics"]["abs_rel"] == 0.0 and report["metrics"]["a1"] == 1.0
    proto = report["protocol"]
    assert proto["num_images"] == 10 and proto["crop"] == "garg" and proto["median_scaling"]
    assert proto["post_process"] is False and proto["max_depth"] == 80.0
    in_crop = sum(
        int(((d > 1e-3) & (d < 80) & crop_mask(375, 1242, "garg")).sum()) for d in tiny_gt.values()
    )
    assert proto["valid_pixels"] == in_crop
    assert report["per_image"][0]["name"].endswith("image_02/data/0000000000")


def test_constant_png_predictions_at_network_size(kitti_tiny, tiny_gt, split, tmp_path, capsys):
    preds = tmp_path / "preds"
    for index in range(len(FRAMES)):  # monodepth2 export naming, 640x192 like a network output
        write_depth_png(preds / f"{index:010d}.png", np.full((192, 640), 3.0))
    code = main(
        [
            "eval",
            "--pred-dir",
            str(preds),
            "--data",
            str(kitti_tiny),
            "--split",
            str(split),
            "--json",
            str(tmp_path / "m.json"),
            "--pred-naming",
            "index",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["metrics"]["abs_rel"] == pytest.approx(_constant_baseline(tiny_gt), rel=1e-6)
    assert report["metrics"]["ratio_median"] > 1.5  # median GT ~8 m vs a 3 m prediction


def test_no_median_scaling_scores_metric_depth(kitti_tiny, tiny_gt, split, tmp_path, capsys):
    preds = tmp_path / "preds"
    for frame, depth in tiny_gt.items():  # a flat folder named by the images' stems
        preds.mkdir(exist_ok=True)
        np.savez(preds / f"{frame:010d}.npz", depth=0.9 * depth)  # 10% too near everywhere
    args = [
        "eval",
        "--pred-dir",
        str(preds),
        "--data",
        str(kitti_tiny),
        "--split",
        str(split),
        "--json",
        str(tmp_path / "m.json"),
    ]
    assert main([*args, "--no-median-scaling"]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["metrics"]["abs_rel"] == pytest.approx(0.1, rel=1e-5)
    assert report["metrics"]["ratio_median"] == pytest.approx(1 / 0.9, rel=1e-5)
    assert "no median scaling" in capsys.readouterr().out
    assert main(args) == 0
    assert json.loads((tmp_path / "m.json").read_text())["metrics"]["abs_rel"] < 1e-6


def test_checkpoint_path_with_a_stand_in_model(kitti_tiny, tiny_gt, split, tmp_path, monkeypatch):
    model = ConstantInvDepth(3.0)
    fake = types.ModuleType("packdepth.io.checkpoints")
    fake.load_model = lambda path, kind=None: model
    fake.model_file = Path
    monkeypatch.setitem(sys.modules, "packdepth.io.checkpoints", fake)
    args = [
        "eval",
        "--checkpoint",
        str(tmp_path / "model"),
        "--data",
        str(kitti_tiny),
        "--split",
        str(split),
        "--json",
        str(tmp_path / "m.json"),
    ]
    assert main([*args, "--size", "96x320", "--post-process"]) == 0
    assert model.seen[0] == (2, 3, 96, 320)  # image + mirror at the requested size
    assert not model.training
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["protocol"]["post_process"] is True
    assert report["metrics"]["abs_rel"] == pytest.approx(_constant_baseline(tiny_gt), rel=1e-5)
    assert main(args) == 0
    assert model.seen[-1] == (1, 3, 192, 640)  # default KITTI training size


def test_per_class_breakdown(tiny_root: Path, tmp_path: Path, capsys) -> None:
    entry = SplitEntry(DRIVE, 7)
    gt = np.full((12, 40), 10.0)
    write_depth_png(gt_depth_path(tiny_root / DRIVE, 7), gt)
    labels = np.zeros((12, 40), np.uint8)
    labels[:6], labels[6:] = 1, 7
    sem = tiny_root / DRIVE / "semantic" / "image_02" / "0000000007.png"
    sem.parent.mkdir(parents=True)
    Image.fromarray(labels).save(sem)
    (tiny_root / "classes.json").write_text(json.dumps(["sky", "road"] + ["x"] * 5 + ["vehicle"]))
    preds = tmp_path / "preds"
    preds.mkdir()
    np.savez(preds / "0000000007.npz", depth=np.where(labels == 7, 20.0, 10.0))
    split = tmp_path / "split.txt"
    split.write_text(f"{entry.drive} {entry.frame} l\n")
    code = main(
        [
            "eval",
            "--pred-dir",
            str(preds),
            "--data",
            str(tiny_root),
            "--split",
            str(split),
            "--crop",
            "none",
            "--no-median-scaling",
            "--json",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["per_class"]["road"]["abs_rel"] == 0.0
    assert report["per_class"]["vehicle"]["abs_rel"] == pytest.approx(1.0)
    assert report["metrics"]["abs_rel"] == pytest.approx(0.5)
    assert report["protocol"]["gt_sources"] == {"annotated": 1}
    assert "vehicle" in capsys.readouterr().out


def test_bad_inputs_are_one_line_errors(kitti_tiny, tiny_gt, split, tmp_path, capsys) -> None:
    preds = tmp_path / "preds"
    preds.mkdir()
    base = ["eval", "--pred-dir", str(preds), "--data", str(kitti_tiny), "--split"]
    # missing GT: frame 1 has no Velodyne scan
    missing = tmp_path / "missing.txt"
    missing.write_text(f"{KITTI_TINY_DRIVE} 1 l\n")
    assert main([*base, str(missing)]) == 2
    one_line_error(capsys, "velodyne_points/data/0000000001.bin", "no ground truth")
    # size mismatch: a square prediction for a 1242x375 frame
    np.savez(preds / "0000000000.npz", depth=np.ones((100, 100)))
    assert main([*base, str(split)]) == 2
    one_line_error(capsys, "0000000000.npz", "aspect")
    # missing prediction for the second frame
    np.savez(preds / "0000000000.npz", depth=tiny_gt[0])
    assert main([*base, str(split)]) == 2
    one_line_error(capsys, "0000000004.npz: prediction not found")
    # empty split
    empty = tmp_path / "empty.txt"
    empty.write_text("# no frames\n")
    assert main([*base, str(empty)]) == 2
    one_line_error(capsys, "empty.txt: split file lists no frames")
    # flip post-processing cannot apply to saved predictions; bad depth range; missing root
    assert main([*base, str(split), "--post-process"]) == 2
    one_line_error(capsys, "--post-process needs --checkpoint")
    assert main([*base, str(split), "--min-depth", "90"]) == 2
    one_line_error(capsys, "min_depth < max_depth")
    assert (
        main(
            [
                "eval",
                "--pred-dir",
                str(preds),
                "--data",
                str(tmp_path / "nope"),
                "--split",
                str(split),
            ]
        )
        == 2
    )
    one_line_error(capsys, "nope: data folder not found")


def test_eval_pose_cli(tmp_path: Path, capsys) -> None:
    P = curved_trajectory(9)
    write_kitti_poses(tmp_path / "poses.txt", P)
    rel = relative_from_absolute(P)
    rel[:, :3, 3] *= 3.0
    write_kitti_poses(tmp_path / "pred.txt", rel)
    code = main(
        [
            "eval-pose",
            "--pred",
            str(tmp_path / "pred.txt"),
            "--gt",
            str(tmp_path / "poses.txt"),
            "--json",
            str(tmp_path / "ate.json"),
        ]
    )
    assert code == 0
    result = json.loads((tmp_path / "ate.json").read_text())
    assert result["ate_mean"] == pytest.approx(0.0, abs=1e-6) and result["num_snippets"] == 5
    assert result["scale_median"] == pytest.approx(1 / 3, rel=1e-6)
    assert "5-frame snippets" in capsys.readouterr().out
    code = main(
        [
            "eval-pose",
            "--pred",
            str(tmp_path / "poses.txt"),
            "--gt",
            str(tmp_path / "poses.txt"),
            "--pred-format",
            "absolute",
        ]
    )
    assert code == 0
    assert "ATE mean 0.0000 m" in capsys.readouterr().out
    # camera-to-world poses given as relative ones: N lines instead of N - 1
    code = main(
        ["eval-pose", "--pred", str(tmp_path / "poses.txt"), "--gt", str(tmp_path / "poses.txt"),
         "--pred-format", "relative"]
    )
    assert code == 2
    one_line_error(capsys, "poses.txt: 9 relative poses (--pred-format), expected 8")


def test_checkpoint_path_with_a_real_saved_model(kitti_tiny, tiny_gt, tmp_path) -> None:
    from packdepth.io.checkpoints import load_model, save_model
    from packdepth.networks import ResNetDepth

    path = tmp_path / "model.safetensors"
    save_model(ResNetDepth(num_layers=18), path, info={"height": 64, "width": 192})
    split = tmp_path / "split.txt"
    split.write_text(f"{KITTI_TINY_DRIVE} 0 l\n{KITTI_TINY_DRIVE} 8 l\n")
    code = main(
        [
            "eval",
            "--checkpoint",
            str(path),
            "--data",
            str(kitti_tiny),
            "--split",
            str(split),
            "--post-process",
            "--json",
            str(tmp_path / "m.json"),
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["protocol"]["input_size"] == [64, 192]  # the size recorded in the file
    # the same pipeline by hand: input resized to 64x192, flip post-processing, KITTI metrics
    model = load_model(path)
    expected = []
    for frame in (0, 8):
        entry = SplitEntry(KITTI_TINY_DRIVE, frame)
        image = load_image(entry.image_file(kitti_tiny))[None]
        depth = predict_depth(model, image, size=(64, 192), post_process=True)
        assert depth.shape == (1, 1, 375, 1242)
        expected.append(depth_metrics(depth, tiny_gt[frame])["abs_rel"])
    assert report["metrics"]["abs_rel"] == pytest.approx(np.mean(expected), rel=1e-6)
