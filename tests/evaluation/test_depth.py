"""Ground truth, saved predictions, flip post-processing and model inference for evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from packdepth.data.kitti.layout import gt_depth_path, velodyne_path, write_depth_png
from packdepth.data.kitti.splits import SplitEntry
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import (
    GT_ANNOTATED,
    GT_VELODYNE,
    flip_post_process,
    load_gt_depth,
    load_image,
    load_semantic,
    predict_depth,
    read_class_names,
    read_prediction,
)
from tests.evaluation.helpers import DRIVE, ColumnRampInvDepth, ConstantInvDepth, ImageInvDepth

ENTRY = SplitEntry(DRIVE, 7)


def _write_scan(path: Path, points: list[tuple[float, float, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pts = np.array([(*p, 0.5) for p in points], dtype=np.float32)
    pts.tofile(path)


def test_gt_preference_annotated_then_velodyne_then_error(tiny_root: Path) -> None:
    drive = tiny_root / DRIVE
    with pytest.raises(PackdepthError, match=r"0000000007\.png: no ground truth .*0000000007\.bin"):
        load_gt_depth(tiny_root, ENTRY)
    # f = 100, centre (19.5, 5.5): camera (0.05, 0.05, 10) -> pixel (20, 6); the same ray at 20 m
    # (further, dropped); camera (-0.475, -0.025, 5) -> pixel (10, 5); a point behind is ignored.
    _write_scan(
        velodyne_path(drive, 7),
        [(10.0, -0.05, -0.05), (20.0, -0.1, -0.1), (5.0, 0.475, 0.025), (-5.0, 0.0, 0.0)],
    )
    depth, source = load_gt_depth(tiny_root, ENTRY)
    assert source == GT_VELODYNE and depth.shape == (12, 40)
    expected = np.zeros((12, 40), np.float32)
    expected[6, 20], expected[5, 10] = 10.0, 5.0
    np.testing.assert_allclose(depth, expected, atol=1e-5)
    annotated = np.full((12, 40), 7.25, np.float32)
    write_depth_png(gt_depth_path(drive, 7), annotated)
    depth, source = load_gt_depth(tiny_root, ENTRY)
    assert source == GT_ANNOTATED
    np.testing.assert_array_equal(depth, annotated)


def test_read_prediction_formats(tmp_path: Path) -> None:
    depth = np.arange(12, dtype=np.float32).reshape(1, 3, 4) + 1
    np.savez(tmp_path / "a.npz", depth=depth)
    np.testing.assert_array_equal(read_prediction(tmp_path / "a.npz"), depth[0])
    write_depth_png(tmp_path / "b.png", depth[0])
    np.testing.assert_array_equal(read_prediction(tmp_path / "b.png"), depth[0])
    np.savez(tmp_path / "c.npz", disp=depth)
    with pytest.raises(PackdepthError, match=r"c\.npz: no 'depth' array"):
        read_prediction(tmp_path / "c.npz")
    Image.fromarray(np.zeros((3, 4), np.uint8)).save(tmp_path / "d.png")
    with pytest.raises(PackdepthError, match=r"d\.png: expected a 16-bit depth PNG"):
        read_prediction(tmp_path / "d.png")
    (tmp_path / "e.npz").write_text("not a zip")
    with pytest.raises(PackdepthError, match=r"e\.npz: not a NumPy \.npz archive$"):
        read_prediction(tmp_path / "e.npz")


def test_flip_post_process_edge_ramp_by_hand() -> None:
    # W = 41: x = u / 40, left ramp l = 1 - clip(20 (x - 0.05), 0, 1) = 1, 1, 1, 0.5, 0, ...
    d = torch.full((1, 1, 2, 41), 1.0)
    mirrored_back = 3.0
    out = flip_post_process(d, torch.full_like(d, mirrored_back))[0, 0, 0]
    assert out[:3].tolist() == [3.0, 3.0, 3.0]  # left strip: the flipped pass
    assert out[3].item() == pytest.approx(0.5 * 3.0 + 0.5 * 2.0)
    assert out[4:37].tolist() == [2.0] * 33  # middle: the mean
    assert out[37].item() == pytest.approx(0.5 * 1.0 + 0.5 * 2.0)
    assert out[38:].tolist() == [1.0, 1.0, 1.0]  # right strip: the direct pass


def test_predict_depth_resizes_and_post_processes() -> None:
    model = ConstantInvDepth(5.0)
    image = torch.rand(2, 3, 16, 48)
    depth = predict_depth(model, image, size=(8, 24))
    assert model.seen == [(2, 3, 8, 24)]
    assert depth.shape == (2, 1, 16, 48)
    torch.testing.assert_close(depth, torch.full_like(depth, 5.0))
    depth = predict_depth(model, image, size=(8, 24), post_process=True)
    assert model.seen[-1] == (4, 3, 8, 24)  # image and mirror in one batch
    torch.testing.assert_close(depth, torch.full_like(depth, 5.0))


def test_post_processing_of_a_non_equivariant_net_by_hand() -> None:
    image = torch.zeros(1, 3, 2, 41)
    plain = predict_depth(ColumnRampInvDepth(), image)[0, 0, 0]
    torch.testing.assert_close(plain, 1.0 / (1.0 + torch.arange(41.0)))
    post = predict_depth(ColumnRampInvDepth(), image, post_process=True)[0, 0, 0]
    # direct pass 1 + u, mirrored-back flipped pass 1 + (40 - u)
    assert post[0].item() == pytest.approx(1 / 41)  # left: flipped pass
    assert post[40].item() == pytest.approx(1 / 41)  # right: direct pass
    assert post[20].item() == pytest.approx(1 / 21)  # middle: mean of 21 and 21
    assert post[3].item() == pytest.approx(1 / (0.5 * 38 + 0.5 * (4 + 38) / 2))


def test_post_processing_keeps_an_equivariant_prediction() -> None:
    image = torch.rand(1, 3, 6, 20)
    plain = predict_depth(ImageInvDepth(), image)
    torch.testing.assert_close(plain, 1.0 / (0.05 + image[:, :1]))
    torch.testing.assert_close(predict_depth(ImageInvDepth(), image, post_process=True), plain)


def test_load_image_and_semantic(tiny_root: Path) -> None:
    drive = tiny_root / DRIVE
    path = ENTRY.image_file(tiny_root)
    path.parent.mkdir(parents=True)
    rgb = np.random.default_rng(0).integers(0, 256, (12, 40, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path)
    img = load_image(path)
    assert img.shape == (3, 12, 40)
    np.testing.assert_allclose(img.permute(1, 2, 0).numpy(), rgb / 255.0, atol=1e-6)
    assert load_semantic(tiny_root, ENTRY) is None
    labels = np.zeros((12, 40), np.uint8)
    labels[6:] = 3
    sem = drive / "semantic" / "image_02" / "0000000007.png"
    sem.parent.mkdir(parents=True)
    Image.fromarray(labels).save(sem)
    got, names = load_semantic(tiny_root, ENTRY)
    np.testing.assert_array_equal(got, labels)
    assert names == {}
    (tiny_root / "classes.json").write_text(json.dumps({"0": "sky", "3": "vehicle"}))
    assert load_semantic(tiny_root, ENTRY)[1] == {0: "sky", 3: "vehicle"}


def test_load_image_reads_16_bit_and_rotated_images_like_8_bit_upright_ones(tmp_path: Path):
    grey = np.linspace(0.0, 1.0, 12 * 40).reshape(12, 40)
    Image.fromarray(np.round(grey * 255).astype(np.uint8)).save(tmp_path / "8.png")
    Image.fromarray(np.round(grey * 65535).astype(np.uint16)).save(tmp_path / "16.png")
    eight, sixteen = load_image(tmp_path / "8.png"), load_image(tmp_path / "16.png")
    assert sixteen.shape == (3, 12, 40)
    assert float((eight - sixteen).abs().max()) <= 0.5 / 255 + 1e-6
    np.testing.assert_allclose(sixteen[1].numpy(), grey, atol=0.5 / 65535 + 1e-7)  # 16-bit kept
    exif = Image.Exif()
    exif[0x0112] = 8  # stored turned clockwise: shown turned back counter-clockwise
    stored = np.ascontiguousarray(np.rot90(np.round(grey * 255).astype(np.uint8), -1))
    Image.fromarray(stored).save(tmp_path / "turned.png", exif=exif.tobytes())
    torch.testing.assert_close(load_image(tmp_path / "turned.png"), eight)


@pytest.mark.parametrize(
    "table",
    [
        {"0": "sky", "3": "vehicle"},
        {"sky": 0, "vehicle": 3},
        {"classes": [{"id": 0, "name": "sky"}, {"id": 3, "name": "vehicle"}]},
        ["sky", "road", "building", "vehicle"],
    ],
)
def test_class_name_tables(tmp_path: Path, table) -> None:
    path = tmp_path / "classes.json"
    path.write_text(json.dumps(table))
    names = read_class_names(path)
    assert names[0] == "sky" and names[3] == "vehicle"
