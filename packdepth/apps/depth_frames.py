"""Depth frames for the apps: predicted by a model on images, folders and videos, in order (the
inference sources and :func:`~packdepth.inference.predict_batch`: :func:`predicted_frames`,
:func:`model_frames`), or read from ``packdepth infer``'s ``.npz`` files (``depth``, ``K``,
``metric``: :func:`npz_frames`)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from packdepth.data.intrinsics import Intrinsics, load_intrinsics
from packdepth.errors import PackdepthError
from packdepth.inference.model import Model
from packdepth.inference.outputs import ColourRange, depth_colours
from packdepth.inference.predict import DepthResult, as_image, predict_batch
from packdepth.inference.sources import (
    Frame,
    Input,
    expand_inputs,
    frame_intrinsics,
    iter_frames,
)
from packdepth.io.npz import read_npz


@dataclass
class DepthFrame:
    """One frame's depth and what the map needs with it.

    Attributes:
        source: the input file (image, video or ``.npz``).
        kind: ``"image"``, ``"video"`` or ``"npz"`` (a video's frames share one output).
        name: the input's output name (below the output folder, no suffix).
        frame: the frame's own name (``name`` for images, ``name/000012`` for video frames).
        depth: ``[H,W]`` depth; ``metric``: whether in metres.
        K: ``[3,3]`` intrinsics at ``[H,W]``.
        picture: ``[H,W,3]`` uint8: the image, or the depth's colours (``.npz`` inputs).
        rate: a video's frame rate.
    """

    source: Path
    kind: str
    name: str
    frame: str
    depth: np.ndarray
    metric: bool
    K: np.ndarray
    picture: np.ndarray
    rate: Fraction | None = None


def needs_intrinsics(path: Path) -> PackdepthError:
    """The error for a frame of ``path`` without intrinsics."""
    return PackdepthError(f"{path}: no camera intrinsics: the ground plane needs them "
                          "(--intrinsics or --fx/--fy/--cx/--cy)")


def predicted_frames(
    model: Model, inputs: Sequence[str | os.PathLike | Input], *,
    intrinsics: Intrinsics | str | os.PathLike | None, stride: int = 1,
    max_frames: int | None = None, batch: int = 4, exclude: str | os.PathLike | None = None,
) -> Iterator[tuple[Frame, DepthResult]]:
    """Every frame of ``inputs`` (images, folders, videos, :class:`Input`) with ``model``'s depth,
    in order; ``K`` from each input's own or ``intrinsics`` (frames without any are refused);
    every ``stride``-th frame of videos and image of folders, as ``infer`` takes them.

    Raises:
        PackdepthError: unreadable inputs, or frames without intrinsics.
    """
    if isinstance(intrinsics, (str, os.PathLike)):
        intrinsics = load_intrinsics(intrinsics)

    def flush(frames: list[Frame]) -> Iterator[tuple[Frame, DepthResult]]:
        Ks = [frame_intrinsics(f, intrinsics) for f in frames]
        if any(K is None for K in Ks):
            raise needs_intrinsics(frames[Ks.index(None)].input.path)
        yield from zip(frames, predict_batch(model, [as_image(f.image) for f in frames], K=Ks))

    pending: list[Frame] = []
    for item in expand_inputs(inputs, exclude=exclude, stride=stride):
        for frame in iter_frames(item, stride=stride, max_frames=max_frames):
            pending.append(frame)
            if len(pending) == batch:
                yield from flush(pending)
                pending = []
    if pending:
        yield from flush(pending)


def model_frames(model: Model, inputs: Sequence[str | os.PathLike], **kwargs
                 ) -> Iterator[DepthFrame]:
    """:func:`predicted_frames` as :class:`DepthFrame` (same arguments)."""
    for f, r in predicted_frames(model, inputs, **kwargs):
        yield DepthFrame(f.input.path, f.input.kind, f.input.name, f.name, r.depth, r.metric,
                         r.K, np.asarray(f.image), f.rate)


def npz_paths(inputs: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """``(file, output name)`` of every ``.npz`` given or inside a folder given (recursively,
    named by the path below it, as ``packdepth infer`` names its outputs).

    Raises:
        PackdepthError: a missing path, a file that is not ``.npz``, a folder without any.
    """
    found: list[tuple[Path, str]] = []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.npz") if not p.name.startswith("."))
            if not files:
                raise PackdepthError(f"{path}: no .npz files in this folder")
            found += [(p, p.relative_to(path).with_suffix("").as_posix()) for p in files]
        elif path.suffix.lower() == ".npz" and path.is_file():
            found.append((path, path.stem))
        elif path.exists():
            raise PackdepthError(f"{path}: not an .npz depth file (images and videos need a "
                                 "MODEL: --model)")
        else:
            raise PackdepthError(f"{path}: no such .npz file or folder")
    return found


def read_depth_npz(path: Path) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(depth [H,W], K [3,3], metric)`` of a ``packdepth infer`` ``.npz``.

    Raises:
        PackdepthError: unreadable, no ``depth``, no ``K`` or of the wrong shapes.
    """
    arrays = read_npz(path)
    if "depth" not in arrays or arrays["depth"].ndim != 2:
        raise PackdepthError(f"{path}: no [H,W] 'depth' array (found {sorted(arrays)})")
    if "K" not in arrays or arrays["K"].shape != (3, 3):
        raise PackdepthError(f"{path}: no [3,3] 'K' (camera intrinsics) in this .npz: write it "
                             "with packdepth infer --intrinsics FILE (or --fx/--fy/--cx/--cy), or "
                             "give the images with --model MODEL --intrinsics FILE")
    return (arrays["depth"].astype(np.float64), arrays["K"].astype(np.float64),
            bool(arrays.get("metric", False)))


def npz_frames(inputs: Sequence[str | os.PathLike]) -> Iterator[DepthFrame]:
    """The frames of ``packdepth infer``'s ``.npz`` outputs (pictured by their depth colours)."""
    for path, name in npz_paths(inputs):
        depth, K, metric = read_depth_npz(path)
        inv = np.where(depth > 0, 1.0 / np.where(depth > 0, depth, 1.0), 0.0)
        colours = depth_colours(DepthResult(depth, inv, K, metric), ColourRange())
        yield DepthFrame(path, "npz", name, name, depth, metric, K, colours)
