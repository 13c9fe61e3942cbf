"""``packdepth import-weights``: writes loadable packdepth files, or fails with one line."""

from __future__ import annotations

import torch

from packdepth.cli import main
from packdepth.io.checkpoints import load_model, read_model_info

IMAGE = torch.rand(1, 3, 64, 96)
CONTEXT = torch.rand(1, 2, 3, 64, 96)


def test_packnet_import_writes_loadable_files(tmp_path, capsys, packnet_pair,
                                              write_packnet_ckpt) -> None:
    depth, pose = packnet_pair
    ckpt = write_packnet_ckpt(tmp_path / "PackNet01_MR_selfsup_K.ckpt", depth, pose)
    out = tmp_path / "converted"
    assert main(["import-weights", str(ckpt), "--format", "packnet", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "depth_net: 216/216 tensors matched, 0 missing, 0 unexpected, 0 shape " \
                       "mismatches"
    assert lines[1].startswith("pose_net: 30/30 tensors matched, 0 missing")
    assert sorted(p.name for p in out.iterdir()) == ["depth_net.safetensors",
                                                     "pose_net.safetensors"]
    with torch.no_grad():
        loaded_depth = load_model(out / "depth_net.safetensors")
        assert all(torch.equal(a, b) for a, b in zip(depth(IMAGE), loaded_depth(IMAGE)))
        loaded_pose = load_model(out / "pose_net.safetensors")
        assert torch.equal(pose(IMAGE, CONTEXT), loaded_pose(IMAGE, CONTEXT))
    info = read_model_info(out / "depth_net.safetensors")[1]
    assert info["format"] == "packnet" and info["source"] == str(ckpt)


def test_monodepth2_import(tmp_path, capsys, monodepth2_pair, write_monodepth2_folder) -> None:
    src = write_monodepth2_folder(tmp_path / "mono_640x192", *monodepth2_pair)
    out = tmp_path / "converted"
    assert main(["import-weights", str(src), "--format", "monodepth2", "--out", str(out)]) == 0
    assert "ResNet18: wrote" in capsys.readouterr().out
    assert read_model_info(out / "depth_net.safetensors")[1]["width"] == 640
    assert load_model(out / "pose_net.safetensors").config == monodepth2_pair[1].config


def test_partial_match_is_a_one_line_error_and_writes_nothing(
        tmp_path, capsys, packnet_pair, write_packnet_ckpt) -> None:
    ckpt = write_packnet_ckpt(tmp_path / "m.ckpt", *packnet_pair)
    raw = torch.load(ckpt, weights_only=False)  # our own test file: trusted
    del raw["state_dict"]["model.pose_net.pose_pred.bias"]
    torch.save(raw, ckpt)
    out = tmp_path / "converted"
    assert main(["import-weights", str(ckpt), "--format", "packnet", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("packdepth: error: ")
    assert "pose_net: 29/30 tensors matched, 1 missing" in err
    assert not out.exists() or list(out.iterdir()) == []


def test_missing_source_is_a_user_error(tmp_path, capsys) -> None:
    code = main(["import-weights", str(tmp_path / "nope.ckpt"), "--format", "packnet",
                 "--out", str(tmp_path / "o")])
    assert code == 2 and "nope.ckpt: no such file" in capsys.readouterr().err
