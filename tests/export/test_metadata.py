"""The metadata an exported file carries, read back independently with ``onnx``, and the
runtime wrappers' refusals."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

import packdepth
from packdepth.errors import PackdepthError
from packdepth.export import (
    OPSET,
    ExportMetadata,
    OnnxDepthModel,
    OnnxPoseModel,
    export_onnx,
    relative_error,
)
from packdepth.networks import PoseNet
from tests.export.conftest import random_net


@pytest.fixture(scope="module")
def dynamic_file(saved_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("meta") / "depth.onnx"
    export_onnx(saved_model, path, size=(64, 96), dynamic=True, timing_runs=0)
    return path


def test_metadata_round_trip(saved_model, dynamic_file):
    proto = onnx.load(str(dynamic_file))
    props = {p.key: p.value for p in proto.metadata_props}
    net = packdepth.load(saved_model).depth_net
    assert props["packdepth.version"] == packdepth.__version__
    assert json.loads(props["packdepth.network"]) == net.config
    assert props["packdepth.kind"] == "depth" and props["packdepth.dynamic"] == "true"
    assert props["packdepth.size"] == "64x96" and props["packdepth.min_size"] == "64"
    assert props["packdepth.training_size"] == "64x96"  # what the model folder records
    assert props["packdepth.metric"] == "true" and float(props["packdepth.depth_scale"]) == 1.0
    assert json.loads(props["packdepth.info"])["steps"] == 7
    assert props["packdepth.opset"] == str(OPSET)
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [OPSET]
    assert [i.name for i in proto.graph.input] == ["image"]
    assert [o.name for o in proto.graph.output] == ["inv_depth"]
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", 3, "height", "width"]
    meta = OnnxDepthModel(dynamic_file).metadata
    assert meta == ExportMetadata.from_props(props, dynamic_file)
    assert (meta.size, meta.training_size, meta.metric, meta.network) == (
        (64, 96), (64, 96), True, net.config)


def test_stereo_monodepth2_scale_is_recorded(monodepth2_pair, write_monodepth2_folder,
                                             tmp_path):
    folder = write_monodepth2_folder(tmp_path / "mono", *monodepth2_pair)
    encoder = torch.load(folder / "encoder.pth")
    torch.save({**encoder, "use_stereo": True}, folder / "encoder.pth")
    path = tmp_path / "stereo.onnx"
    export_onnx(folder, path, size=(64, 96), timing_runs=0)
    meta = OnnxDepthModel(path).metadata
    assert meta.metric and meta.depth_scale == pytest.approx(5.4)
    assert meta.training_size == (192, 640) and meta.size == (64, 96)


def test_runtime_refusals(dynamic_file, tmp_path):
    model = OnnxDepthModel(dynamic_file)
    with pytest.raises(ValueError, match="below this dynamic graph's minimum of 64"):
        model(np.zeros((1, 3, 63, 96), np.float32))
    with pytest.raises(ValueError, match="float32"):
        model(np.zeros((1, 3, 64, 96), np.float64))
    with pytest.raises(ValueError, match=r"\[B,3,H,W\]"):
        model(np.zeros((1, 4, 64, 96), np.float32))
    with pytest.raises(PackdepthError, match="a depth network graph; OnnxPoseModel runs pose"):
        OnnxPoseModel(dynamic_file)
    (tmp_path / "text.onnx").write_text("not a graph")
    with pytest.raises(PackdepthError, match=r"text\.onnx: not an ONNX model onnxruntime can"):
        OnnxDepthModel(tmp_path / "text.onnx")
    with pytest.raises(PackdepthError, match=r"absent\.onnx: no such ONNX file"):
        OnnxDepthModel(tmp_path / "absent.onnx")
    h = onnx.helper
    info = [h.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [1]) for n in ("x", "y")]
    graph = h.make_graph([h.make_node("Identity", ["x"], ["y"])], "plain", info[:1], info[1:])
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)]),
              str(tmp_path / "plain.onnx"))
    with pytest.raises(PackdepthError, match=r"plain\.onnx: an ONNX model with no packdepth "
                                             "metadata"):
        OnnxDepthModel(tmp_path / "plain.onnx")


def test_pose_graph_metadata(tmp_path):
    path = tmp_path / "pose.onnx"
    export_onnx(random_net(PoseNet), path, size=(32, 48), timing_runs=0)
    meta = OnnxPoseModel(path).metadata
    assert (meta.kind, meta.contexts, meta.training_size, meta.dynamic) == ("pose", 2, None,
                                                                            False)
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["target", "context"]
    assert [o.name for o in proto.graph.output] == ["T_target_to_context"]


def test_relative_error_is_max_deviation_over_max_value():
    b = np.array([[0.5, -2.0], [1.0, 0.0]], np.float32)
    a = b + np.array([[0.01, 0.0], [-0.03, 0.0]], np.float32)
    assert relative_error(a, b) == pytest.approx(0.03 / 2.0, rel=1e-5)
    assert relative_error(b, b) == 0.0
    assert relative_error(np.ones(2), np.zeros(2)) == float("inf")
