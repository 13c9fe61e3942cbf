"""GPU training must not crash on torch's determinism checks: which operations of a training step
torch documents as lacking a deterministic CUDA kernel, and what the trainer makes of it.

No GPU is needed: the operations a step dispatches are recorded on the CPU (as they run on a
GPU: the alignment's medians take their GPU path), and torch's list comes from the docstring of
``torch.use_deterministic_algorithms`` itself, each entry mapped to aten operations by running
it (a probe per documented entry, recorded the same way).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import lightning.fabric.accelerators.cuda as fabric_cuda
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from packdepth.config import load_config
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.geometry import align
from packdepth.training.config import TrainConfig
from packdepth.training.data import DepthDataModule
from packdepth.training.device import (
    CUDA_NONDETERMINISTIC,
    resolve_determinism,
    resolve_device,
    resolve_precision,
)
from packdepth.training.module import SelfSupervisedDepth
from packdepth.training.run import build_trainer


class Recorder(TorchDispatchMode):
    """Every aten operation dispatched inside the block (forward and backward)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[torch._ops.OpOverload] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(func)
        return func(*args, **(kwargs or {}))


def documented_entries() -> list[str]:
    """The bullets of torch's list of operations that throw in deterministic mode."""
    doc = torch.use_deterministic_algorithms.__doc__
    section = doc.split("operations will throw a")[1].split("In addition")[0]
    entries: list[list[str]] = []
    for line in section.splitlines():
        text = line.strip()
        if text.startswith("* "):
            entries.append([text[2:]])
        elif entries and text:
            entries[-1].append(text)
    return [" ".join(e) for e in entries]


def _grad_probe(fn: Callable, *inputs: torch.Tensor) -> Callable[[], set]:
    """The operations of differentiating ``fn`` (its backward only)."""
    def probe() -> set:
        xs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
        y = fn(*xs)
        grad = torch.ones_like(y)
        with Recorder() as rec:
            torch.autograd.grad(y, [x for x in xs if x.requires_grad], grad)
        return rec.ops
    return probe


def _call_probe(fn: Callable, *inputs) -> Callable[[], set]:
    """The operations of calling ``fn``."""
    def probe() -> set:
        with Recorder() as rec:
            fn(*inputs)
        return rec.ops
    return probe


def _unpool(n: int) -> Callable[[], set]:
    pooled, indices = getattr(F, f"max_pool{n}d")(torch.rand(1, 1, *[4] * n), 2,
                                                  return_indices=True)
    return _call_probe(getattr(nn, f"MaxUnpool{n}d")(2), pooled, indices)


def _interpolate(mode: str, dims: int, antialias: bool = False) -> Callable[[], set]:
    return _grad_probe(lambda x: F.interpolate(x, scale_factor=2, mode=mode, align_corners=False,
                                               antialias=antialias), torch.rand(1, 1, *[4] * dims))


def _rand(*shape: int) -> torch.Tensor:
    return torch.rand(*shape)


#: One probe per documented entry (by the object it names), under the entry's condition: the
#: operations of its backward for "when attempting to differentiate", of the call otherwise.
PROBES: dict[str, list[Callable[[], set]]] = {
    "torch.nn.AvgPool3d": [_grad_probe(nn.AvgPool3d(2), _rand(1, 1, 4, 4, 4))],
    "torch.nn.AdaptiveAvgPool2d": [_grad_probe(nn.AdaptiveAvgPool2d(2), _rand(1, 1, 5, 5))],
    "torch.nn.AdaptiveAvgPool3d": [_grad_probe(nn.AdaptiveAvgPool3d(2), _rand(1, 1, 5, 5, 5))],
    "torch.nn.AdaptiveMaxPool2d": [_grad_probe(nn.AdaptiveMaxPool2d(2), _rand(1, 1, 5, 5))],
    "torch.nn.FractionalMaxPool2d": [
        _grad_probe(nn.FractionalMaxPool2d(2, output_size=2), _rand(1, 1, 5, 5))],
    "torch.nn.FractionalMaxPool3d": [
        _grad_probe(nn.FractionalMaxPool3d(2, output_size=2), _rand(1, 1, 5, 5, 5))],
    "torch.nn.MaxUnpool1d": [_unpool(1)],
    "torch.nn.MaxUnpool2d": [_unpool(2)],
    "torch.nn.MaxUnpool3d": [_unpool(3)],
    "torch.nn.functional.interpolate": [
        _interpolate("linear", 1), _interpolate("bilinear", 2), _interpolate("bicubic", 2),
        _interpolate("trilinear", 3), _interpolate("bilinear", 2, antialias=True),
        _interpolate("bicubic", 2, antialias=True)],
    "torch.nn.ReflectionPad1d": [_grad_probe(nn.ReflectionPad1d(1), _rand(1, 1, 4))],
    "torch.nn.ReflectionPad2d": [_grad_probe(nn.ReflectionPad2d(1), _rand(1, 1, 4, 4))],
    "torch.nn.ReflectionPad3d": [_grad_probe(nn.ReflectionPad3d(1), _rand(1, 1, 4, 4, 4))],
    "torch.nn.NLLLoss": [_call_probe(nn.NLLLoss(), _rand(3, 4).log(), torch.tensor([0, 1, 3])),
                         _call_probe(nn.NLLLoss(), _rand(2, 4, 3, 3).log(),
                                     torch.randint(0, 4, (2, 3, 3)))],
    "torch.nn.CTCLoss": [_grad_probe(
        lambda lp: nn.CTCLoss()(lp, torch.tensor([[1, 2]]), torch.tensor([5]), torch.tensor([2])),
        _rand(5, 1, 3).log_softmax(2))],
    "torch.nn.EmbeddingBag": [_grad_probe(
        lambda w: F.embedding_bag(torch.tensor([0, 2, 1, 3]), w, torch.tensor([0, 2]), mode="max"),
        _rand(4, 3))],
    "torch.Tensor.put_": [
        _call_probe(lambda a, acc=acc: a.put_(torch.tensor([0, 2]), _rand(2), accumulate=acc),
                    _rand(5)) for acc in (False, True)],
    "torch.histc": [_call_probe(torch.histc, _rand(10))],
    "torch.bincount": [_call_probe(torch.bincount, torch.tensor([0, 1, 1]), _rand(3))],
    # nanmedian along a dimension runs the same CUDA kernel as median with indices (it raises
    # "median CUDA with indices output ..." too), though the docstring names median only.
    "torch.median": [_call_probe(lambda x: torch.median(x, 0), _rand(5, 3)),
                     _call_probe(lambda x: torch.nanmedian(x, 0), _rand(5, 3))],
    "torch.nn.functional.grid_sample": [
        _grad_probe(lambda x, g: F.grid_sample(x, g, align_corners=False),
                    _rand(1, 1, 4, 4), _rand(1, 3, 3, 2) * 2 - 1),
        _grad_probe(lambda x, g: F.grid_sample(x, g, align_corners=False),
                    _rand(1, 1, 4, 4, 4), _rand(1, 2, 2, 2, 3) * 2 - 1)],
    "torch.cumsum": [_call_probe(lambda x: torch.cumsum(x, 0), _rand(5))],
    "torch.Tensor.scatter_reduce": [_call_probe(
        lambda a: a.scatter_reduce(0, torch.tensor([0, 1, 0]), _rand(3), reduce="prod"),
        _rand(3))],
    "torch.Tensor.resize_": [lambda: _quantized_resize()],
}


def _quantized_resize() -> set:
    with warnings.catch_warnings():  # quantized tensors are deprecated
        warnings.simplefilter("ignore")
        quantized = torch.quantize_per_tensor(_rand(4), 0.1, 0, torch.quint8)
    return _call_probe(lambda q: q.resize_(2), quantized)()


def _is_plumbing(op: torch._ops.OpOverload) -> bool:
    """Views and pointwise arithmetic: what a probe's Python wrapper adds around the documented
    kernel (e.g. MaxUnpool1d's unsqueeze, CTCLoss's mean)."""
    return op.is_view or torch.Tag.pointwise in op.tags or op.__name__.startswith("detach")


@pytest.fixture(scope="module")
def documented_ops() -> dict[str, str]:
    """aten operation name → the documented entry it implements."""
    entries = documented_entries()
    named = {re.search(r"`([\w.]+)`", e).group(1) for e in entries}
    assert named == set(PROBES), "torch's list changed: give each new entry a probe"
    ops: dict[str, str] = {}
    flags = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    # A trainer built earlier in the session may have turned deterministic mode on, in which
    # some of these operations refuse to run, on a CPU too (MaxUnpool).
    torch.use_deterministic_algorithms(False)
    try:
        for name, probes in PROBES.items():
            found = {str(op) for probe in probes for op in probe() if not _is_plumbing(op)}
            assert found, name
            ops.update(dict.fromkeys(found, name))
    finally:
        torch.use_deterministic_algorithms(flags[0], warn_only=flags[1])
    return ops


def test_documented_entries_map_to_their_kernels(documented_ops):
    assert len(documented_entries()) == 25  # torch 2.13's list
    assert documented_ops["aten.median.dim"] == "torch.median"
    assert documented_ops["aten.grid_sampler_2d_backward.default"] == (
        "torch.nn.functional.grid_sample")
    assert documented_ops["aten.reflection_pad2d_backward.default"] == "torch.nn.ReflectionPad2d"


H, W = 48, 160

#: Three steps that together use every loss term and every family of networks.
STEPS = {
    "resnet, every scale, alignment with metric scale, prior, supervised l1, anchor": [
        "model.depth={name: ResNetDepth, num_layers: 18}", "model.pose={name: PoseNet}",
        "loss.num_scales=4", "loss.align_pose=true", "loss.velocity_weight=0.1",
        "loss.prior_weight=0.1", "loss.supervised_weight=0.1", "loss.anchor_weight=0.1",
        "model.init=anchor-weights-not-loaded-here"],
    "semantic, scale-free alignment, berhu": [
        "model.depth={name: SemanticDepth, num_classes: 10}",
        "model.pose={name: PoseResNet, num_layers: 18}", "loss.num_scales=2",
        "loss.align_pose=true", "loss.semantic_weight=0.1", "loss.supervised_weight=0.1",
        "loss.supervised_kind=berhu"],
    "packnet, one scale, silog": [
        "model.depth={name: PackNetSmall}", "model.pose={name: PoseNet}", "loss.num_scales=1",
        "loss.supervised_weight=0.1", "loss.supervised_kind=silog", "loss.prior_weight=0.1"],
}


def _step_ops(world: Path, overrides: list[str]) -> set[str]:
    """The aten operations of one training step: losses, backward, clipping, Adam (the step of
    ``training_step``, without its logging)."""
    cfg = load_config(TrainConfig, None, [
        "data.kind=synthetic", f"data.root={world}", "data.split=splits/all_files.txt",
        f"data.height={H}", f"data.width={W}", "trainer.batch_size=2", *overrides])
    module = SelfSupervisedDepth(cfg)
    data = DepthDataModule(cfg)
    data.setup()
    batch = next(iter(torch.utils.data.DataLoader(data.train_set, batch_size=2)))
    optimizer = module.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    with Recorder() as rec:
        module.compute_losses(batch)["total"].backward()
        module.configure_gradient_clipping(optimizer, gradient_clip_val=10.0)
        optimizer.step()
    return {str(op) for op in rec.ops}


def test_training_step_uses_only_the_announced_nondeterministic_cuda_ops(
        documented_ops, tmp_path, monkeypatch):
    """The intersection of a step's operations with torch's list is exactly the set that the
    trainer announces on GPUs (CUDA_NONDETERMINISTIC); median with indices is not in it."""
    world = tmp_path / "world"
    write_dataset(world, SynthParams(height=H, width=W, frames=4, seed=5),
                  sequences=1)
    # the step as on a GPU: the alignment's medians by sorting (on a CPU torch's median kernels)
    monkeypatch.setattr(align, "lower_median", align.sorted_median)
    used: set[str] = set()
    for overrides in STEPS.values():
        used |= _step_ops(world, overrides)
    assert "aten.grid_sampler_2d_backward.default" in used  # the recording sees the backward
    assert not {"aten.median.dim", "aten.nanmedian.dim"} & used
    assert used & set(documented_ops) == set(CUDA_NONDETERMINISTIC)


def test_devices_precision_and_determinism_resolve(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    for cuda in (False, True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        assert resolve_device("auto") == ("cuda" if cuda else "cpu")
        assert resolve_device("gpu") == "cuda"
        assert resolve_device("cpu") == "cpu"
    assert resolve_precision("auto", "cuda") == "32-true"
    assert resolve_precision("auto", "mps") == "32-true"
    assert resolve_precision("bf16-mixed", "cuda") == "bf16-mixed"
    native = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    assert resolve_precision("auto", "cpu") == ("bf16-mixed" if native else "32-true")
    assert resolve_determinism(True, "cpu") is True
    assert resolve_determinism(True, "cuda") == "warn"
    assert resolve_determinism(False, "cuda") is False
    assert TrainConfig().trainer.accelerator == "auto"  # a GPU is used when there is one


@pytest.fixture
def torch_flags():
    """Restore torch's global determinism flags after a test that builds trainers."""
    flags = (torch.are_deterministic_algorithms_enabled(),
             torch.is_deterministic_algorithms_warn_only_enabled())
    yield
    torch.use_deterministic_algorithms(flags[0], warn_only=flags[1])


@pytest.mark.parametrize("accelerator", ["cuda", "gpu", "auto"])
def test_gpu_trainer_warns_once_instead_of_failing(accelerator, tmp_path, capsys, torch_flags):
    """With a (mocked) CUDA device the trainer gets warn-only determinism, full float32 for
    ``precision: auto``, and one line naming the operations without a deterministic kernel."""
    cfg = load_config(TrainConfig, None, [f"trainer.accelerator={accelerator}",
                                          "trainer.precision=auto", "trainer.progress_bar=false"])
    with mock.patch.object(torch.cuda, "is_available", lambda: True), \
            mock.patch.object(torch.cuda, "device_count", lambda: 1), \
            mock.patch.object(torch.backends.mps, "is_available", lambda: False), \
            mock.patch.object(fabric_cuda, "num_cuda_devices", lambda: 1):
        trainer = build_trainer(cfg, tmp_path, has_val=False)
    assert type(trainer.accelerator).__name__ == "CUDAAccelerator"
    assert trainer.precision == "32-true"
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    notes = [line for line in capsys.readouterr().err.splitlines() if "packdepth: note" in line]
    assert len(notes) == 1 and "grid_sample backward" in notes[0], notes


def test_cpu_trainer_is_fully_deterministic(tmp_path, capsys, torch_flags):
    cfg = load_config(TrainConfig, None, ["trainer.accelerator=cpu", "trainer.progress_bar=false"])
    build_trainer(cfg, tmp_path, has_val=False)
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert "packdepth: note" not in capsys.readouterr().err
