"""Augmentation: flip geometry against a ray-cast scene, colour ops, determinism."""

from __future__ import annotations

import numpy as np
import torch

from packdepth.data.augment import (
    AugmentConfig,
    adjust_hue,
    augment_item,
    color_jitter,
    flip_item,
    hsv_to_rgb,
    low_light,
    rgb_to_hsv,
)
from packdepth.geometry import flip_intrinsics, inverse_warp, project
from tests.geometry.scenes import default_camera, relative_transform, render, rot_y

H, W = 48, 96


def _scene_item() -> dict:
    """A target/context pair rendered exactly, with GT depth, pose and K (unbatched)."""
    K = default_camera(H, W)
    R_t, c_t = rot_y(0.03), np.array([0.3, 0.0, 0.0])
    R_s, c_s = rot_y(-0.04), np.array([0.1, -0.05, 0.9])
    target, source = render(K, R_t, c_t, H, W), render(K, R_s, c_s, H, W)
    img, ctx = target.image[0].float(), source.image.float()
    return {
        "image": img, "context": ctx, "image_aug": img.clone(), "context_aug": ctx.clone(),
        "K": torch.from_numpy(K).float(), "depth_gt": target.depth[0].float(),
        "pose_gt": relative_transform(R_t, c_t, R_s, c_s).float(),
        "semantic": (torch.arange(W).expand(H, W) // 10).long(),
    }


def _warp_error(item: dict) -> tuple[float, float]:
    """Mean and max |target - warped context| over valid pixels (image borders excluded)."""
    warped, valid = inverse_warp(
        item["context"][:1], item["depth_gt"][None], item["pose_gt"][:1], item["K"][None]
    )
    valid[..., :2, :] = valid[..., -2:, :] = valid[..., :, :2] = valid[..., :, -2:] = False
    diff = (warped - item["image"][None]).abs().amax(1, keepdim=True)[valid]
    assert valid.float().mean() > 0.5
    return float(diff.mean()), float(diff.max())


def test_flipped_item_still_warps_target_from_context():
    item = _scene_item()
    mean_err, max_err = _warp_error(item)
    assert mean_err < 0.005 and max_err < 0.05  # control: the unflipped geometry reproduces
    flipped = flip_item(_scene_item())
    assert torch.equal(flipped["image"], item["image"].flip(-1))
    assert torch.equal(flipped["semantic"][:, 0], item["semantic"][:, -1])
    f_mean, f_max = _warp_error(flipped)
    assert f_mean < 0.005 and f_max < 0.05
    # A flipped image with the unflipped pose does not reproduce: the test can tell.
    wrong = dict(flipped, pose_gt=item["pose_gt"])
    assert _warp_error(wrong)[0] > 5 * f_mean


def test_flipped_intrinsics_project_mirrored_point_to_mirrored_pixel():
    K = torch.tensor([[200.0, 0.0, 150.3], [0.0, 190.0, 47.9], [0.0, 0.0, 1.0]])
    X = torch.tensor([1.7, -0.4, 9.0]).reshape(1, 3, 1, 1)
    u, v = project(X, K[None])[0, 0, 0]
    X_mirror = X * torch.tensor([-1.0, 1.0, 1.0]).reshape(1, 3, 1, 1)
    u_f, v_f = project(X_mirror, flip_intrinsics(K, 320)[None])[0, 0, 0]
    assert abs(float(u_f) - (319.0 - float(u))) < 1e-4
    assert abs(float(v_f - v)) < 1e-5


def test_hsv_round_trip_and_hue_rotation():
    x = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(hsv_to_rgb(rgb_to_hsv(x)), x, atol=1e-5)
    red = torch.tensor([1.0, 0.0, 0.0]).reshape(3, 1, 1)
    assert torch.allclose(adjust_hue(red, 1 / 3), torch.tensor([0.0, 1.0, 0.0]).reshape(3, 1, 1),
                          atol=1e-5)
    assert torch.allclose(adjust_hue(red, -1 / 3), torch.tensor([0.0, 0.0, 1.0]).reshape(3, 1, 1),
                          atol=1e-5)


def test_jitter_is_shared_by_target_and_context_and_leaves_clean_images():
    img = torch.rand(3, 16, 24, generator=torch.Generator().manual_seed(2))
    item = {"image": img, "context": torch.stack([img, img]), "image_aug": img.clone(),
            "context_aug": torch.stack([img, img]), "K": torch.eye(3)}
    cfg = AugmentConfig(flip=False, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1)
    augment_item(item, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(item["image"], img) and torch.equal(item["context"][0], img)
    assert (item["image_aug"] - img).abs().mean() > 1e-3
    assert torch.equal(item["context_aug"][0], item["image_aug"])
    assert torch.equal(item["context_aug"][1], item["image_aug"])


def test_color_jitter_same_generator_seed_same_output():
    x = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    cfg = AugmentConfig()
    a = color_jitter(x, cfg, torch.Generator().manual_seed(5))
    b = color_jitter(x, cfg, torch.Generator().manual_seed(5))
    c = color_jitter(x, cfg, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_low_light_darkens_and_adds_noise():
    x = torch.full((2, 3, 32, 32), 0.6)
    out = low_light(x, torch.Generator().manual_seed(0))
    assert out.min() >= 0 and out.max() <= 1
    assert out.mean() < 0.6 * 0.6  # gain <= 0.6 and gamma > 1
    assert out.std() > 0.002  # noise on a flat image
    assert not torch.equal(out[0], out[1])  # noise is per frame


def test_disabled_augmentation_changes_nothing():
    item = _scene_item()
    before = {k: v.clone() for k, v in item.items()}
    augment_item(item, AugmentConfig(enabled=False), torch.Generator().manual_seed(0))
    assert all(torch.equal(item[k], before[k]) for k in before)
