"""Which saved file is which split entry (``eval --pred-dir``): the image's path mirrored, its
own stem in a flat folder, the split-line index only when asked; never a silent mix-up."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from packdepth.cli import main
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import load_gt_depth
from packdepth.evaluation.metrics import depth_metrics
from packdepth.evaluation.predictions import PredictionFolder
from packdepth.evaluation.splits import SplitEntry
from tests.evaluation.helpers import DRIVE, KITTI_TINY_DRIVE

OTHER = DRIVE.replace("0001", "0002")


def _touch(folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()


def test_stem_naming_wins_over_disagreeing_indices(tmp_path: Path) -> None:
    # lines 0 and 1 are frames 4 and 8: the index names 0, 1 and the stems 4, 8 disagree
    entries = [SplitEntry(DRIVE, 4, line=1), SplitEntry(DRIVE, 8, line=2)]
    _touch(tmp_path, "0000000000.npz", "0000000001.npz", "0000000004.npz", "0000000008.png")
    auto = PredictionFolder(tmp_path, entries)
    assert [auto.find(e, i).name for i, e in enumerate(entries)] == [
        "0000000004.npz", "0000000008.png"]
    assert auto.describe() == "auto (2 stem)"
    index = PredictionFolder(tmp_path, entries, "index")
    assert [index.find(e, i).name for i, e in enumerate(entries)] == [
        "0000000000.npz", "0000000001.npz"]
    with pytest.raises(PackdepthError, match=r"data/0000000004\.npz: prediction not found"):
        PredictionFolder(tmp_path, entries, "path").find(entries[0], 0)


def test_mirrored_first_then_flat(tmp_path: Path) -> None:
    entries = [SplitEntry(DRIVE, 4, line=1), SplitEntry(DRIVE, 8, line=2)]
    _touch(tmp_path, f"{entries[0].name}.png", "0000000004.npz", "0000000008.npz")
    folder = PredictionFolder(tmp_path, entries)
    assert folder.find(entries[0], 0) == tmp_path / f"{entries[0].name}.png"
    assert folder.find(entries[1], 1) == tmp_path / "0000000008.npz"
    assert folder.describe() == "auto (1 path, 1 stem)"


def test_index_names_are_never_guessed(tmp_path: Path) -> None:
    """The finding: a flat folder holding 0000000000.npz, a split of frame 4."""
    entries = [SplitEntry(DRIVE, 4, line=1)]
    _touch(tmp_path, "0000000000.npz")
    with pytest.raises(PackdepthError, match=r"prediction not found .*split line 1.*"
                       r"0000000004\.npz\|\.png \(DIR/<frame>\).*--pred-naming index"):
        PredictionFolder(tmp_path, entries).find(entries[0], 0)
    assert PredictionFolder(tmp_path, entries, "index").find(entries[0], 0).name == \
        "0000000000.npz"


def test_index_shaped_folder_whose_stems_disagree_is_refused(tmp_path: Path) -> None:
    _touch(tmp_path, "0000000000.npz", "0000000001.npz")
    swapped = [SplitEntry(DRIVE, 1, line=1), SplitEntry(DRIVE, 0, line=2)]
    with pytest.raises(PackdepthError, match=r"read as split-line indices or as frame stems, and "
                       r"for line 1 .* disagree; pass --pred-naming index or --pred-naming stem"):
        PredictionFolder(tmp_path, swapped).find(swapped[0], 0)
    assert PredictionFolder(tmp_path, swapped, "stem").find(swapped[0], 0).name == \
        "0000000001.npz"
    agreeing = [SplitEntry(DRIVE, 0), SplitEntry(DRIVE, 1)]  # both readings give the same file
    assert PredictionFolder(tmp_path, agreeing).find(agreeing[1], 1).name == "0000000001.npz"


def test_a_flat_name_two_entries_share_is_ambiguous(tmp_path: Path) -> None:
    entries = [SplitEntry(DRIVE, 4, line=1), SplitEntry(OTHER, 4, line=2)]
    _touch(tmp_path, "0000000004.npz")
    for naming in ("auto", "stem"):
        with pytest.raises(PackdepthError, match=r"0000000004\.npz: ambiguous flat name: split "
                           r"lines 1 .*drive_0001.* and 2 .*drive_0002"):
            PredictionFolder(tmp_path, entries, naming).find(entries[1], 1)
    _touch(tmp_path, *(f"{e.name}.npz" for e in entries))  # mirrored: no ambiguity
    folder = PredictionFolder(tmp_path, entries)
    assert [folder.find(e, i) for i, e in enumerate(entries)] == [
        tmp_path / f"{e.name}.npz" for e in entries]


def test_bad_naming_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(PackdepthError, match="--pred-naming: unknown naming 'md2'"):
        PredictionFolder(tmp_path, [], "md2")
    with pytest.raises(PackdepthError, match="nope: prediction folder not found"):
        PredictionFolder(tmp_path / "nope", [])


# End to end on real KITTI frames: the truth is each frame's own ground truth.


def _eval(kitti_tiny: Path, tmp_path: Path, preds: Path, frames: list[int], *extra: str) -> int:
    split = tmp_path / "s.txt"
    split.write_text("".join(f"{KITTI_TINY_DRIVE} {f} l\n" for f in frames))
    return main(["eval", "--pred-dir", str(preds), "--data", str(kitti_tiny), "--split",
                 str(split), "--json", str(tmp_path / "m.json"), *extra])


def test_flat_folder_of_infer_is_scored_by_stem(kitti_tiny: Path, tmp_path: Path, capsys) -> None:
    """``infer .../image_02/data --out flat`` names files by the images' stems; frame 4 must be
    scored with 0000000004.npz, not with 0000000000.npz (split line 0)."""
    preds = tmp_path / "flat"
    preds.mkdir()
    for f in (0, 4):
        np.savez(preds / f"{f:010d}.npz", depth=load_gt_depth(
            kitti_tiny, SplitEntry(KITTI_TINY_DRIVE, f))[0])
    assert _eval(kitti_tiny, tmp_path, preds, [4]) == 0
    report = json.loads((tmp_path / "m.json").read_text())
    assert report["metrics"]["abs_rel"] == 0.0
    assert report["per_image"][0]["name"].endswith("0000000004")
    assert report["protocol"]["pred_naming"] == "auto (1 stem)"
    assert "naming auto (1 stem)" in capsys.readouterr().err


def test_frame_zero_is_not_taken_for_line_zero(kitti_tiny: Path, tmp_path: Path, capsys) -> None:
    preds = tmp_path / "flat0"
    preds.mkdir()
    gt4 = load_gt_depth(kitti_tiny, SplitEntry(KITTI_TINY_DRIVE, 4))[0]
    np.savez(preds / "0000000000.npz", depth=np.full_like(gt4, 3.0) + np.arange(gt4.shape[1]))
    assert _eval(kitti_tiny, tmp_path, preds, [4]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("packdepth: error: ") and "\n" not in err, err
    assert "0000000004.npz: prediction not found" in err and "--pred-naming index" in err, err
    assert not (tmp_path / "m.json").exists()
    assert _eval(kitti_tiny, tmp_path, preds, [4], "--pred-naming", "index") == 0  # when asked
    report = json.loads((tmp_path / "m.json").read_text())
    expected = depth_metrics(np.full_like(gt4, 3.0) + np.arange(gt4.shape[1]), gt4)["abs_rel"]
    assert report["metrics"]["abs_rel"] == pytest.approx(expected) and expected > 0.05
    assert report["protocol"]["pred_naming"] == "index (1 index)"
