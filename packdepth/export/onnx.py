"""Export a depth or pose network to ONNX, checked in onnxruntime before anything is written.

:func:`export_onnx` traces the network (:mod:`packdepth.export.graph`: exporter, opset and graph
layout), runs the graph in onnxruntime beside PyTorch on a random input, on real images (frames
of the embedded street world, or the caller's images) and, for a dynamic graph, on a random input
of a second size that needs padding, and writes the file atomically only when every output is
within ``tolerance`` of PyTorch's (:func:`packdepth.export.check.relative_error`).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from packdepth import __version__
from packdepth.config import check_image_size
from packdepth.errors import PackdepthError
from packdepth.export.check import check_inputs, median_ms, relative_error
from packdepth.export.graph import OPSET, dynamic_floor, network_kind, trace_to_onnx
from packdepth.export.metadata import ExportMetadata
from packdepth.export.runtime import first_line, make_session, require
from packdepth.inference.model import Model, load
from packdepth.io.atomic import write_bytes
from packdepth.networks.fused import FusedPackLayer, FusedUnpackLayer

#: Largest accepted ``max|onnx − torch| / max|torch|`` (see :mod:`packdepth.export.check`).
TOLERANCE = 1e-4


@dataclass(frozen=True)
class ParityCheck:
    """One comparison: ``input`` names it, ``shape`` the input(s), ``relative_error`` is
    ``max|a − b| / max|b|``, ``max_abs_error`` is ``max|a − b|`` (output units)."""

    input: str
    shape: str
    relative_error: float
    max_abs_error: float


@dataclass
class ExportReport:
    """What :func:`export_onnx` did.

    Attributes:
        path: the target file; ``written``: whether it was written (False: parity failed).
        metadata: what the file records (:class:`ExportMetadata`).
        checks: every parity comparison; ``tolerance``: the bound they had to meet.
        onnx_ms, torch_ms: median ms per call at ``metadata.size``, batch 1, onnxruntime CPU
            and PyTorch CPU, measured alternately; ``timing_runs``: calls each; ``threads``:
            the threads each library was given (None: their defaults).
        file_bytes: size of the ONNX file; ``export_seconds``: tracing and serialising.
    """

    path: Path
    metadata: ExportMetadata
    checks: list[ParityCheck]
    tolerance: float
    written: bool = False
    onnx_ms: float = float("nan")
    torch_ms: float = float("nan")
    timing_runs: int = 0
    threads: int | None = None
    file_bytes: int = 0
    export_seconds: float = 0.0

    @property
    def worst(self) -> ParityCheck:
        """The check with the largest relative error."""
        return max(self.checks, key=lambda c: c.relative_error)

    def summary(self) -> str:
        """The parity figures and the timing, a line each."""
        m = self.metadata
        what = f"any HxW >= {m.min_size}" if m.dynamic else f"{m.size[0]}x{m.size[1]}"
        lines = [f"{m.network.get('name')} ({m.kind}) -> ONNX opset {m.opset}, {what}, "
                 f"{self.file_bytes / 1e6:.1f} MB, exported in {self.export_seconds:.1f} s"]
        lines += [f"  parity {c.input:<28} {c.shape:<24} max|a-b|/max|b| = "
                  f"{c.relative_error:.2e} (max|a-b| {c.max_abs_error:.2e})" for c in self.checks]
        if self.timing_runs:
            threads = (f"{self.threads} thread{'s' if self.threads > 1 else ''}" if self.threads
                       else "default threads")
            lines.append(f"  CPU ms per call at {m.size[0]}x{m.size[1]}, batch 1 (median of "
                         f"{self.timing_runs}, {threads}): onnxruntime {self.onnx_ms:.1f}, "
                         f"PyTorch {self.torch_ms:.1f}")
        return "\n".join(lines)


class ParityError(PackdepthError):
    """The exported graph differs from PyTorch by more than the tolerance (nothing written);
    ``report`` holds every check."""

    def __init__(self, message: str, report: ExportReport):
        super().__init__(message)
        self.report = report


def _resolve(source: Any, pose: bool) -> tuple[nn.Module, Model | None]:
    """``(network on the CPU, the Model it came from or None)``."""
    if isinstance(source, nn.Module):
        return _unfused(source, type(source).__name__), None
    # the reference layers: the fused ones (packdepth.networks.fused) trace to a graph with
    # fixed-size border corrections and an Unfold that the exporter cannot make dynamic
    model = load(source, device="cpu", fuse=False) if not isinstance(source, Model) else source
    net = model.pose_net if pose else model.depth_net
    if net is None:
        raise PackdepthError(f"{model.source}: has no pose network to export (a packdepth model "
                             "folder with pose_net.safetensors, a monodepth2 folder with "
                             "pose.pth, or a packnet-sfm checkpoint has one)")
    _unfused(net, str(model.source))
    if any(p.device.type != "cpu" for p in net.parameters()):
        net = copy.deepcopy(net).cpu()
    return net, model


def _unfused(net: nn.Module, name: str) -> nn.Module:
    """``net``, refused when it holds fused PackNet layers (their original weights are gone)."""
    if any(isinstance(m, (FusedPackLayer, FusedUnpackLayer)) for m in net.modules()):
        raise PackdepthError(f"{name}: a fused PackNet cannot be exported; export the network "
                             "itself (packdepth.load(..., fuse=False), or the path)")
    return net


def _run_torch(net: nn.Module, kind: str, inputs: tuple[Tensor, ...]) -> np.ndarray:
    with torch.no_grad():
        out = net(*inputs)
    return (out[0] if kind == "depth" else out).numpy()


def _feed(kind: str, inputs: tuple[Tensor, ...]) -> dict[str, np.ndarray]:
    names = ("image",) if kind == "depth" else ("target", "context")
    return {n: np.ascontiguousarray(x.numpy(), dtype=np.float32) for n, x in zip(names, inputs)}


def _metadata(net: nn.Module, model: Model | None, kind: str, size: tuple[int, int],
              dynamic: bool, floor: int, opset: int) -> ExportMetadata:
    info = dict(model.info) if model is not None else {}
    h, w = info.get("height"), info.get("width")
    trained = (h, w) if isinstance(h, int) and isinstance(w, int) else None
    contexts = 0 if kind == "depth" else int(getattr(net, "num_contexts", 2))
    return ExportMetadata(
        version=__version__, kind=kind, network=dict(getattr(net, "config", {})), size=size,
        dynamic=dynamic, min_size=floor if dynamic else min(size), opset=opset,
        training_size=trained, metric=bool(model.metric) if model is not None else False,
        depth_scale=float(model.depth_scale) if model is not None else 1.0, contexts=contexts,
        info=info, source=str(model.source) if model is not None else type(net).__name__,
    )


def _with_metadata(onnx_bytes: bytes, metadata: ExportMetadata) -> bytes:
    import onnx

    proto = onnx.load_from_string(onnx_bytes)
    for key, value in metadata.to_props().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.producer_name, proto.producer_version = "packdepth", __version__
    return proto.SerializeToString()  # onnxruntime validates the graph when it loads it


def export_onnx(
    model_or_net: str | os.PathLike | Model | nn.Module,
    path: str | os.PathLike,
    *,
    size: tuple[int, int] | None = None,
    dynamic: bool = False,
    pose: bool = False,
    check_images: Sequence[str | os.PathLike] = (),
    tolerance: float = TOLERANCE,
    opset: int = OPSET,
    timing_runs: int = 5,
    threads: int | None = None,
) -> ExportReport:
    """Export a depth (or pose) network to ONNX at ``path``, checked in onnxruntime.

    Args:
        model_or_net: any MODEL :func:`packdepth.load` accepts (a model folder or file, a run
            folder, a monodepth2 folder, a packnet-sfm ``.ckpt``), a :class:`Model`, or a depth
            or pose network (``nn.Module``; then no training size or scale is recorded).
        path: the ``.onnx`` file to write (atomically; never half-written).
        size: ``(H, W)`` to export and check at; default the model's input size
            (:attr:`Model.size`); required for a bare network.
        dynamic: a graph for any ``H, W ≥`` :func:`~packdepth.export.graph.dynamic_floor`
            (checked at ``size`` and at a second size that needs padding).
        pose: export the model's pose network instead of its depth network.
        check_images: real images to check on (resized to ``size``); for a pose network
            ``1 + N`` frames, the target first. Default: frames of the embedded street world.
        tolerance: the largest accepted ``max|onnx − torch| / max|torch|``, per check.
        opset: ONNX opset (at most 20, the TorchScript exporter's newest).
        timing_runs: alternating onnxruntime/PyTorch calls timed at ``size``, batch 1 (0: none).
        threads: CPU threads of onnxruntime and of PyTorch (``torch.set_num_threads``, restored
            afterwards) for the checks and the timing; default: each library's own.

    Returns:
        :class:`ExportReport` (``written`` True).

    Raises:
        ParityError: a check exceeded ``tolerance``; nothing was written (``.report`` has all).
        PackdepthError: a bad MODEL (the one-line messages of :func:`packdepth.load`), no pose
            network, a bad size, an unreadable check image, onnx/onnxruntime not installed.

    Example:
        >>> report = export_onnx("demo_out/model", "depth.onnx", size=(96, 320))  # doctest: +SKIP
        >>> report.worst.relative_error < 1e-4                                   # doctest: +SKIP
        True
    """
    require("onnx")
    net, model = _resolve(model_or_net, pose)
    kind = network_kind(net)
    if size is None:
        if model is None:
            raise PackdepthError("size: give (H, W) to export a bare network")
        size = model.size
    size = check_image_size(*size, "--size")
    floor = dynamic_floor(net)
    if dynamic and min(size) < floor:
        raise PackdepthError(f"--size {size[0]}x{size[1]}: a dynamic {type(net).__name__} graph "
                             f"takes sides of at least {floor} pixels (export smaller sizes "
                             "without --dynamic)")
    metadata = _metadata(net, model, kind, size, dynamic, floor, opset)
    start = time.perf_counter()
    inputs = check_inputs(kind, size, metadata.contexts, dynamic, floor,
                           getattr(net, "size_multiple", 1), check_images)
    onnx_bytes = _with_metadata(trace_to_onnx(net, inputs[0][1], dynamic, opset), metadata)
    report = ExportReport(Path(path), metadata, [], tolerance, file_bytes=len(onnx_bytes),
                          export_seconds=time.perf_counter() - start)
    was_training, torch_threads = net.training, torch.get_num_threads()
    net.eval()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        session = make_session(onnx_bytes, threads=threads)
        for name, tensors in inputs:
            shape = " ".join("x".join(map(str, t.shape)) for t in tensors)
            try:
                ours = session.run(None, _feed(kind, tensors))[0]
            except Exception as exc:  # onnxruntime's own exception types
                raise ParityError(f"{path}: not written: onnxruntime cannot run the graph on "
                                  f"the {name} input {shape} ({first_line(exc)})", report
                                  ) from None
            ref = _run_torch(net, kind, tensors)
            if kind == "pose":  # compare the motions: |T| ≈ 1 would hide centimetre errors
                ours, ref = ours - np.eye(4, dtype=np.float32), ref - np.eye(4, dtype=np.float32)
            report.checks.append(ParityCheck(name, shape, relative_error(ours, ref),
                                             float(np.abs(ours - ref).max(initial=0.0))))
        worst = report.worst
        if not worst.relative_error <= tolerance:
            raise ParityError(
                f"{path}: not written: onnxruntime differs from PyTorch by "
                f"{worst.relative_error:.2e} (max|a-b|/max|b|) on the {worst.input} input "
                f"{worst.shape}, above the tolerance {tolerance:g}", report)
        if timing_runs > 0:
            one = tuple(t[:1] for t in inputs[1][1])
            feed = _feed(kind, one)
            times = median_ms({"onnx": lambda: session.run(None, feed),
                               "torch": lambda: _run_torch(net, kind, one)}, timing_runs)
            report.onnx_ms, report.torch_ms = times["onnx"], times["torch"]
            report.timing_runs, report.threads = timing_runs, threads
    finally:
        net.train(was_training)
        torch.set_num_threads(torch_threads)
    write_bytes(path, onnx_bytes)
    report.written = True
    return report
