"""What an exported ONNX file says about itself: its ``metadata_props`` (string key → value).

Keys, all prefixed ``packdepth.``:

=================  ===========================================================================
``version``        the packdepth version that wrote the file
``kind``           ``depth`` or ``pose``
``network``        the network's config, JSON (``{"name": "ResNetDepth", "num_layers": 18, ...}``;
                   :func:`packdepth.networks.build_network` rebuilds the architecture from it)
``size``           ``HxW`` the graph was exported (and checked) at
``dynamic``        ``true``: any ``H, W ≥ min_size``; ``false``: ``size`` only
``min_size``       the smallest side a dynamic graph takes, pixels
``opset``          the ONNX opset
``training_size``  ``HxW`` the model records it was trained at, or empty when unknown
``metric``         ``true`` when depth is in metres (after ``depth_scale``)
``depth_scale``    ``depth = depth_scale / inv_depth`` (5.4 for monodepth2 stereo models, else 1)
``contexts``       context frames N of a pose graph (0 for depth graphs)
``info``           everything the model file records (steps, import source, ...), JSON
``source``         the MODEL it was exported from
=================  ===========================================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packdepth.errors import PackdepthError

PREFIX = "packdepth."


def _size_text(size: tuple[int, int] | None) -> str:
    return f"{size[0]}x{size[1]}" if size else ""


def _parse_size(text: str) -> tuple[int, int] | None:
    if not text:
        return None
    h, w = (int(v) for v in text.split("x"))
    return h, w


@dataclass(frozen=True)
class ExportMetadata:
    """The packdepth facts of an exported graph (see the module docstring for each)."""

    version: str
    kind: str
    network: dict[str, Any]
    size: tuple[int, int]
    dynamic: bool
    min_size: int
    opset: int
    training_size: tuple[int, int] | None = None
    metric: bool = False
    depth_scale: float = 1.0
    contexts: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    def to_props(self) -> dict[str, str]:
        """The ``metadata_props`` entries, key → string value."""
        values = {
            "version": self.version, "kind": self.kind,
            "network": json.dumps(self.network, sort_keys=True), "size": _size_text(self.size),
            "dynamic": str(self.dynamic).lower(), "min_size": str(self.min_size),
            "opset": str(self.opset), "training_size": _size_text(self.training_size),
            "metric": str(self.metric).lower(), "depth_scale": repr(float(self.depth_scale)),
            "contexts": str(self.contexts),
            "info": json.dumps(self.info, sort_keys=True, default=str), "source": self.source,
        }
        return {PREFIX + key: value for key, value in values.items()}

    @classmethod
    def from_props(cls, props: Mapping[str, str], path: str | Path) -> ExportMetadata:
        """Parse :meth:`to_props`' entries (other keys are ignored).

        Raises:
            PackdepthError: ``path`` lacks the packdepth entries or they are malformed.
        """
        p = {k.removeprefix(PREFIX): v for k, v in props.items() if k.startswith(PREFIX)}
        try:
            return cls(
                version=p["version"], kind=p["kind"], network=json.loads(p["network"]),
                size=_parse_size(p["size"]), dynamic=p["dynamic"] == "true",  # type: ignore
                min_size=int(p["min_size"]), opset=int(p["opset"]),
                training_size=_parse_size(p.get("training_size", "")),
                metric=p.get("metric") == "true", depth_scale=float(p.get("depth_scale", 1.0)),
                contexts=int(p.get("contexts", 0)), info=json.loads(p.get("info", "{}")),
                source=p.get("source", ""),
            )
        except (KeyError, ValueError, TypeError) as exc:
            what = "no packdepth metadata" if not p else f"malformed packdepth metadata ({exc})"
            raise PackdepthError(f"{path}: an ONNX model with {what}: export it with "
                                 "`packdepth export`") from None
