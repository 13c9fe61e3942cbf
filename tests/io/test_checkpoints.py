"""packdepth's own model files: save → load_model rebuilds from the file alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import safetensors.torch
import torch

from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import load_model, read_model_info, save_model, save_models
from packdepth.networks import PackNetSmall, PoseNet, PoseResNet, ResNetDepth, SemanticDepth
from tests.io.conftest import _randomise_norms

IMAGE = torch.rand(1, 3, 40, 72)
CONTEXT = torch.rand(1, 2, 3, 40, 72)


@pytest.mark.parametrize("build", [lambda: PackNetSmall("B"), lambda: ResNetDepth(18),
                                   lambda: SemanticDepth(num_classes=4)],
                         ids=["PackNetSmall-B", "ResNetDepth18", "SemanticDepth"])
def test_depth_round_trip_gives_identical_outputs(tmp_path: Path, build) -> None:
    net = _randomise_norms(build()).eval()
    path = tmp_path / "model.safetensors"
    save_model(net, path, info={"trained_on": "kitti_tiny"})
    loaded = load_model(path)
    assert type(loaded) is type(net) and not loaded.training
    with torch.no_grad():
        for a, b in zip(net(IMAGE), loaded(IMAGE)):
            assert torch.equal(a, b)
    assert read_model_info(path) == (net.config, {"trained_on": "kitti_tiny"})
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]  # no temp files left


@pytest.mark.parametrize("build", [PoseNet, lambda: PoseResNet(18)], ids=["PoseNet", "PoseResNet"])
def test_pose_round_trip(tmp_path: Path, build) -> None:
    net = _randomise_norms(build()).eval()
    save_model(net, tmp_path / "pose.safetensors")
    loaded = load_model(tmp_path / "pose.safetensors")
    with torch.no_grad():
        assert torch.equal(net(IMAGE, CONTEXT), loaded(IMAGE, CONTEXT))


def test_explicit_config_is_what_gets_rebuilt(tmp_path: Path) -> None:
    net = PackNetSmall("A")
    save_model(net, tmp_path / "m.safetensors", config={"name": "PackNetSmall", "version": "A"})
    assert read_model_info(tmp_path / "m.safetensors")[0] == {"name": "PackNetSmall",
                                                              "version": "A"}
    assert load_model(tmp_path / "m.safetensors").config == net.config


def test_save_refuses_unregistered_config_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="registered network"):
        save_model(torch.nn.Linear(2, 2), tmp_path / "x.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_save_models_is_all_or_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder is needed")
    with pytest.raises(OSError):
        save_models([(PoseNet(), tmp_path / "ok.safetensors", None, None),
                     (PoseNet(), tmp_path / "blocker" / "pose.safetensors", None, None)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker"]


def test_load_model_errors_are_one_line_user_errors(tmp_path: Path) -> None:
    with pytest.raises(PackdepthError, match="no such file"):
        load_model(tmp_path / "absent.safetensors")
    bare = tmp_path / "bare.safetensors"
    safetensors.torch.save_file({"w": torch.zeros(2)}, str(bare))
    with pytest.raises(PackdepthError, match="not a packdepth model"):
        load_model(bare)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all}")
    with pytest.raises(PackdepthError, match="a corrupt safetensors file"):
        load_model(garbage)
    wrong = tmp_path / "wrong.safetensors"  # PackNet weights labelled as a ResNetDepth
    save_model(PackNetSmall(), wrong, config={"name": "ResNetDepth", "num_layers": 18})
    with pytest.raises(PackdepthError, match="do not match ResNetDepth") as info:
        load_model(wrong)
    assert "\n" not in str(info.value)


def test_load_model_refuses_the_other_kind_of_network(tmp_path: Path) -> None:
    save_model(PoseNet(), tmp_path / "pose.safetensors")
    save_model(ResNetDepth(18), tmp_path / "depth.safetensors")
    with pytest.raises(PackdepthError, match=r"pose\.safetensors: a PoseNet, not a depth network"):
        load_model(tmp_path / "pose.safetensors", kind="depth")
    with pytest.raises(PackdepthError, match=r"a ResNetDepth, not a pose network"):
        load_model(tmp_path / "depth.safetensors", kind="pose")
    assert isinstance(load_model(tmp_path / "pose.safetensors", kind="pose"), PoseNet)
