"""Convert official packnet-sfm and monodepth2 weight files into packdepth networks.

Loading is all-or-nothing: every tensor of the network must be found with the right shape and
every tensor in the file's network namespace must be used, otherwise :class:`WeightMismatchError`
(a :class:`PackdepthError`) carries a :class:`MatchReport`. Files are read with
``torch.load(weights_only=True)``, falling back to :func:`packdepth.io.safe_pickle.restricted_load`
for ``.ckpt`` files that pickle other classes (packnet-sfm's yacs config): no pickled code runs.
"""

from __future__ import annotations

import os
import pickle
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from packdepth.errors import PackdepthError
from packdepth.io.safe_pickle import restricted_load, to_plain
from packdepth.networks import PackNet, PoseNet, PoseResNet, ResNetDepth
from packdepth.networks.packnet import PACKNET01_WIDTHS, SLIM_WIDTHS
from packdepth.networks.resnet import RESNET_SPECS, Bottleneck

DEPTH_PREFIXES = ("depth_net", "disp_network")  # disp_network: legacy packnet-sfm files
POSE_PREFIXES = ("pose_net", "pose_network")
_DROPOUT_SHORTCUT = re.compile(r"^(conv\d+\.\d+\.conv3)\.0\.(weight|bias)$")
MONODEPTH2_CLASSIFIER = ("encoder.fc.weight", "encoder.fc.bias")  # ImageNet head, never used


@dataclass
class MatchReport:
    """How the tensors of one file (or pair of files) matched one network."""

    name: str
    source: str
    expected: int
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def summary(self) -> str:
        """One line: ``depth_net: 216/216 tensors matched, 0 missing, 0 unexpected, ...``."""
        text = (f"{self.name}: {len(self.matched)}/{self.expected} tensors matched, "
                f"{len(self.missing)} missing, {len(self.unexpected)} unexpected, "
                f"{len(self.mismatched)} shape mismatches")
        if self.ignored:
            text += f", {len(self.ignored)} ignored"
        return text

    def details(self, limit: int = 3) -> str:
        parts = []
        if self.missing:
            parts.append("missing e.g. " + ", ".join(self.missing[:limit]))
        if self.unexpected:
            parts.append("unexpected e.g. " + ", ".join(self.unexpected[:limit]))
        for key, got, want in self.mismatched[:limit]:
            parts.append(f"{key} has shape {list(got)}, network needs {list(want)}")
        return "; ".join(parts)


class WeightMismatchError(PackdepthError):
    """A weight file does not fully match its network; ``report`` says how."""

    def __init__(self, report: MatchReport):
        super().__init__(f"{report.source}: {report.summary()} ({report.details()})")
        self.report = report


@dataclass
class ImportResult:
    """Networks rebuilt from official files, their match reports and facts about the source."""

    depth_net: nn.Module
    pose_net: nn.Module | None
    reports: list[MatchReport]
    info: dict[str, Any]


def load_torch_file(path: str | os.PathLike) -> Any:
    """Read a ``torch.save`` file without running pickled code (see module docstring)."""
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: no such file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        pass  # classes outside torch's allowlist: read them as inert placeholders instead
    except Exception as exc:
        raise PackdepthError(f"{path}: not a readable PyTorch file ({_first_line(exc)})") from exc
    try:
        return restricted_load(path)
    except Exception as exc:
        raise PackdepthError(f"{path}: not a readable PyTorch file ({_first_line(exc)})") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def load_matching(model: nn.Module, tensors: dict[str, Tensor], name: str, source: str,
                  ignored: tuple[str, ...] = ()) -> MatchReport:
    """Load ``tensors`` into ``model`` only if they match exactly; else raise the report."""
    expected = model.state_dict()
    report = MatchReport(name, source, len(expected))
    for key, value in tensors.items():
        if key in ignored:
            report.ignored.append(key)
        elif key not in expected:
            report.unexpected.append(key)
        elif tuple(value.shape) != tuple(expected[key].shape):
            report.mismatched.append((key, tuple(value.shape), tuple(expected[key].shape)))
        else:
            report.matched.append(key)
    report.missing = [k for k in expected if k not in tensors]
    if not report.ok:
        raise WeightMismatchError(report)
    model.load_state_dict({k: tensors[k] for k in report.matched}, strict=True)
    return report


def _split_packnet_state(state: dict[str, Any]) -> tuple[dict, dict, list[str]]:
    """Split a packnet-sfm state dict into depth and pose tensors (prefixes removed)."""
    depth, pose, other = {}, {}, []
    for key, value in state.items():
        parts = str(key).split(".")
        while parts and parts[0] == "model":
            parts = parts[1:]
        if not isinstance(value, Tensor) or len(parts) < 2:
            other.append(str(key))
        elif parts[0] in DEPTH_PREFIXES:
            depth[_DROPOUT_SHORTCUT.sub(r"\1.\2", ".".join(parts[1:]))] = value
        elif parts[0] in POSE_PREFIXES:
            pose[".".join(parts[1:])] = value
        else:
            other.append(str(key))
    return depth, pose, other


def _packnet_from_shapes(depth: dict[str, Tensor], source: str, hint: str) -> PackNet:
    """Rebuild the PackNet whose widths, 3D features and version the tensors imply."""
    needed = ["pre_calc.conv_base.weight", "conv1.conv_base.weight", "pack1.conv3d.weight",
              "iconv5.conv_base.weight"]
    needed += [f"conv{i}.0.conv1.conv_base.weight" for i in range(2, 6)]
    absent = [k for k in needed if k not in depth]
    if absent:
        raise PackdepthError(f"{source}: depth network is not a PackNet01 ({hint}; "
                             f"no {absent[0]})")
    widths = [depth["conv1.conv_base.weight"].shape[0]]
    widths += [depth[f"conv{i}.0.conv1.conv_base.weight"].shape[0] for i in range(2, 6)]
    version = "A" if depth["iconv5.conv_base.weight"].shape[1] == widths[4] + widths[3] else "B"
    try:
        return PackNet(version, stem_channels=depth["pre_calc.conv_base.weight"].shape[0],
                       widths=widths, d=depth["pack1.conv3d.weight"].shape[0])
    except ValueError as exc:
        raise PackdepthError(f"{source}: unsupported PackNet layout ({exc})") from exc


def packnet_display_name(net: PackNet) -> str:
    """``PackNet01-A``/``PackNetSlim01-B`` for the published widths, else ``PackNet-A``."""
    key = (net.config["stem_channels"], tuple(net.config["widths"]), net.config["d"])
    name = {(64, PACKNET01_WIDTHS, 8): "PackNet01", (32, SLIM_WIDTHS, 4): "PackNetSlim01"}
    return f"{name.get(key, 'PackNet')}-{net.version}"


def import_packnet_ckpt(path: str | os.PathLike) -> ImportResult:
    """Rebuild PackNet (+ PoseNet if present) from a packnet-sfm ``.ckpt`` / legacy ``.pth.tar``."""
    source = str(path)
    raw = load_torch_file(path)
    state = raw.get("state_dict", raw) if isinstance(raw, dict) else None
    if not isinstance(state, dict):
        raise PackdepthError(f"{source}: no state_dict in the checkpoint")
    config = to_plain(raw.get("config")) if isinstance(raw.get("config"), dict) else {}
    model_cfg = config.get("model", {}) if isinstance(config, dict) else {}
    names = {part: (model_cfg.get(part) or {}).get("name") for part in ("depth_net", "pose_net")}
    depth, pose, other = _split_packnet_state(state)
    if not depth:
        raise PackdepthError(f"{source}: no depth_net tensors (model.depth_net.* or "
                             "disp_network.*) in the state_dict")
    depth_net = _packnet_from_shapes(depth, source, f"config names {names['depth_net']!r}")
    reports = [load_matching(depth_net, depth, "depth_net", source)]
    reports[0].ignored.extend(other)  # tensors outside model.depth_net / model.pose_net
    pose_net = None
    if pose:
        if "pose_pred.weight" not in pose:
            raise PackdepthError(f"{source}: pose network {names['pose_net']!r} is not "
                                 "packnet-sfm's PoseNet (no pose_pred.weight)")
        pose_net = PoseNet(num_contexts=pose["pose_pred.weight"].shape[0] // 6)
        reports.append(load_matching(pose_net, pose, "pose_net", source))
    info = {"source": source, "format": "packnet", "architecture": packnet_display_name(depth_net),
            "epoch": raw.get("epoch"), "config_names": names, **_packnet_image_shape(config)}
    return ImportResult(depth_net, pose_net, reports, info)


def _packnet_image_shape(config: Any) -> dict[str, int]:
    """``{"height", "width"}`` from packnet-sfm's ``datasets.augmentation.image_shape``, if set."""
    try:
        h, w = config["datasets"]["augmentation"]["image_shape"]
        return {"height": int(h), "width": int(w)}
    except (KeyError, TypeError, ValueError):
        return {}


def _resnet_depth_from_keys(tensors: dict[str, Tensor], source: str) -> int:
    """ResNet depth (18/34/50) implied by ``encoder.layerN.M.*`` keys."""
    counts = []
    for n in range(1, 5):
        ids = {int(k.split(".")[2]) for k in tensors if k.startswith(f"encoder.layer{n}.")}
        counts.append(max(ids) + 1 if ids else 0)
    bottleneck = "encoder.layer1.0.conv3.weight" in tensors
    for depth, (block, spec) in RESNET_SPECS.items():
        if tuple(counts) == spec and (block is Bottleneck) == bottleneck:
            return depth
    raise PackdepthError(f"{source}: not a ResNet-18/34/50 encoder (blocks per layer {counts})")


def _tensors_and_extras(obj: Any, source: str) -> tuple[dict[str, Tensor], dict[str, Any]]:
    if not isinstance(obj, dict):
        raise PackdepthError(f"{source}: expected a dict of tensors, got {type(obj).__name__}")
    tensors = {k: v for k, v in obj.items() if isinstance(v, Tensor)}
    extras = {k: v for k, v in obj.items() if not isinstance(v, Tensor)}
    return tensors, extras


def import_monodepth2(folder: str | os.PathLike) -> ImportResult:
    """Rebuild ResNetDepth (+ PoseResNet) from monodepth2's ``encoder.pth`` + ``depth.pth``
    (+ ``pose_encoder.pth`` + ``pose.pth``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PackdepthError(f"{folder}: not a folder (expected monodepth2's encoder.pth, "
                             "depth.pth, ...)")
    for name in ("encoder.pth", "depth.pth"):
        if not (folder / name).is_file():
            raise PackdepthError(f"{folder}: no {name} (a monodepth2 folder holds encoder.pth "
                                 "and depth.pth, and optionally pose_encoder.pth and pose.pth)")
    encoder, extras = _tensors_and_extras(load_torch_file(folder / "encoder.pth"),
                                          str(folder / "encoder.pth"))
    decoder, _ = _tensors_and_extras(load_torch_file(folder / "depth.pth"),
                                     str(folder / "depth.pth"))
    source = f"{folder}/{{encoder,depth}}.pth"
    depth_net = ResNetDepth(_resnet_depth_from_keys(encoder, str(folder / "encoder.pth")))
    reports = [load_matching(depth_net, {**encoder, **decoder}, "depth_net", source,
                             ignored=MONODEPTH2_CLASSIFIER)]
    pose_files = [folder / "pose_encoder.pth", folder / "pose.pth"]
    present = [p.is_file() for p in pose_files]
    pose_net = None
    if any(present) and not all(present):
        missing = pose_files[present.index(False)]
        raise PackdepthError(f"{missing}: no such file (pose_encoder.pth and pose.pth come "
                             "together)")
    if all(present):
        pose_enc, _ = _tensors_and_extras(load_torch_file(pose_files[0]), str(pose_files[0]))
        pose_dec, _ = _tensors_and_extras(load_torch_file(pose_files[1]), str(pose_files[1]))
        pose_net = PoseResNet(_resnet_depth_from_keys(pose_enc, str(pose_files[0])))
        reports.append(load_matching(pose_net, {**pose_enc, **pose_dec}, "pose_net",
                                     f"{folder}/{{pose_encoder,pose}}.pth",
                                     ignored=MONODEPTH2_CLASSIFIER))
    info = {"source": str(folder), "format": "monodepth2",
            "architecture": f"ResNet{depth_net.config['num_layers']}",
            **{k: extras[k] for k in ("height", "width", "use_stereo") if k in extras}}
    return ImportResult(depth_net, pose_net, reports, info)
