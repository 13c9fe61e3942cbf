"""Per-frame files: npz and 16-bit PNG round trips, colour pictures and their range."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from packdepth.data.kitti import read_depth_png
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import read_prediction
from packdepth.inference.outputs import (
    PNG16_MAX_DEPTH,
    ColourRange,
    depth_colours,
    frame_paths,
    read_result,
    write_frame,
    write_npz,
)
from packdepth.inference.predict import DepthResult
from tests.inference.conftest import image_pixels


def result(h: int = 30, w: int = 50, metric: bool = False, K=None, seed: int = 0) -> DepthResult:
    depth = np.random.default_rng(seed).uniform(0.5, 300.0, (h, w)).astype(np.float32)
    return DepthResult(depth, (1.0 / depth).astype(np.float32), K, metric)


def test_every_format_round_trips(tmp_path):
    K = np.array([[40.0, 0, 24.5], [0, 40.0, 14.5], [0, 0, 1]])
    res, rgb = result(K=K, metric=True), image_pixels(30, 50)
    files = write_frame(tmp_path / "a" / "f", res, rgb, ("npz", "png16", "viz", "panel"),
                        depth_colours(res, ColourRange()))
    assert sorted(p.name for p in files) == ["f.npz", "f.png", "f_depth.png", "f_panel.png"]
    with np.load(tmp_path / "a" / "f.npz") as z:
        assert sorted(z.files) == ["K", "depth", "inv_depth", "metric"]
        np.testing.assert_array_equal(z["depth"], res.depth)
        np.testing.assert_array_equal(z["inv_depth"], res.inv_depth)
        np.testing.assert_array_equal(z["K"], K)
        assert z["metric"].dtype == bool and bool(z["metric"])
    np.testing.assert_array_equal(read_prediction(tmp_path / "a" / "f.npz"), res.depth)
    png = read_depth_png(tmp_path / "a" / "f.png")
    near = res.depth < PNG16_MAX_DEPTH
    assert near.any() and (~near).any()
    assert np.abs(png[near] - res.depth[near]).max() <= 0.5 / 256 + 1e-6  # KITTI's 1/256 m steps
    np.testing.assert_allclose(png[~near], PNG16_MAX_DEPTH)  # beyond 256 m: clipped, not wrapped
    np.testing.assert_array_equal(read_prediction(tmp_path / "a" / "f.png"), png)
    with Image.open(tmp_path / "a" / "f_depth.png") as viz, \
            Image.open(tmp_path / "a" / "f_panel.png") as pan:
        assert (viz.mode, viz.size) == ("RGB", (50, 30))
        assert pan.size == (2 * 50 + 2, 30)
        np.testing.assert_array_equal(np.asarray(pan)[:, :50], rgb)
        np.testing.assert_array_equal(np.asarray(pan)[:, 52:], np.asarray(viz))


def test_no_K_and_relative_in_the_npz(tmp_path):
    write_frame(tmp_path / "g", result(), image_pixels(30, 50), ("npz",))
    with np.load(tmp_path / "g.npz") as z:
        assert "K" not in z.files and not bool(z["metric"])
    assert frame_paths(tmp_path / "g", ("npz", "video")) == {"npz": tmp_path / "g.npz"}


def test_read_result_is_the_inverse_of_the_writers(tmp_path):
    K = np.array([[40.0, 0, 24.5], [0, 40.0, 14.5], [0, 0, 1]])
    for res in (result(K=K, metric=True), result(seed=1)):
        write_npz(tmp_path / "r.npz", res)
        back = read_result(tmp_path / "r.npz")
        np.testing.assert_array_equal(back.depth, res.depth)
        np.testing.assert_array_equal(back.inv_depth, res.inv_depth)
        assert back.metric == res.metric
        assert (back.K is None) if res.K is None else np.array_equal(back.K, res.K)
    depth = np.array([[0.0, 2.0], [4.0, 8.0]], np.float32)
    write_frame(tmp_path / "p", DepthResult(depth, depth, None, True), None, ("png16",))
    back = read_result(tmp_path / "p.png")  # KITTI PNG: metres, 0 = none (inverse 0 too)
    np.testing.assert_array_equal(back.depth, depth)
    np.testing.assert_array_equal(back.inv_depth, [[0.0, 0.5], [0.25, 0.125]])
    assert back.metric and back.K is None
    np.savez(tmp_path / "badK.npz", depth=depth, K=np.eye(2))
    with pytest.raises(PackdepthError, match=r"badK.npz: 'K' must be a finite \[3,3\] array"):
        read_result(tmp_path / "badK.npz")


def test_colours_near_is_bright_and_the_range_rule():
    depth = np.tile(np.linspace(2.0, 50.0, 40, dtype=np.float32), (10, 1))  # near on the left
    res = DepthResult(depth, 1.0 / depth, None, False)
    colours = depth_colours(res, ColourRange()).astype(int).sum(-1)
    assert colours[:, 0].mean() > colours[:, -1].mean()
    # relative depth: the range follows each frame, so a frame twice as far looks the same
    far = DepthResult(2 * depth, 0.5 / depth, None, False)
    np.testing.assert_array_equal(depth_colours(far, ColourRange()),
                                  depth_colours(res, ColourRange()))
    # metric depth: the first frame's range is kept, so the farther frame is darker
    keep = ColourRange()
    first = depth_colours(DepthResult(depth, 1.0 / depth, None, True), keep)
    second = depth_colours(DepthResult(2 * depth, 0.5 / depth, None, True), keep)
    assert second.astype(int).sum() < first.astype(int).sum()
