"""Run exported graphs in onnxruntime: :class:`OnnxDepthModel` and :class:`OnnxPoseModel`.

Both read the packdepth metadata of the file (:mod:`packdepth.export.metadata`) and check their
inputs against it (dtype float32, the exported size, or at least the dynamic floor) with a
one-line ``ValueError`` rather than onnxruntime's shape messages.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from packdepth.errors import PackdepthError
from packdepth.export.metadata import ExportMetadata

DEFAULT_PROVIDERS = ("CPUExecutionProvider",)


def require(module: str) -> Any:
    """``onnx`` or ``onnxruntime``, imported, or a one-line error saying how to install them."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise PackdepthError(f"ONNX export needs {module} (not installed): "
                             "pip install 'packdepth[export]'") from None


def make_session(model: bytes | str | os.PathLike, providers: tuple[str, ...] = DEFAULT_PROVIDERS,
                 threads: int | None = None, spinning: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` of a file or of serialized model bytes.

    ``threads``: intra-op threads (``None``: onnxruntime's default, one per core).
    ``spinning``: let idle worker threads spin (onnxruntime's default; off here, since spinning
    threads take the cores from everything else between calls, PyTorch included).

    Raises:
        PackdepthError: a missing file, or one onnxruntime cannot load (named, one line).
    """
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    if isinstance(model, bytes):
        return ort.InferenceSession(model, options, providers=list(providers))
    path = Path(model)
    if not path.is_file():
        raise PackdepthError(f"{path}: no such ONNX file")
    try:
        return ort.InferenceSession(str(path), options, providers=list(providers))
    except Exception as exc:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...)
        raise PackdepthError(f"{path}: not an ONNX model onnxruntime can load "
                             f"({first_line(exc)})") from None


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message (onnxruntime's run on for pages), or its type."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else type(exc).__name__


def session_metadata(session: Any, path: str | os.PathLike) -> ExportMetadata:
    """The packdepth metadata of a loaded session (``PackdepthError`` when it has none)."""
    return ExportMetadata.from_props(session.get_modelmeta().custom_metadata_map, path)


class _OnnxNetwork:
    """A session and the file's metadata; subclasses name the kind they run."""

    kind = ""

    def __init__(self, path: str | os.PathLike, *, providers: tuple[str, ...] = DEFAULT_PROVIDERS,
                 threads: int | None = None, spinning: bool = False):
        self.path = Path(path)
        self.session = make_session(self.path, providers, threads, spinning)
        self.metadata: ExportMetadata = session_metadata(self.session, self.path)
        if self.metadata.kind != self.kind:
            raise PackdepthError(f"{self.path}: a {self.metadata.kind} network graph; "
                                 f"{type(self).__name__} runs {self.kind} graphs")

    def _check(self, name: str, array: np.ndarray, rank: int) -> None:
        if not isinstance(array, np.ndarray) or array.dtype != np.float32 or array.ndim != rank:
            got = (f"{array.dtype} {list(array.shape)}" if isinstance(array, np.ndarray)
                   else type(array).__name__)
            raise ValueError(f"{name}: expected a float32 array of rank {rank}, got {got}")
        h, w = array.shape[-2:]
        meta = self.metadata
        if meta.dynamic and min(h, w) < meta.min_size:
            raise ValueError(f"{name}: {h}x{w} is below this dynamic graph's minimum of "
                             f"{meta.min_size} pixels a side")
        if not meta.dynamic and (h, w) != meta.size:
            raise ValueError(f"{name}: {h}x{w}, but this graph was exported for "
                             f"{meta.size[0]}x{meta.size[1]} (export with --dynamic for any size)")


class OnnxDepthModel(_OnnxNetwork):
    """An exported depth graph in onnxruntime: ``inv_depth = model(image)``.

    Args:
        path: an ``.onnx`` file written by :func:`packdepth.export.export_onnx`.
        providers: onnxruntime execution providers (default CPU).
        threads: intra-op threads (default: onnxruntime's, one per core).
        spinning: let idle onnxruntime threads spin (see :func:`make_session`; default off).

    Attributes:
        metadata: :class:`~packdepth.export.metadata.ExportMetadata` (size, dynamic, min_size,
            network config, training size, metric, depth_scale, ...).

    Raises:
        PackdepthError: the file is missing, not ONNX, not written by packdepth, or a pose graph.

    Example:
        >>> model = OnnxDepthModel("resnet18.onnx")                        # doctest: +SKIP
        >>> inv = model(np.zeros((1, 3, *model.metadata.size), np.float32))  # doctest: +SKIP
        >>> depth = model.metadata.depth_scale / inv                        # doctest: +SKIP
    """

    kind = "depth"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """``image [B,3,H,W]`` float32 in [0,1] → ``inv_depth [B,1,H,W]`` float32 (1/units of
        depth: metres when ``metadata.metric``, after ``depth_scale``).

        Raises:
            ValueError: not float32 ``[B,3,H,W]``, or ``H x W`` not the exported size (fixed
                graphs) or below ``metadata.min_size`` (dynamic graphs).
        """
        self._check("image", image, 4)
        if image.shape[1] != 3:
            raise ValueError(f"image: expected [B,3,H,W], got {list(image.shape)}")
        return self.session.run(None, {"image": image})[0]


class OnnxPoseModel(_OnnxNetwork):
    """An exported pose graph in onnxruntime: ``T = model(target, context)``.

    ``target [B,3,H,W]``, ``context [B,N,3,H,W]`` float32 in [0,1] (N = ``metadata.contexts``)
    → ``T_target_to_context [B,N,4,4]`` float32. Errors as :class:`OnnxDepthModel`.
    """

    kind = "pose"

    def __call__(self, target: np.ndarray, context: np.ndarray) -> np.ndarray:
        self._check("target", target, 4)
        self._check("context", context, 5)
        if context.shape[1] != self.metadata.contexts or context.shape[2:] != target.shape[1:]:
            raise ValueError(f"expected target [B,3,H,W] and context "
                             f"[B,{self.metadata.contexts},3,H,W], got {list(target.shape)} "
                             f"and {list(context.shape)}")
        return self.session.run(None, {"target": target, "context": context})[0]
