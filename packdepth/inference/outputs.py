"""The files ``packdepth infer`` writes per frame, each atomically (:mod:`packdepth.io.atomic`).

For a frame whose output stem is ``S`` (``DIR/b`` for an image ``a/b.png``; ``DIR/v/000012`` for
frame 12 of a video ``v.mp4``):

========  =================  ==========================================================
format    file               contents
========  =================  ==========================================================
npz       ``S.npz``          ``depth`` [H,W] float32 (metres when ``metric``),
                             ``inv_depth`` [H,W] float32, ``metric`` (bool),
                             ``K`` [3,3] float64 at [H,W] when intrinsics are known,
                             ``scale`` (float) when a factor made the depth metric,
                             ``K_guessed`` (True) when ``K`` is a guess (``fit``)
png16     ``S.png``          uint16, KITTI's convention: metres x 256, 0 = none; depth
                             beyond 65535/256 ≈ 256 m is clipped to it
viz       ``S_depth.png``    magma colours of inverse depth (near = bright)
panel     ``S_panel.png``    the image | viz side by side (2 white pixels between)
========  =================  ==========================================================

``.npz`` and ``.png`` keep the image's stem, so ``packdepth eval --pred-dir DIR`` reads them.
Colour range (``viz``, ``panel`` and the depth video): inverse depth from 0 to its 95th percentile
(monodepth2's ``vmax``), per frame for relative depth; for metric depth the range of an input's
first frame is kept for all its frames, so that one colour means one distance along a video.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from packdepth.data.kitti.layout import DEPTH_PNG_SCALE, write_depth_png
from packdepth.errors import PackdepthError
from packdepth.evaluation.depth import read_prediction
from packdepth.inference.predict import DepthResult
from packdepth.io.atomic import atomic_path
from packdepth.io.npz import read_npz
from packdepth.io.viz import colorize_depth, panel, save_png

if TYPE_CHECKING:
    from packdepth.inference.sources import Input

#: Per-frame formats and the suffix each adds to the frame's output stem.
FRAME_SUFFIXES = {"npz": ".npz", "png16": ".png", "viz": "_depth.png", "panel": "_panel.png"}
#: Every format ``--save`` accepts: the per-frame ones and ``video`` (videos only).
FORMATS = (*FRAME_SUFFIXES, "video")
#: Largest depth a 16-bit PNG holds (metres).
PNG16_MAX_DEPTH = 65535 / DEPTH_PNG_SCALE
VIZ_PERCENTILE = 95.0


def frame_paths(stem: Path, formats: tuple[str, ...]) -> dict[str, Path]:
    """The file of each per-frame format in ``formats`` for output stem ``stem``."""
    return {f: stem.with_name(stem.name + FRAME_SUFFIXES[f]) for f in formats
            if f in FRAME_SUFFIXES}


def read_result(path: str | Path) -> DepthResult:
    """A saved depth file as a :class:`DepthResult`: the inverse of :func:`write_npz`.

    Args:
        path: an ``.npz`` as written here (``depth`` ``[H,W]`` required; ``K`` and ``metric``
            when present) or a 16-bit depth PNG (metres x 256, 0 = none; labelled metric).

    Returns:
        ``depth`` ``[H,W]`` float32 (0 where the file has none), ``inv_depth`` (0 there), ``K``
        ``[3,3]`` float64 or ``None``, ``metric``.

    Raises:
        PackdepthError: a missing or unreadable file, no ``depth`` [H,W], a bad ``K``.
    """
    path = Path(path)
    depth = read_prediction(path)
    K, metric = None, path.suffix.lower() == ".png"
    if path.suffix.lower() == ".npz":
        fields = read_npz(path, keys=("K", "metric"))
        try:
            if "K" in fields:
                K = fields["K"].astype(np.float64)
            if "metric" in fields:
                metric = bool(fields["metric"])
        except (ValueError, TypeError) as exc:
            raise PackdepthError(f"{path}: unreadable 'K' or 'metric' ({exc})") from None
    if K is not None and (K.shape != (3, 3) or not np.isfinite(K).all()):
        raise PackdepthError(f"{path}: 'K' must be a finite [3,3] array, got shape {K.shape}")
    valid = np.isfinite(depth) & (depth > 0)
    inv = np.where(valid, 1.0 / np.where(valid, depth, 1.0), 0.0).astype(np.float32)
    return DepthResult(depth, inv, K, metric)


def write_npz(path: Path, result: DepthResult) -> None:
    """``depth``, ``inv_depth``, ``metric`` [, ``K``, ``scale``, ``K_guessed``] (see the module
    docstring)."""
    arrays = {"depth": result.depth, "inv_depth": result.inv_depth,
              "metric": np.array(result.metric)}
    if result.K is not None:
        arrays["K"] = result.K
    if result.scale is not None:
        arrays["scale"] = np.array(result.scale)
    if result.K_guessed:
        arrays["K_guessed"] = np.array(True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


class ColourRange:
    """The inverse-depth range of the colours of one input's frames (see the module docstring)."""

    def __init__(self) -> None:
        self.fixed: tuple[float, float] | None = None

    def __call__(self, result: DepthResult) -> tuple[float, float] | None:
        """``None`` (colorize_depth's own per-frame percentile) or the input's kept range."""
        if not result.metric:
            return None
        if self.fixed is None:
            inv = result.inv_depth[np.isfinite(result.inv_depth)]
            hi = float(np.percentile(inv, VIZ_PERCENTILE)) if inv.size else 1.0
            self.fixed = (0.0, hi if hi > 0 else 1.0)
        return self.fixed


def depth_colours(result: DepthResult, colour_range: ColourRange) -> np.ndarray:
    """``[H,W,3]`` uint8 magma colours of ``result``'s inverse depth."""
    return colorize_depth(result.depth, vmax_percentile=VIZ_PERCENTILE,
                          inv_range=colour_range(result))


def side_by_side(rgb: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """``[H, 2W+2, 3]`` uint8: the image | its depth colours."""
    return panel([[rgb, colours]])


def write_frame(
    stem: Path, result: DepthResult, rgb: np.ndarray, formats: tuple[str, ...],
    colours: np.ndarray | None = None,
) -> list[Path]:
    """Write the per-frame ``formats`` of one frame; returns the files written.

    Args:
        stem: output stem (no suffix).
        result: the frame's depth.
        rgb: ``[H,W,3]`` uint8 image (for ``panel``).
        formats: any of :data:`FRAME_SUFFIXES` (others are ignored).
        colours: the frame's depth colours if already made (:func:`depth_colours`).
    """
    paths = frame_paths(stem, formats)
    if ("viz" in paths or "panel" in paths) and colours is None:
        raise ValueError("write_frame: viz/panel need the depth colours")
    for fmt, path in paths.items():
        if fmt == "npz":
            write_npz(path, result)
        elif fmt == "png16":
            write_depth_png(path, result.depth)  # clipped to PNG16_MAX_DEPTH
        elif fmt == "viz":
            save_png(path, colours)
        else:
            save_png(path, side_by_side(rgb, colours))
    return list(paths.values())


def parse_formats(text: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"npz,viz"`` or ``["npz", "viz"]`` → ``("npz", "viz")``; unknown names are an error."""
    if text is None:
        return None
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise PackdepthError(f"--save: unknown format {unknown[0]!r} (choose from "
                             f"{', '.join(FORMATS)})" if unknown else "--save: no format given")
    return tuple(dict.fromkeys(names))


def check_outputs(items: Sequence[Input], save: tuple[str, ...] | None) -> None:
    """Say which inputs a ``save`` list writes nothing for: ``video`` alone applies to videos
    only, so image inputs would get no file.

    Raises:
        PackdepthError: every input is an image (the run would write nothing). With videos
            among them, a warning names the images left without output instead.
    """
    if save is None or any(f in FRAME_SUFFIXES for f in save):
        return
    images = sum(i.kind == "image" for i in items)
    if not images:
        return
    applies = (f"--save {','.join(save)} applies to video inputs; images take "
               f"{', '.join(FRAME_SUFFIXES)}")
    if images == len(items):
        raise PackdepthError(f"nothing to write for image inputs: {applies}")
    warnings.warn(f"nothing is written for {images} image input{'s' * (images > 1)}: {applies}",
                  stacklevel=3)
