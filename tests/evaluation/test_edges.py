"""Edge-band metrics (packdepth.evaluation.edges) on ground truths whose edges are known."""

from __future__ import annotations

import numpy as np

from packdepth.evaluation.edges import depth_discontinuities, edge_band, edge_metrics
from packdepth.evaluation.metrics import DepthProtocol

EXACT = DepthProtocol(crop=None, median_scaling=False)


def two_planes(h: int = 20, w: int = 60, split: int = 30) -> np.ndarray:
    return np.where(np.arange(w) < split, 10.0, 20.0)[None].repeat(h, 0)


def test_discontinuities_are_both_sides_of_the_jump_and_the_band_is_2px_around():
    gt = two_planes()
    edges = depth_discontinuities(gt)
    assert np.array_equal(np.flatnonzero(edges.any(0)), [29, 30]) and edges[:, 29:31].all()
    band = edge_band(edges, 2)
    assert np.array_equal(np.flatnonzero(band.any(0)), np.arange(27, 33)) and band[:, 27:33].all()
    # a jump below the threshold, or next to missing GT, is no discontinuity
    assert not depth_discontinuities(two_planes() * np.where(np.arange(60) < 30, 1.0, 0.55)).any()
    gt[:, 30:] = 0.0
    assert not depth_discontinuities(gt).any()


def test_sparse_gt_needs_the_radius_to_see_its_neighbours():
    gt = two_planes()
    gt[:, 1::2] = 0.0  # every other column, as a scan line
    assert not depth_discontinuities(gt, radius=1).any()
    edges = depth_discontinuities(gt, radius=2)
    assert np.array_equal(np.flatnonzero(edges.any(0)), [28, 30])


def test_edge_and_interior_figures_separate_the_errors():
    gt = two_planes()
    pred = gt.copy()
    pred[:, 27:33] *= 1.1  # wrong only within the band
    parts = edge_metrics(pred, gt, EXACT)
    assert np.isclose(parts["edge"]["abs_rel"], 0.1) and parts["edge"]["valid_pixels"] == 120
    assert parts["interior"]["abs_rel"] == 0.0 and parts["interior"]["valid_pixels"] == 1080
    assert "edge" not in edge_metrics(np.ones((20, 60)), np.full((20, 60), 5.0), EXACT)


def test_the_window_passes_equal_comparing_every_pixel_pair():
    rng = np.random.default_rng(0)
    h, w = 30, 45
    for radius in (1, 2, 4):
        gt = np.exp(rng.normal(2.0, 0.3, (h, w)))
        gt[rng.random(gt.shape) < 0.3] = 0.0
        gt[0, 0] = np.nan
        log_gt = np.where(gt > 0, np.log(np.where(gt > 0, gt, 1.0)), np.nan)
        expected = np.zeros((h, w), bool)
        padded = np.pad(log_gt, radius, constant_values=np.nan)
        for r in range(h):
            for c in range(w):
                window = padded[r:r + 2 * radius + 1, c:c + 2 * radius + 1]
                expected[r, c] = np.nanmax(np.abs(window - log_gt[r, c]), initial=0) > 0.3 \
                    if np.isfinite(log_gt[r, c]) else False
        assert np.array_equal(depth_discontinuities(gt, jump=0.3, radius=radius), expected)
        assert np.array_equal(edge_band(expected, radius),
                              np.array([[expected[max(0, r - radius):r + radius + 1,
                                                  max(0, c - radius):c + radius + 1].any()
                                         for c in range(w)] for r in range(h)]))
