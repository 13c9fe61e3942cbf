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
    params = CRFParams(gate=0.0)  # refined everywhere
    q, labels = label_marginals(ramp, image, params)
    argmax_row = labels[q.argmax(axis=0)][h // 2]
    assert len(np.unique(argmax_row)) < 0.5 * w  # the most likely label: a staircase
    row = refine_depth(ramp, image, params)[h // 2]
    assert len(np.unique(row)) >= 0.95 * w
    assert np.all(np.diff(row) > 0)
    error = np.abs(row / ramp[h // 2] - 1)
    assert error[16:-16].max() < 0.04 and error.max() < 0.1  # pulled in at the image's ends
    # the gate (default) leaves a slanted surface without depth edges as it was
    np.testing.assert_allclose(refine_depth(ramp, image), ramp, rtol=1e-6)


def two_regions(h: int = 32, w: int = 320, split: int = 160) -> tuple[np.ndarray, np.ndarray]:
    """A red | blue image and its true depth: 5 m left of column ``split``, 20 m from it (the
    synthetic world's width, so that the gate reaches 3 px)."""
    image = np.zeros((h, w, 3), np.uint8)
    image[:, :split], image[:, split:] = RED, BLUE
    truth = np.where(np.arange(w) < split, 5.0, 20.0)[None].repeat(h, 0)
    return image, truth


def step_width(row: np.ndarray) -> int:
    """Columns between 10 % and 90 % of the 5 → 20 m step (in log depth)."""
    t = np.log(row / 5.0) / np.log(4.0)
    return int(np.sum((t > 0.1) & (t < 0.9)))


@pytest.mark.parametrize("params, gain", [(CRFParams(), 0.85),
                                           (CRFParams(sigma=0.2, tau=0.1), 0.4)])
def test_a_blurred_depth_step_is_sharpened_onto_the_colour_edge(params, gain):
    image, truth = two_regions()
    pred = 1.0 / blur_rows(1.0 / truth, 3.0)  # the network's depth: the step blurred by 3 px
    near = np.abs(np.arange(320) - 159.5) < 8  # the 16 columns around the colour edge

    def error(depth: np.ndarray) -> float:
        return float(np.abs(np.log(depth[:, near] / truth[:, near])).mean())

    refined = refine_depth(pred, image, params)
    assert error(refined) < gain * error(pred)
    assert step_width(refined[16]) <= step_width(pred[16]) - 3
    # the colour edge makes the difference: on a uniform image the same depth stays blurred
    assert error(refine_depth(pred, np.full_like(image, 128), params)) > 1.1 * error(refined)
    far = np.abs(np.arange(320) - 159.5) > 15  # the gate keeps the prediction away from edges
    np.testing.assert_array_equal(refined[:, far], pred[:, far].astype(np.float32))


def test_the_soft_compatibility_puts_the_step_on_the_colour_edge():
    image, truth = two_regions()
    refined = refine_depth(1.0 / blur_rows(1.0 / truth, 3.0), image,
                           CRFParams(sigma=0.2, tau=0.1))
    row = refined[16]
    assert np.all(row[:160] < 5.5) and np.all(row[161:] > 18.0)  # one column in between
    assert row[160] > 10.0  # the jump is across the colour edge (between columns 159 and 160)


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
