"""``eval-pose`` reads what ``fit`` / ``infer --poses`` write without being told: absolute or
relative by the ``poses.json`` sidecar or the count of lines, TUM files by their 8 numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from packdepth.cli import main
from packdepth.inference.trajectory import write_trajectory
from packdepth.io.trajectory import relative_from_absolute, write_kitti_poses, write_tum
from tests.cli_checks import one_line_error
from tests.evaluation.test_pose import curved_trajectory

N = 9


@pytest.fixture
def gt(tmp_path: Path) -> Path:
    write_kitti_poses(tmp_path / "gt.txt", curved_trajectory(N))
    return tmp_path / "gt.txt"


def _ate(pred: Path, gt: Path, tmp_path: Path, *extra: str) -> dict:
    assert main(["eval-pose", "--pred", str(pred), "--gt", str(gt), "--json",
                 str(tmp_path / "ate.json"), *extra]) == 0
    return json.loads((tmp_path / "ate.json").read_text())


def _scaled(P: np.ndarray, factor: float) -> np.ndarray:
    """The trajectory with every camera centre ``factor`` times farther from the first: its
    snippets align exactly at scale ``1 / factor``."""
    out = P.copy()
    out[:, :3, 3] = P[0, :3, 3] + factor * (P[:, :3, 3] - P[0, :3, 3])
    return out


def test_auto_tells_absolute_from_relative_by_the_count(gt: Path, tmp_path: Path, capsys) -> None:
    P = _scaled(curved_trajectory(N), 3.0)
    write_kitti_poses(tmp_path / "abs.txt", P)
    write_kitti_poses(tmp_path / "rel.txt", relative_from_absolute(P))
    for name, fmt in (("abs.txt", "absolute"), ("rel.txt", "relative")):
        result = _ate(tmp_path / name, gt, tmp_path)
        assert result["pred_format"] == fmt
        assert result["ate_mean"] == pytest.approx(0.0, abs=1e-9)
        assert result["scale_median"] == pytest.approx(1 / 3, rel=1e-9)
        assert f"predictions {fmt} (count of lines)" in capsys.readouterr().out


def test_a_count_that_fits_neither_gives_both(gt: Path, tmp_path: Path, capsys) -> None:
    write_kitti_poses(tmp_path / "short.txt", curved_trajectory(N - 3))
    assert main(["eval-pose", "--pred", str(tmp_path / "short.txt"), "--gt", str(gt)]) == 2
    one_line_error(capsys, f"short.txt: {N - 3} poses, but {gt} has {N} frames: expected {N} "
                            f"(camera-to-world, one per frame) or {N - 1} (relative, one per pair)")


def test_the_sidecar_of_fit_and_infer_decides(gt: Path, tmp_path: Path, capsys) -> None:
    files = write_trajectory(tmp_path / "fit", curved_trajectory(N), metric=False,
                             frame_names=[f"{i:06d}" for i in range(N)])
    assert _ate(files.kitti, gt, tmp_path)["pred_format"] == "absolute"
    assert "predictions absolute (poses.json beside it)" in capsys.readouterr().out
    assert _ate(files.relative, gt, tmp_path)["pred_format"] == "relative"
    # the sidecar outranks the count: N lines in the file it calls relative are refused
    write_kitti_poses(files.relative, curved_trajectory(N))
    capsys.readouterr()
    assert main(["eval-pose", "--pred", str(files.relative), "--gt", str(gt)]) == 2
    one_line_error(capsys, f"poses_relative.txt: {N} relative poses (poses.json beside it), "
                            f"expected {N - 1}")


def test_tum_files_are_read_as_camera_to_world(gt: Path, tmp_path: Path, capsys) -> None:
    P = curved_trajectory(N)
    write_tum(tmp_path / "pred_tum.txt", _scaled(P, 0.5), np.arange(N) / 10.0)
    write_tum(tmp_path / "gt_tum.txt", P, np.arange(N) / 30.0)
    for truth in (gt, tmp_path / "gt_tum.txt"):
        result = _ate(tmp_path / "pred_tum.txt", truth, tmp_path)
        assert result["pred_format"] == "absolute"
        assert result["ate_mean"] == pytest.approx(0.0, abs=1e-7)
        assert result["scale_median"] == pytest.approx(2.0, rel=1e-6)
        err = capsys.readouterr().err
        assert ("pred_tum.txt: a TUM trajectory (timestamp tx ty tz qx qy qz qw): read as "
                "camera-to-world poses") in err
    write_kitti_poses(tmp_path / "abs.txt", P)  # a TUM ground truth for a KITTI prediction
    assert _ate(tmp_path / "abs.txt", tmp_path / "gt_tum.txt", tmp_path)["ate_mean"] == \
        pytest.approx(0.0, abs=1e-7)
    capsys.readouterr()
    assert main(["eval-pose", "--pred", str(tmp_path / "pred_tum.txt"), "--gt", str(gt),
                 "--pred-format", "relative"]) == 2
    one_line_error(capsys, "pred_tum.txt: a TUM trajectory (timestamp tx ty tz qx qy qz qw) "
                            "holds camera-to-world poses, not relative ones")


def test_another_count_of_numbers_names_both_forms(gt: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "seven.txt").write_text("0 0 0 0 0 0 1\n" * N)
    assert main(["eval-pose", "--pred", str(tmp_path / "seven.txt"), "--gt", str(gt)]) == 2
    one_line_error(capsys, "seven.txt: 7 numbers a line: expected 12 (KITTI odometry, a "
                            "row-major 3x4 pose) or 8 (TUM: timestamp tx ty tz qx qy qz qw)")
