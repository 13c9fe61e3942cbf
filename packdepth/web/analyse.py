"""What the page shows for an image or a video, as files in a job's folder.

Image (:func:`analyse_image`), with the files named as ``packdepth infer``, ``pointcloud`` and
``navmap`` would write them:

==============  ===============================================================================
file            contents
==============  ===============================================================================
depth.npz       ``packdepth infer``'s npz (:func:`~packdepth.inference.outputs.write_npz`)
depth16.png     16-bit PNG, metres (or relative units) x 256
depth.png       magma colours of inverse depth (near = bright)
cloud.ply       every pixel back-projected with ``K`` (binary PLY with colours)
cloud.bin       the viewer's points: ``N x 3`` float32 x, y, z (camera frame: x right, y down,
                z ahead) then ``N x 3`` uint8 RGB; flying pixels dropped, at most
                :data:`VIEW_POINTS` points (every k-th pixel)
hover.f32       depth for the read-out: ``[h,w]`` float32, every ``stride``-th pixel
navmap.png      bird's-eye obstacle map with the A* route (metric depth only)
path.json       ``packdepth navmap``'s record of the route, in metres
==============  ===============================================================================

Depth is metric when the model is, or when a camera height is given and a ground plane is found
(:func:`packdepth.apps.ground.ground_scale`); else relative (units up to one unknown factor).
Intrinsics: given (the bundled examples), from a focal length in pixels, or guessed
(:func:`packdepth.data.intrinsics.default_intrinsics`) and said so.

Video (:func:`depth_video`): ``packdepth infer``'s side-by-side depth video (image | colours,
same frame rate), with the job's progress updated per frame.
"""

from __future__ import annotations

import json
import math
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from packdepth.web.jobs import Job

VIEW_POINTS = 150_000
HOVER_SIDE = 1024
GROUND_WINDOW = 5
FLYING_PIXELS = 0.1  # relative depth jump (packdepth.apps.pointcloud.flying_pixels)


def intrinsics(width: int, height: int, fx: float | None) -> tuple[np.ndarray, str]:
    """``K`` for an uploaded image: focal ``fx`` pixels (square pixels, centred principal point)
    or the documented guess; and where it came from."""
    from packdepth.data.intrinsics import Intrinsics, default_intrinsics

    if fx is not None:
        c = ((width - 1) / 2.0, (height - 1) / 2.0)
        return Intrinsics(fx, fx, *c).matrix(width, height), f"focal length {fx:g} px"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        K = default_intrinsics(width, height).matrix(width, height)
    return K, f"guessed (focal {K[0, 0]:.0f} px): give the focal length for true geometry"


def _metric(result, K: np.ndarray, camera_height: float | None) -> tuple[Any, str | None]:
    """``result`` scaled by the ground plane when ``camera_height`` is given; a note if not."""
    if camera_height is None:
        return result, None
    from packdepth.apps.ground import ground_scale
    from packdepth.apps.metric_scale import rescaled

    fit = ground_scale(result.depth, K, camera_height)
    if not fit.found:
        kept = "metric" if result.metric else "relative"
        return result, f"no ground plane ({fit.reason}): depth left {kept}"
    return rescaled(result, float(fit.scale)), None


def _cloud_files(folder: Path, depth: np.ndarray, K: np.ndarray, rgb: np.ndarray) -> dict:
    from packdepth.apps.pointcloud import depth_to_cloud, write_ply

    write_ply(folder / "cloud.ply", depth_to_cloud(depth, K, rgb))
    step = max(1, math.ceil(math.sqrt(depth.size / VIEW_POINTS)))
    kept = np.zeros_like(depth)
    kept[::step, ::step] = depth[::step, ::step]  # the grid, filtered at full resolution
    from packdepth.apps.pointcloud import flying_pixels

    kept[flying_pixels(depth, FLYING_PIXELS)] = 0.0
    view = depth_to_cloud(kept, K, rgb)
    (folder / "cloud.bin").write_bytes(view.points.astype("<f4").tobytes()
                                       + view.colors.astype(np.uint8).tobytes())
    return {"url": "cloud.bin", "points": len(view), "step": step}


def _navmap_files(folder: Path, depth: np.ndarray, K: np.ndarray, rgb: np.ndarray,
                  metric: bool) -> dict:
    if not metric:
        return {"message": "relative depth: give the camera height (metres above the ground) "
                           "for an obstacle map in metres"}
    from packdepth.apps.depth_frames import DepthFrame
    from packdepth.apps.navmap_run import NavRunOptions, map_frame
    from packdepth.io.viz import save_png

    opts = NavRunOptions()
    frame = map_frame(DepthFrame(Path("image"), "image", "image", "image", depth, True, K, rgb),
                      opts)
    save_png(folder / "navmap.png", frame.picture(opts))
    record = frame.record(opts)
    (folder / "path.json").write_text(json.dumps(record, indent=1) + "\n")
    route = frame.route
    message = frame.problem or (f"route of {route.length:.1f} m to ({route.goal[0]:.1f}, "
                                f"{route.goal[1]:.1f}) m (x right, z ahead)")
    return {"url": "navmap.png", "path": "path.json", "message": message,
            "route": route is not None}


def analyse_image(model, rgb: np.ndarray, folder: Path, *, K: np.ndarray | None = None,
                  fx: float | None = None, camera_height: float | None = None) -> dict:
    """Write the image's files (module docstring) into ``folder``; returns the page's JSON.

    Args:
        model: a :class:`packdepth.Model`.
        rgb: ``[H,W,3]`` uint8.
        K: ``[3,3]`` intrinsics at ``[H,W]``, or ``None`` (then ``fx`` or the guess).
        camera_height: metres above the ground: scales relative depth (ground plane).
    """
    from packdepth.data.kitti import write_depth_png
    from packdepth.inference.outputs import ColourRange, depth_colours, write_npz
    from packdepth.inference.predict import predict
    from packdepth.io.viz import save_png

    h, w = rgb.shape[:2]
    K, k_source = (K, "given") if K is not None else intrinsics(w, h, fx)
    result = predict(model, rgb, K=K)
    result, note = _metric(result, K, camera_height)
    depth = result.depth
    write_npz(folder / "depth.npz", result)
    write_depth_png(folder / "depth16.png", depth)
    save_png(folder / "depth.png", depth_colours(result, ColourRange()))
    stride = max(1, math.ceil(max(h, w) / HOVER_SIDE))
    hover = np.ascontiguousarray(depth[::stride, ::stride], dtype="<f4")
    (folder / "hover.f32").write_bytes(hover.tobytes())
    valid = depth[np.isfinite(depth) & (depth > 0)]
    return {
        "width": w, "height": h, "metric": bool(result.metric),
        "units": "m" if result.metric else "relative units",
        "scale": result.scale, "intrinsics": k_source, "notes": [n for n in [note] if n],
        "depth_range": [float(valid.min()), float(np.median(valid)), float(valid.max())]
        if valid.size else None,
        "hover": {"url": "hover.f32", "width": hover.shape[1], "height": hover.shape[0],
                  "stride": stride},
        "cloud": _cloud_files(folder, depth, K, rgb),
        "navmap": _navmap_files(folder, depth, K, rgb, bool(result.metric)),
        "downloads": {"npz": "depth.npz", "png16": "depth16.png", "ply": "cloud.ply",
                      "colours": "depth.png"},
        "image": "depth.png",
    }


def depth_video(model, job: Job, video: Path, *, fx: float | None = None,
                camera_height: float | None = None, max_frames: int = 300) -> dict:
    """The side-by-side depth video of ``video`` into ``job.folder/depth.mp4`` (module
    docstring); the job's progress follows the frames. With ``camera_height`` each frame's
    depth is scaled by the median ground scale of the last :data:`GROUND_WINDOW` frames
    (``packdepth infer --camera-height --ground-window``), with ``fx`` or the guessed ``K``.
    Returns the page's JSON."""
    from dataclasses import replace

    from packdepth.apps.metric_scale import GroundRescale
    from packdepth.inference.runner import InferOptions, infer

    opts = InferOptions(save=("video",), progress=False, on_progress=job.progress,
                        max_frames=max_frames)
    if camera_height is not None:
        ground = GroundRescale(camera_height, GROUND_WINDOW)

        def rescale(frame, result):
            h, w = frame.image.shape[:2]
            return ground(frame, replace(result, K=intrinsics(w, h, fx)[0]))

        opts.rescale = rescale
    out = job.folder / "out"
    try:
        summary = infer(model, [video], out, opts)
        next(p for p in summary.files if p.suffix == ".mp4").replace(job.folder / "depth.mp4")
    finally:
        video.unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
    return {"video": "depth.mp4", "frames": summary.frames, "metric": summary.metric,
            "seconds": round(summary.seconds, 1)}
