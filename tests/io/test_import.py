"""Importing official packnet-sfm checkpoints and monodepth2 folders: exact or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import WeightMismatchError, import_monodepth2, import_packnet_ckpt
from packdepth.io.weight_import import (
    _packnet_from_shapes,
    _resnet_depth_from_keys,
    packnet_display_name,
)
from packdepth.networks import PackNet01, PackNetSlim01, PoseNet, PoseResNet, ResNetDepth
from tests.io.conftest import Evil

IMAGE = torch.rand(1, 3, 64, 96)
CONTEXT = torch.rand(1, 2, 3, 64, 96)


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    with torch.no_grad():
        if isinstance(a, (PoseNet, PoseResNet)):
            return torch.equal(a(IMAGE, CONTEXT), b.eval()(IMAGE, CONTEXT))
        return all(torch.equal(x, y) for x, y in zip(a(IMAGE), b.eval()(IMAGE)))


@pytest.mark.parametrize("legacy", [False, True], ids=["ckpt", "legacy-pth-tar"])
def test_packnet_checkpoint_imports_exactly(tmp_path, packnet_pair, write_packnet_ckpt,
                                           legacy) -> None:
    depth, pose = packnet_pair
    path = write_packnet_ckpt(tmp_path / ("m.pth.tar" if legacy else "m.ckpt"), depth, pose,
                              legacy=legacy)
    result = import_packnet_ckpt(path)
    assert result.depth_net.config == depth.config and result.pose_net.config == pose.config
    assert _same_outputs(depth, result.depth_net) and _same_outputs(pose, result.pose_net)
    assert [r.summary() for r in result.reports] == [
        "depth_net: 216/216 tensors matched, 0 missing, 0 unexpected, 0 shape mismatches",
        "pose_net: 30/30 tensors matched, 0 missing, 0 unexpected, 0 shape mismatches"]
    assert result.info["epoch"] == 7
    if not legacy:  # the yacs config was read (inertly) for its network names
        assert result.info["config_names"] == {"depth_net": "PackNet01", "pose_net": "PoseNet"}


def test_depth_only_checkpoint(tmp_path, packnet_pair, write_packnet_ckpt) -> None:
    result = import_packnet_ckpt(write_packnet_ckpt(tmp_path / "d.ckpt", packnet_pair[0], None))
    assert result.pose_net is None and len(result.reports) == 1


@pytest.mark.parametrize(("build", "version", "name"), [
    (PackNet01, "A", "PackNet01-A"), (PackNet01, "B", "PackNet01-B"),
    (PackNetSlim01, "A", "PackNetSlim01-A")])
def test_published_architectures_are_recognised_from_shapes(build, version, name) -> None:
    with torch.device("meta"):
        reference = build(version)
        rebuilt = _packnet_from_shapes(reference.state_dict(), "x.ckpt", "")
    assert rebuilt.config == reference.config and packnet_display_name(rebuilt) == name


def test_malicious_checkpoint_imports_without_running_anything(
        tmp_path, packnet_pair, write_packnet_ckpt) -> None:
    marker = tmp_path / "pwned"
    path = write_packnet_ckpt(tmp_path / "evil.ckpt", *packnet_pair,
                              extra={"callbacks": Evil(marker)})
    result = import_packnet_ckpt(path)
    assert not marker.exists()
    assert _same_outputs(packnet_pair[0], result.depth_net)


def _tamper(path: Path, edit) -> Path:
    ckpt = torch.load(path, weights_only=False)  # our own test file: trusted
    edit(ckpt["state_dict"])
    torch.save(ckpt, path)
    return path


@pytest.mark.parametrize(("edit", "field", "fragments"), [
    (lambda sd: sd.pop("model.depth_net.iconv1.conv_base.weight"), "missing",
     ("215/216 tensors matched, 1 missing", "missing e.g. iconv1.conv_base.weight")),
    (lambda sd: sd.__setitem__("model.depth_net.disp1_layer.conv1.weight", torch.zeros(1, 9, 3, 3)),
     "mismatched", ("1 shape mismatches",
                    "disp1_layer.conv1.weight has shape [1, 9, 3, 3], "
                    "network needs [1, 16, 3, 3]")),
    (lambda sd: sd.__setitem__("model.depth_net.extra.weight", torch.zeros(1)), "unexpected",
     ("216/216 tensors matched, 0 missing, 1 unexpected", "unexpected e.g. extra.weight")),
])
def test_partial_packnet_match_is_refused_with_a_report(
        tmp_path, packnet_pair, write_packnet_ckpt, edit, field, fragments) -> None:
    path = _tamper(write_packnet_ckpt(tmp_path / "m.ckpt", *packnet_pair), edit)
    with pytest.raises(WeightMismatchError) as info:
        import_packnet_ckpt(path)
    report = info.value.report
    assert report.name == "depth_net" and not report.ok and len(getattr(report, field)) == 1
    assert all(fragment in str(info.value) for fragment in fragments)


def test_non_packnet_checkpoint_is_refused(tmp_path) -> None:
    path = tmp_path / "r.ckpt"
    state = {f"model.depth_net.{k}": v for k, v in ResNetDepth(18).state_dict().items()}
    torch.save({"state_dict": state}, path)
    with pytest.raises(PackdepthError, match="not a PackNet01"):
        import_packnet_ckpt(path)
    torch.save({"state_dict": {"model.other.w": torch.zeros(1)}}, path)
    with pytest.raises(PackdepthError, match="no depth_net tensors"):
        import_packnet_ckpt(path)


def test_monodepth2_folder_imports_exactly(tmp_path, monodepth2_pair,
                                           write_monodepth2_folder) -> None:
    depth, pose = monodepth2_pair
    result = import_monodepth2(write_monodepth2_folder(tmp_path / "mono_640x192", depth, pose))
    assert _same_outputs(depth, result.depth_net) and _same_outputs(pose, result.pose_net)
    assert [r.summary() for r in result.reports] == [
        "depth_net: 148/148 tensors matched, 0 missing, 0 unexpected, 0 shape mismatches, "
        "2 ignored",
        "pose_net: 128/128 tensors matched, 0 missing, 0 unexpected, 0 shape mismatches, "
        "2 ignored"]
    assert result.reports[0].ignored == ["encoder.fc.weight", "encoder.fc.bias"]
    assert (result.info["height"], result.info["width"], result.info["use_stereo"]) == (
        192, 640, False)


def test_monodepth2_depth_only_and_broken_folders(tmp_path, monodepth2_pair,
                                                  write_monodepth2_folder) -> None:
    folder = write_monodepth2_folder(tmp_path / "m", monodepth2_pair[0], None)
    assert import_monodepth2(folder).pose_net is None
    torch.save({"net.0.weight": torch.zeros(1)}, folder / "pose.pth")
    with pytest.raises(PackdepthError, match=r"pose_encoder\.pth: no such file"):
        import_monodepth2(folder)
    (folder / "pose.pth").unlink()
    decoder = torch.load(folder / "depth.pth", weights_only=True)
    decoder.pop("decoder.13.conv.bias")
    torch.save(decoder, folder / "depth.pth")
    with pytest.raises(WeightMismatchError, match="1 missing"):
        import_monodepth2(folder)
    with pytest.raises(PackdepthError, match="not a folder"):
        import_monodepth2(tmp_path / "absent")


def test_resnet_depth_inferred_from_block_counts() -> None:
    for layers in (18, 34, 50):
        with torch.device("meta"):
            keys = ResNetDepth(layers).state_dict()
        assert _resnet_depth_from_keys(keys, "encoder.pth") == layers
    with pytest.raises(PackdepthError, match="blocks per layer"):
        _resnet_depth_from_keys({"encoder.layer1.0.conv1.weight": torch.zeros(1)}, "encoder.pth")
