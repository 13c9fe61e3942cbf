"""The PyTorch modules that are traced into ONNX graphs, and the tracing itself.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)`` at opset
:data:`OPSET`. The dynamo exporter (``dynamo=True``, torch 2.13 + onnxscript 0.7) was tried and
rejected: its dynamic graphs keep the branch ``DepthNet.pad`` took for the example size (no
padding for 96x320), so sizes that need padding fail in onnxruntime (ResNet18 at 100x300:
"Concat: mismatched dimensions"; PackNetSmall: a Reshape error), and it exported 4-10 times
slower. Its fixed-size graphs were as exact as the TorchScript ones.

Graphs (names are the ONNX input/output names):

- depth: ``image [B,3,H,W]`` float32 in [0,1] → ``inv_depth [B,1,H,W]``, the network's
  full-resolution inverse depth only (the coarser scales serve training; an ONNX user wants the
  depth map), ``depth = depth_scale / inv_depth`` (``depth_scale`` in the file's metadata);
- pose: ``target [B,3,H,W]``, ``context [B,N,3,H,W]`` → ``T_target_to_context [B,N,4,4]``
  (N fixed: the network's context frames in the order it was trained on, monodepth2's
  ``(-1, +1)`` for PoseResNet).

The batch size is free in every graph. A fixed-size graph is ``DepthNet.forward`` traced at one
``H x W`` (padding and cropping are constants, so it is exact for that size, even below the
network's minimum). A ``dynamic`` graph takes any ``H, W ≥`` :func:`dynamic_floor`: it pads
with an ONNX ``Pad`` (reflect, bottom/right) whose amounts are computed from the input's shape,
``(m − H mod m) mod m`` for the network's multiple ``m`` — what :func:`packdepth.networks.padding.
pad_to_multiple` does for every size at or above the floor — and slices the output back to
``H x W``. Smaller sizes would need the replicate padding and the minimum-size rule, which a
traced graph cannot branch on, so dynamic graphs refuse them.
"""

from __future__ import annotations

import io
import warnings

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from packdepth.errors import PackdepthError
from packdepth.networks import POSE_NETS, DepthNet, PoseNet
from packdepth.networks.pose_net import POSENET_MIN_SIZE

#: ONNX opset of the exported graphs: the newest the TorchScript exporter of torch 2.13 writes.
OPSET = 20
DEPTH_INPUTS, DEPTH_OUTPUTS = ("image",), ("inv_depth",)
POSE_INPUTS, POSE_OUTPUTS = ("target", "context"), ("T_target_to_context",)


def network_kind(net: nn.Module) -> str:
    """``"depth"`` for a :class:`DepthNet`, ``"pose"`` for a pose network (it takes
    ``(target, context)``); a ``PackdepthError`` for anything else."""
    if isinstance(net, DepthNet):
        return "depth"
    config = getattr(net, "config", None)
    if isinstance(config, dict) and config.get("name") in POSE_NETS:
        return "pose"
    raise PackdepthError(f"cannot export {type(net).__name__}: expected a packdepth depth or "
                         "pose network")


def dynamic_floor(net: nn.Module) -> int:
    """The smallest side a dynamic graph of ``net`` takes, in pixels.

    Depth nets: ``max(min_size, size_multiple)`` (64 for ResNet depth nets, 32 for PackNet01):
    there the padding is always a reflection shorter than the side and the padded size is the
    next multiple. PoseNet: 3 (smaller images are replicate-padded in PyTorch); PoseResNet: 1.
    """
    if isinstance(net, DepthNet):
        return max(int(net.min_size), int(net.size_multiple))
    return POSENET_MIN_SIZE if isinstance(net, PoseNet) else 1


class DepthGraph(nn.Module):
    """``image [B,3,H,W]`` → full-resolution ``inv_depth [B,1,H,W]`` of ``net``, traceable.

    ``dynamic=False``: ``net(image)[0]`` (``DepthNet.forward``). ``dynamic=True``: the padding
    amounts are tensor arithmetic on the traced shape (module docstring); valid for
    ``H, W ≥ dynamic_floor(net)``, where it equals ``net(image)[0]``.
    """

    def __init__(self, net: DepthNet, dynamic: bool):
        super().__init__()
        self.net, self.dynamic = net, dynamic

    def forward(self, image: Tensor) -> Tensor:
        if not self.dynamic:
            return self.net(image)[0]
        h, w = image.shape[-2], image.shape[-1]
        m = self.net.size_multiple
        padded = F.pad(image, [0, (m - w % m) % m, 0, (m - h % m) % m], mode="reflect")
        return self.net.predict(padded)[0][:, :, :h, :w]


class PoseGraph(nn.Module):
    """``(target [B,3,H,W], context [B,N,3,H,W])`` → ``T_target_to_context [B,N,4,4]``."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, target: Tensor, context: Tensor) -> Tensor:
        return self.net(target, context)


def trace_to_onnx(net: nn.Module, example: tuple[Tensor, ...], dynamic: bool,
                  opset: int = OPSET) -> bytes:
    """The ONNX model (serialized ``ModelProto``) of ``net`` traced on ``example``.

    Args:
        net: a depth or pose network on the CPU (its train/eval mode is restored afterwards;
            the graph is traced in eval mode).
        example: ``(image,)`` or ``(target, context)``, float32, at the size to export; the
            values do not matter.
        dynamic: free ``H, W`` (see the module docstring); the batch is always free.
        opset: ONNX opset (at most 20 for this exporter).

    Returns:
        The model's bytes (weights inside: PackNet01 is about 513 MB).

    Raises:
        PackdepthError: the network fails while it is traced (one line naming it).
    """
    kind = network_kind(net)
    graph = DepthGraph(net, dynamic) if kind == "depth" else PoseGraph(net)
    inputs, outputs = (DEPTH_INPUTS, DEPTH_OUTPUTS) if kind == "depth" else (POSE_INPUTS,
                                                                              POSE_OUTPUTS)
    spatial = {2: "height", 3: "width"} if dynamic else {}
    axes = {"image": {0: "batch", **spatial}, "inv_depth": {0: "batch", **spatial},
            "target": {0: "batch", **spatial},
            "context": {0: "batch", **{k + 1: v for k, v in spatial.items()}},
            "T_target_to_context": {0: "batch"}}
    was_training = net.training
    graph.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():  # tracer and deprecation chatter: parity is checked
            warnings.simplefilter("ignore")
            torch.onnx.export(graph, example, buffer, dynamo=False, opset_version=opset,
                              input_names=list(inputs), output_names=list(outputs),
                              dynamic_axes={k: axes[k] for k in (*inputs, *outputs)},
                              do_constant_folding=True)
    except (RuntimeError, ValueError) as exc:  # e.g. PackNet B at widths it cannot add
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise PackdepthError(f"{type(net).__name__}: cannot be exported to ONNX ({lines[0]})"
                             ) from None
    finally:
        net.train(was_training)
    return buffer.getvalue()
