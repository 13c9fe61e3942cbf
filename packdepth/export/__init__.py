"""Export networks for other runtimes: ONNX, checked in onnxruntime before it is written.

Floor: above :mod:`packdepth.networks`, :mod:`packdepth.inference`, :mod:`packdepth.io` and
:mod:`packdepth.data`; nothing below imports it. ``onnx`` and ``onnxruntime`` are optional
(``pip install 'packdepth[export]'``) and imported only when a graph is exported or run. Files:

- :mod:`~packdepth.export.graph`: what is traced (graph inputs/outputs, dynamic sizes), the
  exporter and opset, and why;
- :mod:`~packdepth.export.onnx`: :func:`export_onnx` → :class:`ExportReport`;
- :mod:`~packdepth.export.check`: the check inputs and the parity measure
  (``max|onnx − torch| / max|torch|``);
- :mod:`~packdepth.export.metadata`: the file's ``metadata_props`` (:class:`ExportMetadata`);
- :mod:`~packdepth.export.runtime`: :class:`OnnxDepthModel`, :class:`OnnxPoseModel`.

Example:
    >>> from packdepth.export import OnnxDepthModel, export_onnx
    >>> report = export_onnx("demo_out/model", "depth.onnx", size=(96, 320))   # doctest: +SKIP
    >>> inv_depth = OnnxDepthModel("depth.onnx")(image)   # [1,3,96,320] float32  # doctest: +SKIP
"""

from __future__ import annotations

from packdepth.export.check import relative_error
from packdepth.export.graph import OPSET, dynamic_floor
from packdepth.export.metadata import ExportMetadata
from packdepth.export.onnx import TOLERANCE, ExportReport, ParityCheck, ParityError, export_onnx
from packdepth.export.runtime import OnnxDepthModel, OnnxPoseModel

__all__ = [
    "OPSET",
    "TOLERANCE",
    "ExportMetadata",
    "ExportReport",
    "OnnxDepthModel",
    "OnnxPoseModel",
    "ParityCheck",
    "ParityError",
    "dynamic_floor",
    "export_onnx",
    "relative_error",
]
