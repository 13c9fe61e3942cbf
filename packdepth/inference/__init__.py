"""Depth for your own images and videos with a trained or imported model.

Floors: above :mod:`packdepth.networks`, :mod:`packdepth.io` and :mod:`packdepth.data`, beside
:mod:`packdepth.evaluation`; nothing below imports it. Files:

- :mod:`~packdepth.inference.model`: :func:`load` any model form → :class:`Model`;
- :mod:`~packdepth.inference.predict`: :func:`predict` → :class:`DepthResult` at the image's
  own resolution (and :func:`~packdepth.inference.predict.predict_batch`);
- :mod:`~packdepth.inference.sources`: INPUTs (images, folders, videos) → named frames, in order;
- :mod:`~packdepth.inference.outputs`, :mod:`~packdepth.inference.video`: the files written;
- :mod:`~packdepth.inference.runner`: the ``packdepth infer`` run (:func:`infer`).

Camera trajectories take :attr:`Model.pose_net` and the ordered frames of
:func:`~packdepth.inference.sources.iter_frames` (a separate module, ``trajectory``).

Example:
    >>> import packdepth
    >>> model = packdepth.load("demo_out/model")                 # doctest: +SKIP
    >>> result = packdepth.predict(model, "frame.png")           # doctest: +SKIP
    >>> result.depth.shape                                       # doctest: +SKIP
    (375, 1242)
"""

from __future__ import annotations

from packdepth.inference.model import DEFAULT_SIZE, Model, load
from packdepth.inference.predict import DepthResult, predict, predict_batch
from packdepth.inference.runner import InferOptions, InferSummary, infer

__all__ = [
    "DEFAULT_SIZE",
    "DepthResult",
    "InferOptions",
    "InferSummary",
    "Model",
    "infer",
    "load",
    "predict",
    "predict_batch",
]
