"""``packdepth infer`` as a function: :func:`infer` runs a model over images, folders and videos
and writes depth files (:mod:`packdepth.inference.outputs`) and depth videos
(:mod:`packdepth.inference.video`) named after the inputs (:mod:`packdepth.inference.sources`).

All or nothing: every file is first written into a hidden staging folder inside the output
folder, and moved to its final name (``os.replace``: atomic per file) only after the whole run
succeeded. A failed or interrupted run leaves nothing under a final name. One unreadable input
stops the run with a one-line error naming it, unless ``skip_bad``: then it is left out, with a
warning, and the others are written.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packdepth.data.intrinsics import Intrinsics, load_intrinsics
from packdepth.errors import PackdepthError
from packdepth.inference.model import Model
from packdepth.inference.outputs import (
    ColourRange,
    check_outputs,
    depth_colours,
    frame_paths,
    parse_formats,
    side_by_side,
    write_frame,
)
from packdepth.inference.predict import DepthResult, as_image, predict_batch
from packdepth.inference.progress import Progress
from packdepth.inference.sources import (
    Frame,
    Input,
    expand_inputs,
    frame_intrinsics,
    iter_frames,
)
from packdepth.inference.video import DepthVideoWriter
from packdepth.io.atomic import publish, refuse_replacing, staging_folder

#: What ``save=None`` writes: per image, and per video.
IMAGE_DEFAULT, VIDEO_DEFAULT = ("npz", "viz"), ("video",)
VIDEO_SUFFIX = "_depth.mp4"
#: Warned once per run when a relative depth map is written as a 16-bit PNG.
RELATIVE_PNG16 = ("png16 of relative depth: the PNG holds the model's depth x 256 in unknown "
                  "units, scale-free and quantised to 1/256 of a unit; for metres pass --scale S "
                  "or --camera-height H (npz keeps full precision)")


@dataclass
class InferOptions:
    """How :func:`infer` runs.

    Attributes:
        save: formats (:data:`~packdepth.inference.outputs.FORMATS`); ``None``: ``npz,viz`` for
            images and ``video`` for videos. ``video`` applies to videos only; the per-frame
            formats to every frame, of images and videos alike.
        batch: frames per network call.
        post_process: flip post-processing.
        scale: multiplies the depth; the output is then labelled metric.
        intrinsics: ``{fx, fy, cx, cy[, width, height]}`` file or :class:`Intrinsics` (scaled to
            each input's resolution when the file gives its own); ``None``: no ``K`` in the npz.
        recursive: take the subfolders of folders too.
        stride: every ``stride``-th frame of videos, every ``stride``-th image of folders
            (:func:`~packdepth.inference.sources.expand_inputs`).
        pattern: a glob the files of folders must match, e.g. ``*.color.png``.
        max_frames: at most this many frames per video.
        skip_bad: leave unreadable inputs out (with a warning) instead of stopping.
        progress: show progress on stderr; ``on_progress``: also called with ``(frames done,
            frames expected or None)`` after each frame.
        rescale: called with each frame and its prediction before its files are written; returns
            the result to write (``packdepth infer --camera-height``:
            :class:`packdepth.apps.metric_scale.GroundRescale`).
    """

    save: tuple[str, ...] | None = None
    batch: int = 4
    post_process: bool = False
    scale: float | None = None
    intrinsics: Intrinsics | str | os.PathLike | None = None
    recursive: bool = False
    stride: int = 1
    pattern: str | None = None
    max_frames: int | None = None
    skip_bad: bool = False
    progress: bool = True
    on_progress: Callable[[int, int | None], None] | None = None
    rescale: Callable[[Frame, DepthResult], DepthResult] | None = None


@dataclass
class InferSummary:
    """What a run wrote: ``files`` (final paths), frame and input counts, skipped inputs;
    ``metric_frames``: frames written in metres."""

    out: Path
    inputs: int
    frames: int
    files: list[Path]
    metric: bool
    seconds: float
    skipped: list[str] = field(default_factory=list)
    metric_frames: int = 0


@dataclass
class _State:
    """One input's formats, colour range, depth video and files written so far (staged)."""

    formats: tuple[str, ...]
    colours: ColourRange = field(default_factory=ColourRange)
    writer: DepthVideoWriter | None = None
    files: list[Path] = field(default_factory=list)
    frames: int = 0
    metric_frames: int = 0
    bad: str | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _Run:
    def __init__(self, model: Model, items: list[Input], stage: Path, opts: InferOptions) -> None:
        self.model, self.items, self.stage, self.opts = model, items, stage, opts
        self.states = {i.name: _State(opts.save or (IMAGE_DEFAULT if i.kind == "image"
                                                     else VIDEO_DEFAULT)) for i in items}
        intr = opts.intrinsics
        self.intrinsics = load_intrinsics(intr) if isinstance(intr, (str, os.PathLike)) else intr
        self.progress = Progress(len(items), enabled=opts.progress,
                                 listener=opts.on_progress)
        self.warned_png16 = False

    def frames_of_all(self) -> Iterator[Frame]:
        for item in self.items:
            state = self.states[item.name]
            try:
                for i, frame in enumerate(iter_frames(item, stride=self.opts.stride,
                                                      max_frames=self.opts.max_frames)):
                    if i == 0 and item.kind == "video":
                        self._expect(frame)
                    yield frame
            except PackdepthError as exc:
                if not self.opts.skip_bad:
                    raise
                state.bad = str(exc)
                warnings.warn(f"skipped: {exc}", stacklevel=2)

    def _expect(self, frame: Frame) -> None:
        if frame.length is None:
            self.progress.total = None
            return
        n = math.ceil(frame.length / self.opts.stride)
        self.progress.add_total(min(n, self.opts.max_frames or n) - 1)

    def _write(self, frame: Frame, result: DepthResult) -> None:
        """Colour, encode and write one frame's outputs (on the writer thread, in order)."""
        state = self.states[frame.input.name]
        video = "video" in state.formats and frame.input.kind == "video"
        colours = None
        if video or {"viz", "panel"} & set(state.formats):
            colours = depth_colours(result, state.colours)
        state.files += write_frame(self.stage / frame.name, result, frame.image, state.formats,
                                   colours)
        if video:
            if state.writer is None:
                path = self.stage / (frame.input.name + VIDEO_SUFFIX)
                rate = frame.rate / self.opts.stride if frame.rate else None
                state.writer = DepthVideoWriter(path, rate)
                state.files.append(path)
            state.writer.write(side_by_side(frame.image, colours))
        self.progress.update()

    def _submit(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue work for the writer thread; wait while too much is queued (bounded memory)."""
        self.pending.append(self.pool.submit(fn, *args))
        while len(self.pending) > 2 * self.opts.batch + 2:
            self.pending.popleft().result()  # re-raises the writer's errors here

    def flush(self, batch: list[Frame]) -> None:
        """Predict a batch; its files are written by the writer thread meanwhile."""
        try:
            results = predict_batch(self.model, [as_image(f.image) for f in batch],
                                    K=[frame_intrinsics(f, self.intrinsics) for f in batch],
                                    post_process=self.opts.post_process, scale=self.opts.scale)
        except RuntimeError as exc:  # e.g. an input size too small for the network, no memory
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            h, w = self.model.size
            raise PackdepthError(f"{batch[0].input.path}: the network failed at input {h}x{w} "
                                 f"({first})") from exc
        if self.opts.rescale is not None:
            results = [self.opts.rescale(f, r) for f, r in zip(batch, results)]
        if not self.warned_png16 and any(
                not r.metric and "png16" in self.states[f.input.name].formats
                for f, r in zip(batch, results)):
            self.warned_png16 = True
            warnings.warn(RELATIVE_PNG16, stacklevel=2)
        for frame, result in zip(batch, results):
            self.states[frame.input.name].frames += 1
            self.states[frame.input.name].metric_frames += result.metric
            self._submit(self._write, frame, result)
        for name, state in self.states.items():  # inputs before the last one are complete
            if name != batch[-1].input.name and state.writer is not None:
                self._submit(state.close)

    def run(self) -> None:
        """Predict every frame, writing while the network runs (one writer thread)."""
        batch: list[Frame] = []
        finished = False  # an error is the one line shown: no final progress line then
        self.pool, self.pending = ThreadPoolExecutor(1, "packdepth-writer"), deque()
        try:
            for frame in self.frames_of_all():
                batch.append(frame)
                if len(batch) >= self.opts.batch:
                    self.flush(batch)
                    batch = []
            if batch:
                self.flush(batch)
            while self.pending:
                self.pending.popleft().result()
            finished = True
        finally:
            for future in self.pending:
                future.cancel()
            self.pool.shutdown(wait=True)
            for state in self.states.values():
                state.close()
            self.progress.close(finished)


def infer(
    model: Model,
    inputs: Sequence[str | os.PathLike | Input],
    out: str | os.PathLike,
    options: InferOptions | None = None,
) -> InferSummary:
    """Predict depth for every frame of ``inputs`` and write it below ``out``.

    Args:
        model: from :func:`packdepth.load`.
        inputs: image files, folders, videos (any mix), or :class:`Input` objects.
        out: the output folder (created).
        options: see :class:`InferOptions`.

    Returns:
        An :class:`InferSummary`.

    Raises:
        PackdepthError: no inputs, a missing or unreadable input (without ``skip_bad``), nothing
            readable at all, an unwritable ``out``, bad options. Nothing is left under a final
            name then.
    """
    opts = replace(options or InferOptions())
    opts.save = parse_formats(opts.save)
    for name, value in (("--batch", opts.batch), ("--stride", opts.stride),
                        ("--max-frames", 1 if opts.max_frames is None else opts.max_frames)):
        if value < 1:
            raise PackdepthError(f"{name}: must be at least 1, got {value}")
    out, start = Path(out), time.monotonic()
    items = expand_inputs(inputs, recursive=opts.recursive, exclude=out, stride=opts.stride,
                          pattern=opts.pattern)
    check_outputs(items, opts.save)
    refuse_replacing([p for i in items if i.kind == "image"  # early; videos at the end
                      for p in frame_paths(out / i.name, opts.save or IMAGE_DEFAULT).values()],
                     [i.path for i in items])
    with staging_folder(out, ".infer-") as stage:
        run = _Run(model, items, stage, opts)
        run.run()
        skipped = [s.bad for s in run.states.values() if s.bad is not None]
        if len(skipped) == len(items):
            raise PackdepthError(f"no readable input ({skipped[0]})")
        files = publish(stage, out, [p for s in run.states.values() if s.bad is None
                                     for p in s.files], [i.path for i in items])
        frames = sum(s.frames for s in run.states.values() if s.bad is None)
        metric_frames = sum(s.metric_frames for s in run.states.values() if s.bad is None)
    metric = model.metric or opts.scale is not None or 0 < frames == metric_frames
    return InferSummary(out, len(items), frames, files, metric, time.monotonic() - start, skipped,
                        metric_frames)
