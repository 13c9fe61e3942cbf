"""Depth metrics against hand-computed values, crop boxes, median scaling and aggregation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from packdepth.evaluation.metrics import (
    METRIC_NAMES,
    DepthProtocol,
    aggregate_metrics,
    crop_mask,
    depth_metrics,
    depth_metrics_by_class,
    resize_prediction,
)
from packdepth.evaluation.tables import format_table

GT = np.array([[2.0, 4.0], [8.0, 0.0]])  # 0 = no ground truth


def test_hand_computed_metrics_without_scaling() -> None:
    # valid pairs (gt, pred): (2, 1), (4, 4), (8, 12); the last pixel has no GT.
    pred = np.array([[1.0, 4.0], [12.0, 5.0]])
    m = depth_metrics(pred, GT, crop=None, median_scaling=False)
    assert m["abs_rel"] == pytest.approx((1 / 2 + 0 + 4 / 8) / 3)
    assert m["sq_rel"] == pytest.approx((1 / 2 + 0 + 16 / 8) / 3)
    assert m["rmse"] == pytest.approx(math.sqrt((1 + 0 + 16) / 3))
    assert m["rmse_log"] == pytest.approx(math.sqrt((math.log(2) ** 2 + math.log(1.5) ** 2) / 3))
    # max(gt/p, p/gt) = 2, 1, 1.5 against 1.25, 1.5625, 1.953125
    assert (m["a1"], m["a2"], m["a3"]) == pytest.approx((1 / 3, 2 / 3, 2 / 3))
    assert m["valid_pixels"] == 3
    assert m["scale_ratio"] == pytest.approx(4 / 4)  # median(2,4,8) / median(1,4,12)


def test_median_scaling_then_clamping_by_hand() -> None:
    pred = np.array([[2.0, 1.0], [8.0, 99.0]])
    # ratio = median(2,4,8) / median(2,1,8) = 4 / 2; scaled pred = 4, 2, 16
    m = depth_metrics(pred, GT, crop=None, median_scaling=True)
    assert m["scale_ratio"] == pytest.approx(2.0)
    assert m["abs_rel"] == pytest.approx((2 / 2 + 2 / 4 + 8 / 8) / 3)
    # with max_depth 10 the scaled 16 is clamped to 10 after scaling: |8 - 10| / 8
    m = depth_metrics(pred, GT, crop=None, median_scaling=True, max_depth=10.0)
    assert m["abs_rel"] == pytest.approx((2 / 2 + 2 / 4 + 2 / 8) / 3)


def test_valid_range_is_strict() -> None:
    gt = np.array([[1e-3, 5.0, 80.0, 79.0]])
    m = depth_metrics(gt * 0 + 5.0, gt, crop=None, median_scaling=False)
    assert m["valid_pixels"] == 2  # 1e-3 and 80 are excluded
    assert m["abs_rel"] == pytest.approx((0 + 74 / 79) / 2)


def test_garg_and_eigen_crop_boxes_at_kitti_size() -> None:
    # 0.40810811·375 = 153.04, 0.99189189·375 = 371.96, 0.03594771·1242 = 44.65,
    # 0.96405229·1242 = 1197.35 -> rows [153, 371), cols [44, 1197) (truncated like the reference)
    garg = crop_mask(375, 1242, "garg")
    rows, cols = np.nonzero(garg)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (153, 370, 44, 1196)
    assert garg.sum() == (371 - 153) * (1197 - 44)
    # Eigen: 0.3324324·375 = 124.66, 0.91351351·375 = 342.57
    rows, cols = np.nonzero(crop_mask(375, 1242, "eigen"))
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (124, 341, 44, 1196)
    assert crop_mask(4, 5, None).all()
    with pytest.raises(ValueError, match="unknown crop"):
        crop_mask(4, 5, "centre")


def test_crop_excludes_pixels_outside_the_box() -> None:
    # 10x10: Garg rows [4, 9), cols [0, 9). Errors outside the box must not count.
    gt = np.full((10, 10), 10.0)
    pred = gt.copy()
    pred[:4] = 50.0  # above the crop
    pred[:, 9] = 50.0  # right of the crop
    m = depth_metrics(pred, gt, crop="garg", median_scaling=False)
    assert m["abs_rel"] == 0.0 and m["valid_pixels"] == 5 * 9
    m = depth_metrics(pred, gt, crop=None, median_scaling=False)
    assert m["abs_rel"] == pytest.approx((40 + 6) * 4.0 / 100)


def test_median_scaled_metrics_are_invariant_to_a_constant_factor() -> None:
    rng = np.random.default_rng(0)
    gt = rng.uniform(2.0, 60.0, (24, 80))
    gt[rng.random(gt.shape) < 0.5] = 0.0
    pred = gt * rng.uniform(0.7, 1.4, gt.shape) + 0.5
    base = depth_metrics(pred, gt)
    scaled = depth_metrics(pred * 7.3, gt)
    for name in METRIC_NAMES:
        assert scaled[name] == pytest.approx(base[name], rel=1e-9, abs=1e-12)
    assert scaled["scale_ratio"] == pytest.approx(base["scale_ratio"] / 7.3)
    assert base["abs_rel"] > 0.05  # the prediction is really imperfect


@pytest.mark.parametrize("median_scaling", [True, False])
def test_perfect_prediction(median_scaling: bool) -> None:
    gt = np.random.default_rng(1).uniform(1.0, 70.0, (20, 64))
    m = depth_metrics(torch.from_numpy(gt)[None, None], gt, median_scaling=median_scaling)
    assert m["abs_rel"] == 0.0 and m["rmse"] == 0.0 and m["rmse_log"] == 0.0
    assert m["a1"] == 1.0 and m["a2"] == 1.0 and m["a3"] == 1.0


def test_ten_percent_too_far() -> None:
    gt = np.random.default_rng(2).uniform(1.0, 70.0, (20, 64))  # 1.1 * 70 < 80: no clamping
    m = depth_metrics(1.1 * gt, gt, median_scaling=False)
    assert m["abs_rel"] == pytest.approx(0.1)
    assert m["a1"] == 1.0
    assert m["scale_ratio"] == pytest.approx(1 / 1.1)
    assert depth_metrics(1.1 * gt, gt, median_scaling=True)["abs_rel"] == pytest.approx(0.0)


def test_resize_is_bilinear_in_inverse_depth() -> None:
    # inverse depth [1, 0.5] upsampled x2 with half-pixel centres samples x = -0.25 (edge), 0.25,
    # 0.75, 1.25 (edge): 1, 0.875, 0.625, 0.5 -> depth 1, 8/7, 1.6, 2
    out = resize_prediction(np.array([[1.0, 2.0]]), (2, 4))
    np.testing.assert_allclose(out, [[1.0, 8 / 7, 1.6, 2.0]] * 2)
    # a prediction at a lower resolution is resized before scoring
    gt = np.full((8, 24), 10.0)
    m = depth_metrics(np.full((4, 12), 10.0), gt, median_scaling=False)
    assert m["abs_rel"] == pytest.approx(0.0, abs=1e-12)


def test_wrong_aspect_or_empty_gt_is_refused() -> None:
    with pytest.raises(ValueError, match="aspect"):
        depth_metrics(np.ones((10, 10)), np.ones((10, 30)))
    with pytest.raises(ValueError, match="no valid"):
        depth_metrics(np.ones((4, 4)), np.zeros((4, 4)))
    with pytest.raises(ValueError, match="NaN"):
        depth_metrics(np.full((4, 4), np.nan), np.ones((4, 4)))


def test_by_class_uses_the_whole_image_scale() -> None:
    gt = np.array([[2.0, 4.0, 8.0, 16.0]])
    pred = np.array([[1.0, 2.0, 4.0, 16.0]])  # class 0 exactly half, class 1 at 1/2 and 1
    labels = np.array([[0, 0, 1, 1]])
    # whole-image ratio = median(2,4,8,16) / median(1,2,4,16) = 6 / 3 = 2 -> pred 2, 4, 8, 32
    out = depth_metrics_by_class(pred, gt, labels, crop=None)
    assert out[0]["abs_rel"] == pytest.approx(0.0) and out[0]["valid_pixels"] == 2
    assert out[1]["abs_rel"] == pytest.approx((0 + 16 / 16) / 2)
    # labels at half the GT resolution are resized by nearest neighbour
    gt2 = np.repeat(np.repeat(gt, 2, 0), 2, 1)
    pred2 = np.repeat(np.repeat(pred, 2, 0), 2, 1)
    out2 = depth_metrics_by_class(pred2, gt2, labels, crop=None)
    assert out2[1]["abs_rel"] == pytest.approx(out[1]["abs_rel"])
    assert out2[1]["valid_pixels"] == 8


def test_aggregate_is_the_mean_of_images_with_ratio_statistics() -> None:
    rows = [
        {**dict.fromkeys(METRIC_NAMES, 0.0), "scale_ratio": 1.0, "valid_pixels": 10},
        {**dict.fromkeys(METRIC_NAMES, 0.3), "scale_ratio": 2.0, "valid_pixels": 20},
        {**dict.fromkeys(METRIC_NAMES, 0.6), "scale_ratio": 4.0, "valid_pixels": 30},
    ]
    agg = aggregate_metrics(rows)
    assert agg["abs_rel"] == pytest.approx(0.3) and agg["a3"] == pytest.approx(0.3)
    assert agg["num_images"] == 3 and agg["valid_pixels"] == 60
    assert agg["ratio_median"] == 2.0
    assert agg["ratio_std"] == pytest.approx(np.std([1.0, 2.0, 4.0]))
    assert agg["ratio_rel_std"] == pytest.approx(np.std([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError):
        aggregate_metrics([])


def test_protocol_and_table() -> None:
    proto = DepthProtocol()
    assert proto.metric_kwargs() == {
        "crop": "garg",
        "min_depth": 1e-3,
        "max_depth": 80.0,
        "median_scaling": True,
    }
    assert "crop garg" in proto.describe() and "median scaling" in proto.describe()
    table = format_table(
        {**dict.fromkeys(METRIC_NAMES, 0.125), "ratio_median": 3.0, "ratio_rel_std": 0.1},
        proto.describe(),
    )
    assert table.splitlines()[0].startswith("protocol: crop garg")
    assert "0.1250" in table and "median 3" in table
    with pytest.raises(ValueError):
        DepthProtocol(crop="centre")
    with pytest.raises(ValueError):
        DepthProtocol(min_depth=90.0)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_reduced_precision_tensors_give_the_metrics_of_their_values(dtype: torch.dtype) -> None:
    """Mixed-precision predictions (bfloat16, float16 tensors) are scored as the float values
    they hold; GT and labels may be tensors too."""
    gen = torch.Generator().manual_seed(1)
    gt = torch.rand(12, 40, generator=gen) * 30 + 2
    pred = (gt * (1 + 0.2 * torch.rand(12, 40, generator=gen))).to(dtype)
    labels = torch.randint(0, 3, (12, 40), generator=gen)
    exact = depth_metrics(pred.double().numpy(), gt.numpy(), crop=None)
    assert depth_metrics(pred, gt, crop=None) == exact
    assert depth_metrics(pred[None, None], gt, crop=None) == exact
    gt_low = gt.to(dtype)  # reduced-precision GT too
    assert depth_metrics(pred, gt_low, crop=None) == depth_metrics(
        pred.double().numpy(), gt_low.double().numpy(), crop=None)
    by_class = depth_metrics_by_class(pred, gt, labels, crop=None)
    assert by_class == depth_metrics_by_class(pred.double().numpy(), gt.numpy(), labels.numpy(),
                                              crop=None)
