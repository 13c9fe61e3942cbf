"""Ground truth of the real samples: kitti_tiny (Velodyne) and kitti_annotated (KITTI PNGs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from packdepth.data.kitti.layout import read_depth_png
from packdepth.data.kitti.splits import SplitEntry
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import GT_ANNOTATED, GT_VELODYNE, load_gt_depth
from packdepth.evaluation.metrics import crop_mask, depth_metrics
from tests.evaluation.helpers import KITTI_TINY_DRIVE

SCAN_FRAMES = range(0, 40, 4)


@pytest.fixture(scope="module")
def velodyne_gt(kitti_tiny: Path) -> dict[int, np.ndarray]:
    out = {}
    for frame in SCAN_FRAMES:
        depth, source = load_gt_depth(kitti_tiny, SplitEntry(KITTI_TINY_DRIVE, frame))
        assert source == GT_VELODYNE
        out[frame] = depth
    return out


def test_velodyne_maps_are_plausible(velodyne_gt: dict[int, np.ndarray]) -> None:
    for frame, depth in velodyne_gt.items():
        assert depth.shape == (375, 1242), frame
        valid = depth > 0
        # a 64-beam scan covers ~15-20k pixels of a 1242x375 KITTI frame
        assert 10_000 < valid.sum() < 25_000, (frame, valid.sum())
        values = depth[valid]
        assert values.min() > 1.0 and values.max() < 90.0, frame  # in front, within LiDAR range
        assert 4.0 < np.median(values) < 25.0, frame  # a street: most returns are near
        # the LiDAR sees the lower part of the image; the Garg crop was drawn around it
        assert (valid & crop_mask(375, 1242, "garg")).sum() > 0.75 * valid.sum(), frame
        assert not valid[:40].any(), frame  # nothing in the top rows (sky / above the beams)


def test_frames_without_scan_are_an_error(kitti_tiny: Path) -> None:
    with pytest.raises(PackdepthError, match=r"velodyne_points/data/0000000001\.bin"):
        load_gt_depth(kitti_tiny, SplitEntry(KITTI_TINY_DRIVE, 1))


def test_gt_against_itself_is_perfect(velodyne_gt: dict[int, np.ndarray]) -> None:
    for depth in velodyne_gt.values():
        m = depth_metrics(depth, depth)
        assert m["abs_rel"] == 0.0 and m["rmse"] == 0.0
        assert m["a1"] == 1.0 and m["scale_ratio"] == 1.0


def test_constant_depth_baseline(velodyne_gt: dict[int, np.ndarray]) -> None:
    abs_rels = []
    for depth in velodyne_gt.values():
        m = depth_metrics(np.full_like(depth, 10.0), depth)
        # median scaling turns any constant into median(gt): abs_rel = mean(|gt - median| / gt)
        gt = depth[(depth > 1e-3) & (depth < 80) & crop_mask(*depth.shape, "garg")]
        assert m["abs_rel"] == pytest.approx(np.mean(np.abs(gt - np.median(gt)) / gt), rel=1e-6)
        abs_rels.append(m["abs_rel"])
    mean = float(np.mean(abs_rels))
    print(f"kitti_tiny constant-depth baseline (Garg crop, median scaling): abs_rel {mean:.4f}")
    assert 0.2 < mean < 0.6  # far worse than a trained model (~0.1), far better than chance


def test_annotated_pngs_load_in_metres(kitti_annotated: Path) -> None:
    folder = kitti_annotated
    files = json.loads((folder / "test_annotations.json").read_text())["files"]
    assert len(files) == 3
    for item in files:
        with Image.open(folder / item["depth"]) as img:
            raw = np.array(img)
        assert raw.dtype == np.uint16
        depth = read_depth_png(folder / item["depth"], scale=item["depth_scale"])
        np.testing.assert_array_equal(depth, raw.astype(np.float32) / item["depth_scale"])
        valid = depth[depth > 0]
        assert valid.size > 10_000
        assert valid.min() > 1.0 and valid.max() < 100.0  # metres, not raw counts
        assert 4.0 < np.median(valid) < 40.0


def test_annotated_png_is_preferred_over_velodyne(kitti_annotated: Path, tmp_path: Path) -> None:
    """The same file served through the raw layout's proj_depth/groundtruth folder."""
    source = kitti_annotated / "depth" / "0000000005.png"
    drive = tmp_path / KITTI_TINY_DRIVE
    target = drive / "proj_depth" / "groundtruth" / "image_02" / "0000000005.png"
    target.parent.mkdir(parents=True)
    target.symlink_to(source)
    scan = drive / "velodyne_points" / "data" / "0000000005.bin"
    scan.parent.mkdir(parents=True)
    scan.write_bytes(b"")
    depth, kind = load_gt_depth(tmp_path, SplitEntry(KITTI_TINY_DRIVE, 5))
    assert kind == GT_ANNOTATED
    np.testing.assert_array_equal(depth, read_depth_png(source))
