"""The ground-plane scale (:mod:`packdepth.apps.ground`) where packdepth makes and scores depth.

- :class:`GroundRescale`, ``packdepth infer --camera-height H [--ground-window N]``: each frame's
  depth is multiplied by its own ground scale, or by the median of the scales of the last ``N``
  frames of its video that found a plane (a temporal median: steadier along a video, and it
  carries a frame without visible ground). A frame with no scale at all stays relative.
- :func:`sequence_ground`, ``packdepth fit --camera-height H``: one scale for a whole sequence,
  the median over its frames (the camera and the fitted model do not change along it).
- :class:`GroundScaler`, ``packdepth eval --scaling ground --camera-height H``: each prediction's
  scale from its split entry's calibration; ``None`` where no plane is found (the frame is then
  scored unscaled and counted, :func:`packdepth.evaluation.report.evaluate_depth`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from packdepth.apps.depth_frames import needs_intrinsics, predicted_frames
from packdepth.apps.ground import GroundFit, GroundOptions, ground_scale, median_scale
from packdepth.data.intrinsics import Intrinsics
from packdepth.data.kitti.splits import SplitEntry
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import entry_intrinsics
from packdepth.inference.model import Model
from packdepth.inference.predict import DepthResult
from packdepth.inference.sources import Frame, Input
from packdepth.text import plural


def rescaled(result: DepthResult, scale: float) -> DepthResult:
    """``result`` with its depth multiplied by ``scale`` and labelled metric."""
    return replace(result, depth=(result.depth * scale).astype(np.float32),
                   inv_depth=(result.inv_depth / scale).astype(np.float32), metric=True,
                   scale=(result.scale or 1.0) * scale)


def no_plane_summary(fits: Sequence[tuple[str, GroundFit]]) -> str | None:
    """One line on the frames where no plane was found (the first one's reason), or ``None``."""
    missing = [(name, fit) for name, fit in fits if not fit.found]
    if not missing:
        return None
    name, fit = missing[0]
    return (f"no ground plane in {len(missing)} of {plural(len(fits), 'frame')} (first: {name}: "
            f"{fit.reason})")


class GroundRescale:
    """The ``rescale`` of :class:`packdepth.inference.InferOptions` for a known camera height.

    Args:
        camera_height: metres.
        window: the median of the last ``window`` found scales of the same input (1: each frame
            its own scale).
        options: :class:`GroundOptions`.

    ``fits`` records ``(frame name, GroundFit)`` per frame. Calling it raises
    :class:`PackdepthError` for a frame without intrinsics.
    """

    def __init__(self, camera_height: float, window: int = 1,
                 options: GroundOptions | None = None) -> None:
        if window < 1:
            raise PackdepthError(f"--ground-window: must be at least 1, got {window}")
        self.camera_height, self.window, self.options = camera_height, window, options
        self.fits: list[tuple[str, GroundFit]] = []
        self._recent: dict[str, deque[float]] = {}

    def __call__(self, frame: Frame, result: DepthResult) -> DepthResult:
        if result.K is None:
            raise needs_intrinsics(frame.input.path)
        fit = ground_scale(result.depth, result.K, self.camera_height, self.options)
        self.fits.append((frame.name, fit))
        recent = self._recent.setdefault(frame.input.name, deque(maxlen=self.window))
        if fit.found:
            recent.append(fit.scale)
        return rescaled(result, float(np.median(recent))) if recent else result


@dataclass
class SequenceGround:
    """One scale for a sequence: ``scale`` (the median, ``None`` when no frame found a plane)
    and each frame's ``(name, GroundFit)``."""

    scale: float | None
    fits: list[tuple[str, GroundFit]]


def sequence_ground(
    model: Model,
    inputs: Sequence[str | os.PathLike | Input],
    camera_height: float,
    *,
    intrinsics: Intrinsics | str | os.PathLike | None = None,
    stride: int = 1,
    max_frames: int | None = None,
    batch: int = 4,
    options: GroundOptions | None = None,
) -> SequenceGround:
    """The median ground scale of a model's depth over every frame of ``inputs``.

    Args:
        model: from :func:`packdepth.load`.
        inputs: images, folders, videos or :class:`Input` objects (with their ``K``), as
            :func:`packdepth.inference.infer` takes them.
        camera_height: metres.
        intrinsics: for inputs without their own ``K`` (an :class:`Intrinsics` or its file).
        stride, max_frames: of videos (stride: of folders too), as in ``infer``.

    Raises:
        PackdepthError: unreadable inputs, or a frame without intrinsics.
    """
    fits = [(f.name, ground_scale(r.depth, r.K, camera_height, options))
            for f, r in predicted_frames(model, inputs, intrinsics=intrinsics, stride=stride,
                                         max_frames=max_frames, batch=batch)]
    return SequenceGround(median_scale(fit for _, fit in fits), fits)


class GroundScaler:
    """The :data:`packdepth.evaluation.report.Scaler` of ground-plane scaling on a KITTI-layout
    dataset: each prediction's ground scale with its entry's calibrated intrinsics.

    Args:
        root: the dataset root (KITTI raw layout).
        camera_height: metres.
        options: :class:`GroundOptions`.

    ``fits`` records ``(entry name, GroundFit)`` per call.
    """

    def __init__(self, root: str | os.PathLike, camera_height: float,
                 options: GroundOptions | None = None) -> None:
        self.root, self.camera_height, self.options = Path(root), camera_height, options
        self.fits: list[tuple[str, GroundFit]] = []

    def __call__(self, entry: SplitEntry, depth: np.ndarray) -> float | None:
        K = entry_intrinsics(self.root, entry, depth.shape[-2:])
        fit = ground_scale(depth, K, self.camera_height, self.options)
        self.fits.append((entry.name, fit))
        return fit.scale
