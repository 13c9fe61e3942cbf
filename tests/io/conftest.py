"""Builders for weight files in the official packnet-sfm and monodepth2 layouts."""

from __future__ import annotations

import os
import re
import sys
import types
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from packdepth.networks import PackNetSmall, PoseNet, PoseResNet, ResNetDepth


class Evil:
    """A pickle payload that would create ``marker`` when unpickled by a plain unpickler."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch {self.marker}",))


class EvilOpen:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self) -> Any:
        return (open, (str(self.marker), "w"))


@pytest.fixture
def fake_yacs(monkeypatch: pytest.MonkeyPatch) -> type:
    """A ``yacs.config.CfgNode`` stand-in (a dict subclass with instance attributes, like yacs')."""

    class CfgNode(dict):
        def __init__(self, init: dict | None = None):
            super().__init__(init or {})
            self.__dict__["__immutable__"] = True
            self.__dict__["__new_allowed__"] = False

    CfgNode.__module__, CfgNode.__qualname__ = "yacs.config", "CfgNode"
    package, module = types.ModuleType("yacs"), types.ModuleType("yacs.config")
    module.CfgNode = CfgNode
    monkeypatch.setitem(sys.modules, "yacs", package)
    monkeypatch.setitem(sys.modules, "yacs.config", module)
    return CfgNode


def _randomise_norms(net: torch.nn.Module) -> torch.nn.Module:
    """Non-trivial GroupNorm/BatchNorm parameters and statistics, so every tensor matters."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.GroupNorm, torch.nn.BatchNorm2d)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return net


@pytest.fixture
def packnet_pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    return _randomise_norms(PackNetSmall("A")).eval(), _randomise_norms(PoseNet()).eval()


@pytest.fixture
def monodepth2_pair() -> tuple[torch.nn.Module, torch.nn.Module]:
    return _randomise_norms(ResNetDepth(18)).eval(), _randomise_norms(PoseResNet(18)).eval()


@pytest.fixture
def write_packnet_ckpt(fake_yacs: type) -> Callable[..., Path]:
    """Write ``depth``/``pose`` as packnet-sfm does (legacy: disp_network, conv3.0, .pth.tar)."""

    def write(path: Path, depth: torch.nn.Module, pose: torch.nn.Module | None, *,
              legacy: bool = False, extra: dict[str, Any] | None = None) -> Path:
        state: dict[str, torch.Tensor] = OrderedDict()
        depth_prefix, pose_prefix = ("disp_network.", "pose_network.") if legacy else (
            "model.depth_net.", "model.pose_net.")
        for key, value in depth.state_dict().items():
            if legacy:  # a dropout shortcut is Sequential(conv, Dropout2d) in the reference
                key = re.sub(r"^(conv\d\.\d+\.conv3)\.(weight|bias)$", r"\1.0.\2", key)
            state[depth_prefix + key] = value.clone()
        for key, value in (pose.state_dict().items() if pose is not None else []):
            state[pose_prefix + key] = value.clone()
        config = fake_yacs({"name": "run", "model": fake_yacs({
            "depth_net": fake_yacs({"name": "PackNet01", "version": "1A"}),
            "pose_net": fake_yacs({"name": "PoseNet", "version": ""})})})
        ckpt = {"state_dict": state, "epoch": 7}
        if not legacy:
            ckpt.update(config=config, optimizer={"state": {0: {"exp_avg": torch.ones(3)}},
                                                  "param_groups": [{"lr": 2e-4}]})
        ckpt.update(extra or {})
        torch.save(ckpt, path, _use_new_zipfile_serialization=not legacy)
        return path

    return write


@pytest.fixture
def write_monodepth2_folder() -> Callable[..., Path]:
    """Write monodepth2's encoder.pth/depth.pth (+ pose_encoder.pth/pose.pth) into ``folder``."""

    def write(folder: Path, depth: torch.nn.Module, pose: torch.nn.Module | None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        fc = {"encoder.fc.weight": torch.randn(1000, 512), "encoder.fc.bias": torch.randn(1000)}
        sd = depth.state_dict()
        encoder = {k: v for k, v in sd.items() if k.startswith("encoder.")}
        torch.save({**encoder, **fc, "height": 192, "width": 640, "use_stereo": False},
                   folder / "encoder.pth")
        torch.save({k: v for k, v in sd.items() if k.startswith("decoder.")}, folder / "depth.pth")
        if pose is not None:
            psd = pose.state_dict()
            torch.save({**{k: v for k, v in psd.items() if k.startswith("encoder.")}, **fc},
                       folder / "pose_encoder.pth")
            torch.save({k: v for k, v in psd.items() if k.startswith("net.")}, folder / "pose.pth")
        return folder

    return write
