"""The shared sequence dataset: context order, intrinsics scaling, GT policy, determinism."""

from __future__ import annotations

import pickle
from functools import partial

import numpy as np
import pytest
import torch
from torch.utils.data import default_collate

from packdepth.data.augment import AugmentConfig
from packdepth.data.sequence import (
    FrameRecord,
    SequenceDataset,
    load_frame,
    samples_from_sequence,
)
from packdepth.errors import PackdepthError
from tests.data.layouts import K_NATIVE, frame_pixels, grey_pixels, save_grey


def _frames(n: int, **extra) -> list[FrameRecord]:
    return [
        FrameRecord(image=partial(frame_pixels, i), K=K_NATIVE, name=f"f{i}",
                    **{k: v[i] for k, v in extra.items()})
        for i in range(n)
    ]


def test_samples_keep_frames_with_all_neighbours():
    frames = _frames(5)
    assert [s.target.name for s in samples_from_sequence(frames, (-1, 1))] == ["f1", "f2", "f3"]
    assert [s.target.name for s in samples_from_sequence(frames, (-2,))] == ["f2", "f3", "f4"]
    first = samples_from_sequence(frames, (1, -1))[0]
    assert first.target.name == "f1" and [c.name for c in first.context] == ["f2", "f0"]


def test_context_follows_offsets_by_content():
    frames = _frames(6)
    ds = SequenceDataset(samples_from_sequence(frames, (-1, 2)), (-1, 2), 48, 64)
    for i in range(len(ds)):
        item = ds[i]
        t = i + 1  # first target is frame 1
        expect = [frame_pixels(t - 1), frame_pixels(t + 2)]
        for k in range(2):
            got = (item["context"][k].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            assert np.array_equal(got, expect[k])
        assert item["name"] == f"f{t}"
        assert item["offsets"].tolist() == [-1, 2]
    assert torch.equal(ds[1]["context"][0], ds[0]["image"])


def test_intrinsics_scaled_with_pixel_centre_convention():
    ds = SequenceDataset(samples_from_sequence(_frames(3), (-1, 1)), (-1, 1), 24, 16)
    K = ds[0]["K"]
    # 64x48 -> 16x24: sx = 1/4, sy = 1/2; c' = s (c + 0.5) - 0.5
    expected = [[50 / 4, 0, (31.5 + 0.5) / 4 - 0.5], [0, 25, (23.5 + 0.5) / 2 - 0.5], [0, 0, 1]]
    assert torch.allclose(K, torch.tensor(expected), atol=1e-5)
    assert ds[0]["image"].shape == (3, 24, 16)


def test_pose_and_translation_gt_from_camera_to_world_poses():
    poses = np.tile(np.eye(4), (4, 1, 1))
    poses[:, 2, 3] = [0.0, 1.0, 3.0, 6.0]  # forward along z: 1, 2, 3 m steps
    ds = SequenceDataset(samples_from_sequence(_frames(4, pose=poses), (-1, 1)), (-1, 1), 12, 16)
    item = ds[0]  # target frame 1 at z = 1
    assert torch.allclose(item["pose_gt"][0, :3, 3], torch.tensor([0.0, 0.0, 1.0]))  # t-1 behind
    assert torch.allclose(item["pose_gt"][1, :3, 3], torch.tensor([0.0, 0.0, -2.0]))
    assert torch.allclose(item["translation_gt"], torch.tensor([1.0, 2.0]))


def test_translation_gt_from_speed_and_timestamps():
    frames = _frames(3, speed=[10.0, 12.0, 14.0], timestamp=[0.0, 0.1, 0.25])
    item = SequenceDataset(samples_from_sequence(frames, (-1, 1)), (-1, 1), 12, 16)[0]
    assert "pose_gt" not in item
    assert torch.allclose(item["translation_gt"], torch.tensor([11.0 * 0.1, 13.0 * 0.15]))


def test_optional_keys_are_all_or_nothing():
    depth = [partial(np.full, (48, 64), 7.0, np.float32)] + [None] * 3
    ds = SequenceDataset(samples_from_sequence(_frames(4, depth=depth), (1,)), (1,), 12, 16)
    assert "depth_gt" in ds[0] and "depth_gt" in ds[1]
    assert float(ds[0]["depth_gt"].max()) == 7.0 and float(ds[1]["depth_gt"].max()) == 0.0
    assert ds[1]["depth_gt"].shape == (1, 48, 64)  # zero map at native size
    partial_poses = [np.eye(4), None, np.eye(4)]
    ds = SequenceDataset(samples_from_sequence(_frames(3, pose=partial_poses), (-1, 1)), (-1, 1),
                         12, 16)
    assert "pose_gt" not in ds[0] and "translation_gt" not in ds[0]


def test_semantic_is_resized_nearest():
    labels = np.zeros((48, 64), np.uint8)
    labels[:, 32:] = 5
    frames = _frames(2, semantic=[partial(np.array, labels)] * 2)
    item = SequenceDataset(samples_from_sequence(frames, (1,)), (1,), 12, 16)[0]
    assert item["semantic"].dtype == torch.long and item["semantic"].shape == (12, 16)
    assert item["semantic"][:, :8].eq(0).all() and item["semantic"][:, 8:].eq(5).all()


def test_same_seed_same_items_and_batches_collate():
    cfg = AugmentConfig(low_light=True, low_light_prob=1.0, flip_prob=0.5)

    def build(seed: int) -> SequenceDataset:
        return SequenceDataset(samples_from_sequence(_frames(6), (-1, 1)), (-1, 1), 24, 32,
                               augment=cfg, seed=seed)

    a, b, c = build(7), build(7), build(8)
    for i in range(len(a)):
        x, y = a[i], b[i]
        assert all(torch.equal(x[k], y[k]) for k in x if k != "name")
    assert not all(torch.equal(a[i]["image_aug"], c[i]["image_aug"]) for i in range(len(a)))
    first = a[0]["image_aug"]
    a.set_epoch(1)
    assert not torch.equal(a[0]["image_aug"], first)
    batch = default_collate([a[0], a[1]])
    assert batch["context"].shape == (2, 2, 3, 24, 32) and batch["name"] == ["f1", "f2"]
    assert pickle.loads(pickle.dumps(a))[0]["name"] == "f1"  # spawn-started workers


def test_no_usable_sample_is_a_one_line_error():
    with pytest.raises(PackdepthError, match=r"no frame has all its context frames .* needs at "
                       r"least 3 usable frames in a row"):
        SequenceDataset(samples_from_sequence(_frames(2), (-1, 1)), (-1, 1), 12, 16, source="x")


def test_frame_cache_decodes_each_frame_once_and_serves_unchanged_copies():
    calls: list[int] = []

    def counted(i: int) -> np.ndarray:
        calls.append(i)
        return frame_pixels(i)

    frames = [FrameRecord(image=partial(counted, i), K=K_NATIVE, name=f"f{i}",
                          depth=partial(np.full, (48, 64), float(i + 1), np.float32))
              for i in range(5)]
    samples = samples_from_sequence(frames, (-1, 1))
    cfg = AugmentConfig(flip_prob=1.0)
    cached = SequenceDataset(samples, (-1, 1), 24, 32, augment=cfg)
    uncached = SequenceDataset(samples, (-1, 1), 24, 32, augment=cfg, cache_mb=0)
    first = [cached[i] for i in range(len(cached))]
    assert sorted(calls) == [0, 1, 2, 3, 4]  # 9 frame reads, 5 decodes
    for _ in range(2):  # augmentation (flips) never alters what the cache holds
        for i, item in enumerate(first):
            again, fresh = cached[i], uncached[i]
            for key in ("image", "context", "image_aug", "depth_gt", "K"):
                assert torch.equal(again[key], item[key]) and torch.equal(fresh[key], item[key])
    assert len(calls) == 5 + 2 * 9  # the uncached dataset decodes every time


def test_load_frame_keeps_a_16_bit_file_at_full_precision(tmp_path):
    save_grey(tmp_path / "f.png", grey_pixels(2), 16)
    image = load_frame(FrameRecord(image=tmp_path / "f.png", K=K_NATIVE, name="f"))
    assert image.shape == (3, 48, 64)
    np.testing.assert_allclose(image[0].numpy(), grey_pixels(2), atol=0.5 / 65535 + 1e-7)
