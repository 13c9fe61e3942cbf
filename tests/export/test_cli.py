"""``packdepth export``: a checked file on success; one line, exit 2 and nothing written on a
parity failure or a bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import packdepth.export.onnx as export_module
from packdepth.cli import main
from packdepth.errors import PackdepthError
from packdepth.export import OnnxDepthModel, OnnxPoseModel, export_onnx
from packdepth.networks import PackNetSlim01
from tests.cli_checks import one_line_error
from tests.export.conftest import parity, rand

KITTI_FRAME = "2011_09_26/2011_09_26_drive_9999_sync/image_02/data/0000000000.png"


def test_export_writes_a_checked_graph_and_prints_the_figures(saved_model, tmp_path, capsys,
                                                              kitti_tiny):
    out = tmp_path / "depth.onnx"
    image = kitti_tiny / KITTI_FRAME
    threads = torch.get_num_threads()
    assert main(["export", str(saved_model), "--onnx", str(out), "--check-image",
                 str(image), "--threads", "1"]) == 0
    assert torch.get_num_threads() == threads  # restored
    printed = capsys.readouterr().out
    assert "parity random" in printed and "parity check image" in printed
    assert "onnxruntime" in printed and f"wrote {out}" in printed
    model = OnnxDepthModel(out)
    assert model.metadata.size == (64, 96) and not model.metadata.dynamic  # the recorded size
    import packdepth

    net = packdepth.load(saved_model).depth_net
    x = rand(1, 3, 64, 96)
    with torch.no_grad():
        assert parity(model(x.numpy()), net(x)[0].numpy()) <= 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.onnx"]  # no temporaries


def test_pose_export(saved_model, tmp_path, capsys):
    out = tmp_path / "pose.onnx"
    assert main(["export", str(saved_model), "--onnx", str(out), "--pose", "--size",
                 "64x64"]) == 0
    assert "synthetic street frames" in capsys.readouterr().out
    model = OnnxPoseModel(out)
    assert model.metadata.network["name"] == "PoseResNet" and model.metadata.size == (64, 64)


class _Skewed:
    """An onnxruntime session whose outputs are scaled by ``1 + skew``."""

    def __init__(self, session, skew: float):
        self.session, self.skew = session, skew

    def run(self, names, feed):
        return [o * np.float32(1 + self.skew) for o in self.session.run(names, feed)]


@pytest.mark.parametrize(("skew", "written"), [(3e-4, False), (3e-5, True)])
def test_parity_gate(saved_model, tmp_path, capsys, monkeypatch, skew, written):
    """Outputs 3e-4 off (relative) are refused, with one line and the old file left as it was;
    3e-5 off pass the 1e-4 gate."""
    real = export_module.make_session
    monkeypatch.setattr(export_module, "make_session",
                        lambda *a, **k: _Skewed(real(*a, **k), skew))
    out = tmp_path / "depth.onnx"
    out.write_bytes(b"the previous file")
    code = main(["export", str(saved_model), "--onnx", str(out)])
    if written:
        assert code == 0 and out.read_bytes() != b"the previous file"
        return
    assert code == 2
    err = one_line_error(capsys, f"{out}: not written: onnxruntime differs from PyTorch by",
                          "above the tolerance 0.0001")
    figure = float(err.split("PyTorch by ")[1].split()[0])
    assert 2.9e-4 < figure < 3.1e-4  # the skew, measured as max|a-b|/max|b|
    assert out.read_bytes() == b"the previous file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["depth.onnx"]


class _Failing:
    """An onnxruntime session that cannot run the graph."""

    def run(self, names, feed):
        raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : Concat: mismatched dimensions\nmore")


def test_a_graph_onnxruntime_cannot_run_is_one_line(saved_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(export_module, "make_session", lambda *a, **k: _Failing())
    out = tmp_path / "depth.onnx"
    assert main(["export", str(saved_model), "--onnx", str(out)]) == 2
    one_line_error(capsys, f"{out}: not written: onnxruntime cannot run the graph on the "
                    "random input 2x3x64x96 ([ONNXRuntimeError] : 1 : FAIL : Concat")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def bad_inputs(tmp_path, saved_model):
    Image.new("RGB", (4, 4)).save(tmp_path / "image.png")
    (tmp_path / "notes.txt").write_text("fx: 1\n")
    (tmp_path / "depth_only").mkdir()
    (tmp_path / "depth_only" / "depth_net.safetensors").write_bytes(
        (saved_model / "depth_net.safetensors").read_bytes())
    return tmp_path


@pytest.mark.parametrize(("args", "message"), [
    (["{root}/absent"], "{root}/absent: no such model file or folder"),
    (["{root}/image.png"], "{root}/image.png: an image, not a packdepth model file"),
    (["{root}/notes.txt"], "{root}/notes.txt: a text file, not a packdepth model file"),
    (["{root}/depth_only", "--pose"], "{root}/depth_only: has no pose network to export"),
    (["{model}", "--dynamic", "--size", "48x96"],
     "--size 48x96: a dynamic ResNetDepth graph takes sides of at least 64 pixels"),
    (["{model}", "--check-image", "{root}/absent.png"], "{root}/absent.png: image not found"),
    (["{model}", "--pose", "--check-image", "{root}/image.png"],
     "--check-image: a pose network with 2 context frames is checked on 3 images"),
    (["{model}", "--tolerance", "0"], "--tolerance: must be a positive number"),
], ids=["missing", "image", "text", "no-pose", "dynamic-too-small", "missing-check-image",
        "pose-check-count", "tolerance"])  # --threads 0: argparse (tests/test_count_options.py)
def test_bad_input_is_one_line_and_writes_nothing(bad_inputs, saved_model, capsys, args,
                                                  message):
    out = bad_inputs / "out" / "x.onnx"
    args = [a.format(root=bad_inputs, model=saved_model) for a in args]
    assert main(["export", *args, "--onnx", str(out)]) == 2
    one_line_error(capsys, message.format(root=bad_inputs))
    assert not (bad_inputs / "out").exists()


def test_a_network_that_cannot_run_is_one_line(tmp_path):
    """PackNetSlim01 version B builds but cannot add its skips (as in packnet-sfm)."""
    with pytest.raises(PackdepthError, match=r"^PackNet: cannot be exported to ONNX \(PackNet "
                                             "version B needs"):
        export_onnx(PackNetSlim01("B").eval(), tmp_path / "x.onnx", size=(64, 64))
    assert list(tmp_path.iterdir()) == []
