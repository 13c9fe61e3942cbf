"""The ready-made configs in configs/ are valid, and each one builds its data on a real sample."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from packdepth.config import load_config
from packdepth.data.factory import build_dataset
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.networks import build_depth_net, build_pose_net
from packdepth.training.config import TrainConfig

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_every_config_is_listed():
    assert [p.stem for p in CONFIGS] == [
        "ddad_packnet01", "kitti_gpu", "kitti_packnet01", "kitti_resnet18", "synthetic_cpu"
    ]


def test_the_gpu_config_is_the_fields_setting_on_one_gpu():
    """192x640, batch 12 (monodepth2's setting) on one GPU; the rest as kitti_resnet18."""
    folder = CONFIGS[0].parent
    gpu = load_config(TrainConfig, folder / "kitti_gpu.yaml")
    cpu_recipe = load_config(TrainConfig, folder / "kitti_resnet18.yaml")
    assert (gpu.data.height, gpu.data.width, gpu.trainer.batch_size) == (192, 640, 12)
    assert (gpu.trainer.accelerator, gpu.trainer.devices) == ("gpu", 1)
    assert gpu.trainer.channels_last and not gpu.trainer.deterministic
    for part in ("data", "val_data", "model", "loss", "optim"):
        assert getattr(gpu, part) == getattr(cpu_recipe, part), part


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_builds_its_networks(path):
    cfg = load_config(TrainConfig, path)
    assert cfg.val_data is not None and cfg.val_data.require_depth
    assert not cfg.val_data.augmentation.enabled
    with torch.device("meta"):  # shapes only: PackNet01 has 128 M parameters
        depth, pose = build_depth_net(cfg.model.depth), build_pose_net(cfg.model.pose)
    params = sum(p.numel() for p in depth.parameters())
    expected = {"PackNet01": 128_294_020, "ResNetDepth": 14_329_236}[cfg.model.depth["name"]]
    assert params == expected  # packnet-sfm's PackNet01-A / monodepth2's ResNet18 depth net
    assert pose.config["name"] == cfg.model.pose["name"]


def _real_root(path: Path, request: pytest.FixtureRequest, tmp_path: Path
               ) -> tuple[str, list[str]]:
    """The sample a config's data kind reads: a fixture of tests/conftest.py (skipped when the
    real data is absent) or, for the synthetic world, a tiny rendering."""
    if "kitti" in path.stem:  # the split files of a full KITTI copy are not here: all frames
        root = request.getfixturevalue("kitti_tiny")
        return str(root), ["data.split=null", "val_data.split=null"]
    if "ddad" in path.stem:
        root = request.getfixturevalue("ddad_mini")
        return str(root), ["data.split=train", "val_data.split=train"]
    write_dataset(tmp_path, SynthParams(height=48, width=160, frames=6, seed=2), sequences=2)
    return str(tmp_path), []


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_data_on_real_samples(path, request, tmp_path):
    root, extra = _real_root(path, request, tmp_path)
    overrides = [f"data.root={root}", f"val_data.root={root}", "data.height=64",
                 "data.width=192", "val_data.height=64", "val_data.width=192", *extra]
    cfg = load_config(TrainConfig, path, overrides)
    train, val = build_dataset(cfg.data), build_dataset(cfg.val_data)
    item = train[0]
    assert item["image"].shape == (3, 64, 192) and item["context"].shape == (2, 3, 64, 192)
    assert (val[0]["depth_gt"] > 0).any()


def test_synthetic_config_holds_the_benchmarked_recipe():
    from packdepth.training.synthetic_recipe import DEMO_OVERRIDES

    path = next(p for p in CONFIGS if p.stem == "synthetic_cpu")
    recipe = [o for o in DEMO_OVERRIDES if not o.startswith("trainer.max_epochs")]
    assert load_config(TrainConfig, path) == load_config(TrainConfig, path, recipe)
