"""Dense-CRF depth refinement (packdepth.apps.crf) against truths built here."""

from __future__ import annotations

import numpy as np
import pytest

from packdepth.apps.crf import CRFParams, depth_labels, label_marginals, refine_depth

RED, BLUE = (200, 60, 40), (40, 90, 200)


def random_scene(h: int = 40, w: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    depth = np.exp(rng.uniform(0.0, 3.0, (h, w)))
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return depth, image


def blur_rows(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur along each row (edges replicated)."""
    r = int(3 * sigma)
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma**2))
    padded = np.pad(x, ((0, 0), (r, r)), mode="edge")
    return np.stack([np.convolve(row, k / k.sum(), mode="valid") for row in padded])


def test_output_stays_within_the_labels_and_runs_are_identical():
    depth, image = random_scene()
    params = CRFParams(depth_range=(2.0, 8.0))  # narrower than the prediction (1-20 m)
    first, second = refine_depth(depth, image, params), refine_depth(depth, image, params)
    assert np.array_equal(first, second)
    assert first.dtype == np.float32 and first.shape == depth.shape
    assert first.min() >= np.float32(2.0) and first.max() <= np.float32(8.0)
    assert first.min() < 2.1 and first.max() > 7.5  # the range is used, not collapsed
    labels = depth_labels(depth)
    free = refine_depth(depth, image)
    assert labels[0] <= free.min() and free.max() <= labels[-1]


def test_without_pairwise_terms_the_prediction_comes_back():
    depth, image = random_scene(seed=1)
    out = refine_depth(depth, image, CRFParams(w1=0.0, w2=0.0))
    assert np.max(np.abs(out / depth - 1)) < 0.005  # label quantisation only


def test_invalid_pixels_are_filled_from_their_neighbours():
    depth = np.full((30, 30), 10.0)
    depth[10:20, 10:20] = 0.0
    depth[0, 0], depth[0, 1] = np.nan, np.inf
    out = refine_depth(depth, np.full((30, 30, 3), 128, np.uint8), CRFParams(iterations=10))
    assert np.isfinite(out).all()
    assert np.allclose(out, 10.0, rtol=0.01)


def test_smooth_ramp_comes_back_smooth_not_as_a_staircase():
    h, w = 24, 160
    ramp = np.tile(np.geomspace(2.0, 20.0, w), (h, 1))
    image = np.full((h, w, 3), 128, np.uint8)
    params = CRFParams(labels=16)  # 16 labels for 160 columns: argmax must repeat values
    q, labels = label_marginals(ramp, image, params)
    argmax_row = labels[q.argmax(axis=0)][h // 2]
    assert len(np.unique(argmax_row)) <= 16  # what the most likely label would give
    row = refine_depth(ramp, image, params)[h // 2]
    assert len(np.unique(row)) >= 0.95 * w
    assert np.all(np.diff(row) > 0)
    assert np.max(np.abs(row / ramp[h // 2] - 1)) < 0.03


def two_regions(h: int = 32, w: int = 80, split: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A red | blue image and its true depth: 5 m left of column ``split``, 20 m from it."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :split], image[:, split:] = RED, BLUE
    truth = np.where(np.arange(w) < split, 5.0, 20.0)[None].repeat(h, 0)
    return image, truth


def test_a_blurred_depth_step_is_sharpened_onto_the_colour_edge():
    image, truth = two_regions()
    # the network's depth: the step blurred (in inverse depth) and 2 px off the colour edge
    pred = 1.0 / blur_rows(1.0 / np.roll(truth, 2, axis=1), 3.0)
    near = np.abs(np.arange(80) - 39.5) < 8  # the 16 columns around the colour edge
    refined = refine_depth(pred, image)
    err_before = np.abs(np.log(pred[:, near] / truth[:, near])).mean()
    err_after = np.abs(np.log(refined[:, near] / truth[:, near])).mean()
    assert err_after < 0.5 * err_before

    def crossing(depth: np.ndarray) -> int:  # first column past the geometric mean, 10 m
        return int(np.argmax(depth[16] > 10.0))

    assert crossing(pred) == 42 and crossing(refined) == 40  # moved onto the colour edge

    def width(depth: np.ndarray) -> int:  # columns between 10 % and 90 % of the log step
        t = np.log(depth[16] / 5.0) / np.log(4.0)
        return int(np.sum((t > 0.1) & (t < 0.9)))

    assert width(refined) < width(pred) / 2
    # the image makes the difference: on a uniform image the same depth stays blurred
    flat = refine_depth(pred, np.full_like(image, 128))
    assert np.abs(np.log(flat[:, near] / truth[:, near])).mean() > 2 * err_after


def test_mismatched_sizes_and_bad_parameters_are_refused():
    depth, image = random_scene()
    with pytest.raises(ValueError, match="the image is 59x40 but the depth is 60x40"):
        refine_depth(depth, image[:, :59])
    with pytest.raises(ValueError, match="no finite positive"):
        refine_depth(np.zeros_like(depth), image)
    with pytest.raises(ValueError, match="sigma"):
        CRFParams(sigma=0.0)
    with pytest.raises(ValueError, match="depth_range"):
        CRFParams(depth_range=(5.0, 1.0))
