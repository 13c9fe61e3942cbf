"""``packdepth navmap`` as a function: depth frames → ground plane → occupancy grid → route →
pictures, videos and JSON, all or nothing.

Per frame (:func:`map_frame`): the ground plane of the depth (:func:`~packdepth.apps.ground.
ground_scale`); relative depth is scaled to put it ``camera_height`` below the camera, metric
depth is kept (or rescaled the same way when a camera height is given); then the grid
(:func:`~packdepth.apps.navmap.build_navmap`) and the route (:func:`~packdepth.apps.route.
plan_route`).

Outputs below ``out`` (:func:`write_maps`), for an input named ``S`` (as ``packdepth infer`` names
them): an image or ``.npz`` → ``S_navmap.png`` and ``S_path.json``; a video → ``S_navmap.mp4``
(the maps of its frames, :class:`~packdepth.inference.video.DepthVideoWriter`) and
``S_paths.json`` (one record per frame). Every file is written in a hidden staging folder and
moved into ``out`` only when the whole run succeeded. An image without a ground plane or a
route stops the run (one line, nothing written) unless ``keep_going``; a video frame without one
is drawn with the reason and recorded (``"route": null``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from packdepth.apps.depth_frames import DepthFrame
from packdepth.apps.ground import GroundFit, GroundOptions, ground_scale
from packdepth.apps.navmap import NavMap, NavOptions, build_navmap
from packdepth.apps.navmap_draw import draw_navmap
from packdepth.apps.route import NoRoute, Route, plan_route
from packdepth.errors import PackdepthError
from packdepth.inference.video import DepthVideoWriter
from packdepth.io.atomic import make_stage, publish, write_text
from packdepth.io.viz import save_png


@dataclass(frozen=True)
class NavRunOptions:
    """How :func:`write_maps` maps each frame.

    Attributes:
        camera_height: metres; needed for relative depth (``None``: metric depth only).
        goal: ``(x, z)`` metres, or ``None`` for the farthest reachable cell ahead.
        nav: grid and obstacle settings; ``ground``: the plane fit's.
        keep_going: an image without a route is drawn and recorded instead of stopping the run.
        credit: small print on every picture (e.g. the data's licence).
    """

    camera_height: float | None = None
    goal: tuple[float, float] | None = None
    nav: NavOptions = field(default_factory=NavOptions)
    ground: GroundOptions | None = None
    keep_going: bool = False
    credit: str | None = None


@dataclass
class FrameMap:
    """One frame's result: the plane ``fit``, the ``scale`` applied to its depth, the map and
    route (``None`` when there is none) and ``problem``, why not."""

    frame: DepthFrame
    fit: GroundFit
    scale: float | None
    nav: NavMap | None
    route: Route | None
    problem: str | None

    def record(self, opts: NavRunOptions) -> dict:
        """The frame's JSON record."""
        spec, nav = opts.nav.grid, opts.nav
        return {
            "frame": self.frame.frame, "source": str(self.frame.source),
            "route": self.route.as_dict() if self.route else None, "problem": self.problem,
            "depth_scale": self.scale, "metric_input": self.frame.metric,
            "ground": self.fit.as_dict(),
            "grid": {"cell_m": spec.cell, "forward_m": spec.forward, "lateral_m": spec.lateral,
                     "shape": list(spec.shape),
                     "counts": self.nav.counts() if self.nav else None},
            "obstacle_band_m": [nav.obstacle_min, nav.obstacle_max],
            "robot_radius_m": nav.robot_radius,
            "axes": "x right, z ahead, on the ground plane; the camera at (0, 0)",
        }

    def picture(self, opts: NavRunOptions) -> np.ndarray:
        """``[h,w,3]`` uint8: :func:`~packdepth.apps.navmap_draw.draw_navmap` of the frame."""
        title = f"{self.frame.frame}: " + (
            f"route {self.route.length:.1f} m to ({self.route.goal[0]:.1f}, "
            f"{self.route.goal[1]:.1f}) m" if self.route else "no route")
        return draw_navmap(self.nav, self.route, self.frame.picture, spec=opts.nav.grid,
                           title=title, note=self.problem, credit=opts.credit)


def map_frame(frame: DepthFrame, opts: NavRunOptions) -> FrameMap:
    """Ground plane, grid and route of one frame (see the module docstring).

    Raises:
        PackdepthError: relative depth without ``camera_height``.
    """
    if not frame.metric and opts.camera_height is None:
        raise PackdepthError(f"{frame.source}: relative depth: give --camera-height (metres "
                             "above the road, KITTI 1.65) to scale it")
    fit = ground_scale(frame.depth, frame.K, opts.camera_height or 1.0, opts.ground)
    if not fit.found:
        return FrameMap(frame, fit, None, None, None, f"no ground plane: {fit.reason}")
    scale = fit.scale if opts.camera_height is not None else 1.0
    nav = build_navmap(frame.depth, frame.K, fit, scale, opts.nav)
    try:
        return FrameMap(frame, fit, scale, nav, plan_route(nav, opts.goal), None)
    except NoRoute as exc:
        return FrameMap(frame, fit, scale, nav, None, f"no route: {exc}")


@dataclass
class NavSummary:
    """What :func:`write_maps` wrote: files, frames, and frames with a route."""

    files: list[Path]
    frames: int
    routes: int
    problems: list[str]


class _Staged:
    """Files written in a hidden folder inside ``out``, moved into ``out`` on :meth:`publish`."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.stage, self.created = make_stage(out, ".navmap-")
        self.files: list[Path] = []

    def path(self, name: str) -> Path:
        """The staged path of output ``name`` (relative to ``out``)."""
        self.files.append(self.stage / name)
        self.files[-1].parent.mkdir(parents=True, exist_ok=True)
        return self.files[-1]

    def publish(self) -> list[Path]:
        """Move every staged file to its name in ``out`` (:func:`packdepth.io.atomic.publish`:
        every target checked first); returns the final paths."""
        return publish(self.stage, self.out, self.files)

    def discard(self) -> None:
        """Remove the staging folder (and ``out`` when this run created it and it is empty)."""
        shutil.rmtree(self.stage, ignore_errors=True)
        if self.created and self.out.is_dir() and not any(self.out.iterdir()):
            self.out.rmdir()


def _write_json(path: Path, data: dict) -> None:
    write_text(path, json.dumps(data, indent=1) + "\n")


def write_maps(frames: Iterable[DepthFrame], out: str | os.PathLike,
               options: NavRunOptions | None = None) -> NavSummary:
    """Map every frame and write the pictures, videos and JSON (see the module docstring).

    Raises:
        PackdepthError: an image without a ground plane or route (unless ``keep_going``),
            relative depth without a camera height, unreadable inputs; nothing is written then.
    """
    opts = options or NavRunOptions()
    stage = _Staged(Path(out))
    videos: dict[str, tuple[DepthVideoWriter, list[dict], Path]] = {}
    summary = NavSummary([], 0, 0, [])
    try:
        for frame in frames:
            result = map_frame(frame, opts)
            summary.frames += 1
            summary.routes += result.route is not None
            if result.problem:
                if frame.kind != "video" and not opts.keep_going:
                    raise PackdepthError(f"{frame.source}: {result.problem}")
                summary.problems.append(f"{frame.frame}: {result.problem}")
            if frame.kind == "video":
                if frame.name not in videos:
                    writer = DepthVideoWriter(stage.path(f"{frame.name}_navmap.mp4"), frame.rate)
                    videos[frame.name] = (writer, [], stage.path(f"{frame.name}_paths.json"))
                writer, records, _ = videos[frame.name]
                writer.write(result.picture(opts))
                records.append(result.record(opts))
            else:
                save_png(stage.path(f"{frame.name}_navmap.png"), result.picture(opts))
                _write_json(stage.path(f"{frame.name}_path.json"), result.record(opts))
        for name, (writer, records, path) in videos.items():
            writer.close()
            _write_json(path, {"video": name, "frames": records})
        summary.files = stage.publish()
    except BaseException:
        for writer, _, _ in videos.values():
            writer.close()
        stage.discard()
        raise
    stage.discard()
    return summary
