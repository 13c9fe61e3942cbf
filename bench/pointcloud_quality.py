"""Point-cloud quality on real data: indoor (7-Scenes, Kinect) and driving (KITTI, Velodyne).

    .venv/bin/python bench/pointcloud_quality.py --model demo_out/model --minutes 4

Metric: clouds are down-sampled to --voxel (1 cm indoor, 5 cm driving), then the median distance
from each predicted point to the nearest reference point ("accuracy") and from each reference point
to the nearest predicted point ("completeness"), metres (scipy cKDTree). Predicted depth is
median-scaled per frame to the sensor depth (monocular depth has no scale); constant depth at the
sensor's median is the baseline.

* Indoor, ``../shared/data/indoor_7scenes`` (frames 150-199, every 5th: 10 frames, 640x480,
  nominal K fx = fy = 585, cx = 320, cy = 240; Kinect depth and colour are not registered, a few
  pixels apart): per-frame clouds, depth predicted at 192x256 (the image's 4:3). Then ``packdepth
  fit --stride 5`` on the 50 frames (``--init MODEL`` and from scratch), fused clouds of its depth
  with (a) its own trajectory (one global median scale, placed at the first given pose) and (b)
  the given poses (per-frame scale), against the Kinect fused with the given poses; the fitted
  trajectory against the given poses with ``packdepth eval-pose`` (ATE, 5-frame snippets).
* Driving, ``../shared/data/kitti_tiny``: the 10 frames with a Velodyne scan, depth predicted at
  the model's size; the scan's points in front of the camera that project into the image, in the
  camera frame (``project_velodyne`` + back-projection); predicted pixels in the rows the scan
  covers, up to 80 m.

Writes bench/results/pointcloud_quality.json, docs/pointcloud_indoor.png, docs/pointcloud_kitti.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from record import save_result
from scipy.spatial import cKDTree

from packdepth.apps.pointcloud import PointCloud, depth_to_cloud, voxel_downsample
from packdepth.apps.pointcloud_views import render_views
from packdepth.cli import main as cli
from packdepth.data.kitti.calibration import load_calibration
from packdepth.data.kitti.velodyne import project_velodyne, read_velodyne, sparse_depth_map
from packdepth.evaluation.depth import predict_depth, read_prediction
from packdepth.io.checkpoints import load_model, model_file, read_model_info
from packdepth.io.trajectory import read_kitti_poses, write_kitti_poses

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
INDOOR = DATA / "indoor_7scenes" / "rgbd-frames"
INDOOR_K = np.array([[585.0, 0.0, 320.0], [0.0, 585.0, 240.0], [0.0, 0.0, 1.0]])
KITTI_DRIVE = DATA / "kitti_tiny" / "2011_09_26" / "2011_09_26_drive_9999_sync"
#: Flying-pixel threshold of the "edges removed" rows: predictions are upsampled 2.5-4x from the
#: network's resolution, spreading a depth edge over as many pixels (per-pixel jumps of a few %).
EDGE = 0.03


def nn_medians(pred: PointCloud, ref: PointCloud) -> dict[str, float]:
    """Median nearest-neighbour distances both ways (metres)."""
    return {"accuracy_m": float(np.median(cKDTree(ref.points).query(pred.points)[0])),
            "completeness_m": float(np.median(cKDTree(pred.points).query(ref.points)[0]))}


def median_scale(pred: np.ndarray, gt: np.ndarray) -> float:
    valid = gt > 0
    return float(np.median(gt[valid]) / np.median(pred[valid]))


def rgb_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div(255.0)[None]


def indoor_frames(stride: int = 5) -> list[dict]:
    frames = []
    for path in sorted(INDOOR.glob("frame-*.color.png"))[::stride]:
        stem = path.name.removesuffix(".color.png")
        depth = np.array(Image.open(INDOOR / f"{stem}.depth.png"), dtype=np.float64) / 1000.0
        frames.append({"name": stem, "rgb": np.array(Image.open(path).convert("RGB")),
                       "depth": depth, "pose": np.loadtxt(INDOOR / f"{stem}.pose.txt")})
    return frames


def frame_scores(pred: np.ndarray, gt: np.ndarray, K, rgb, voxel: float,
                 ref: PointCloud | None = None, keep: np.ndarray | None = None) -> dict:
    """NN figures of the median-scaled prediction and of constant depth against ``ref`` (default:
    the sensor depth ``gt`` as a cloud), predicted pixels limited to ``keep``."""
    scale = median_scale(pred, gt)
    keep = np.ones(gt.shape, bool) if keep is None else keep
    ref = voxel_downsample(ref if ref is not None else depth_to_cloud(gt, K), voxel)
    row = {"scale": scale}
    for name, depth, edge in (("pred", pred * scale, 0.0), ("pred_edges_removed", pred * scale,
                              EDGE), ("constant", np.full(gt.shape, np.median(gt[gt > 0])), 0.0)):
        cloud = depth_to_cloud(np.where(keep, depth, 0.0), K, rgb, edge_threshold=edge,
                               max_depth=80.0)
        row[name] = {**nn_medians(voxel_downsample(cloud, voxel), ref), "points": len(cloud)}
    return row


def mean_rows(rows: list[dict]) -> dict:
    out = {}
    for key in ("pred", "pred_edges_removed", "constant"):
        out[key] = {m: float(np.mean([r[key][m] for r in rows])) for m in rows[0][key]}
    out["edges_removed_fraction"] = float(np.mean(
        [1 - r["pred_edges_removed"]["points"] / r["pred"]["points"] for r in rows]))
    return out


def run_fit(folder: Path, out: Path, cam: Path, minutes: float, init: str | None) -> dict:
    args = [sys.executable, "-m", "packdepth", "fit", str(folder), "--out", str(out),
            "--intrinsics", str(cam), "--size", "192x256", "--stride", "5",
            "--minutes", str(minutes), "--set", "trainer.progress_bar=false", "--overwrite"]
    args += ["--init", init] if init else []
    start = time.time()
    done = subprocess.run(args, capture_output=True, text=True, env={**os.environ,
                          "PYTHONPATH": str(REPO)}, check=True)
    steps = int(done.stdout.split("fitted ")[1].split()[0])
    return {"steps": steps, "wall_min": (time.time() - start) / 60, "minutes": minutes}


def fused(fit_dir: Path, frames: dict[str, dict], voxel: float) -> tuple[dict, list]:
    names = json.loads((fit_dir / "poses.json").read_text())["frames"]
    fitted = read_kitti_poses(fit_dir / "poses_kitti.txt")
    given = np.stack([frames[n]["pose"] for n in names])
    depths = [read_prediction(fit_dir / "depth" / f"{n}.npz") for n in names]
    scales = [median_scale(d, frames[n]["depth"]) for d, n in zip(depths, names)]
    g = float(np.median(scales))
    place = given[0] @ np.diag([g, g, g, 1.0])  # fitted frame 0 = given frame 0, metres

    def cloud(poses, depth_scales, source):
        return voxel_downsample(PointCloud.concatenate([
            depth_to_cloud(d * s, INDOOR_K, frames[n]["rgb"], cam_to_world=P)
            for d, s, n, P in zip(source, depth_scales, names, poses)]), voxel)

    kinect = cloud(given, [1.0] * len(names), [frames[n]["depth"] for n in names])
    own = cloud([place @ P @ np.diag([1 / g, 1 / g, 1 / g, 1.0]) for P in fitted], [g] * len(
        names), depths)
    with_given = cloud(given, scales, depths)
    gt_file = fit_dir / "given_poses_kitti.txt"
    write_kitti_poses(gt_file, given)
    ate = {}
    for what, pred in (("fitted", fit_dir / "poses_kitti.txt"), ("identity", None)):
        if pred is None:
            pred = fit_dir / "identity_kitti.txt"
            write_kitti_poses(pred, np.tile(np.eye(4), (len(names), 1, 1)))
        cli(["eval-pose", "--pred", str(pred), "--gt", str(gt_file), "--pred-format",
             "absolute", "--json", str(fit_dir / f"ate_{what}.json")])
        ate[what] = json.loads((fit_dir / f"ate_{what}.json").read_text())
        del ate[what]["errors"], ate[what]["scales"]
    to_first = np.linalg.inv(given[0])
    panels = [(title, c.transformed(to_first)) for title, c in (
        ("Kinect + given poses", kinect), ("fit: own depth + own trajectory", own),
        ("fit: own depth + given poses", with_given))]
    return {"frames": names, "global_scale": g, "fused_own_trajectory": nn_medians(own, kinect),
            "fused_given_poses": nn_medians(with_given, kinect), "ate": ate,
            "path_length_m": float(np.linalg.norm(np.diff(given[:, :3, 3], axis=0), axis=1).sum())
            }, panels


def kitti(model, size, voxel: float) -> tuple[dict, list]:
    calib = load_calibration(KITTI_DRIVE.parent, 2)
    rows, panels = [], []
    for scan in sorted((KITTI_DRIVE / "velodyne_points" / "data").glob("*.bin")):
        rgb = np.array(Image.open(KITTI_DRIVE / "image_02" / "data" / f"{scan.stem}.png"))
        h, w = rgb.shape[:2]
        uvz = project_velodyne(read_velodyne(scan), calib)
        inside = (uvz[:, 0] > -0.5) & (uvz[:, 0] < w - 0.5) & (uvz[:, 1] > -0.5) & (
            uvz[:, 1] < h - 0.5)
        uvz = uvz[inside]
        lidar_pts = np.stack([uvz[:, 0] * uvz[:, 2], uvz[:, 1] * uvz[:, 2], uvz[:, 2]], 1)
        lidar_pts = lidar_pts @ np.linalg.inv(calib.K).T  # camera-2 frame
        colours = rgb[np.round(uvz[:, 1]).astype(int), np.round(uvz[:, 0]).astype(int)]
        lidar = PointCloud(lidar_pts, colours)
        pred = predict_depth(model, rgb_tensor(rgb), size=size)[0, 0].numpy().astype(np.float64)
        keep = np.zeros((h, w), bool)
        keep[int(np.floor(uvz[:, 1].min())):] = True  # rows the scan reaches
        row = frame_scores(pred, sparse_depth_map(uvz, h, w), calib.K, rgb, voxel, ref=lidar,
                           keep=keep)
        rows.append({"frame": scan.stem, **row})
        if not panels:
            cloud = depth_to_cloud(np.where(keep, pred * row["scale"], 0.0), calib.K, rgb,
                                   max_depth=80.0, edge_threshold=EDGE)
            panels = [("Velodyne (camera frame)", lidar),
                      ("predicted, median-scaled", voxel_downsample(cloud, voxel))]
    return {"frames": rows, "mean": mean_rows(rows)}, panels


def report(results: dict) -> dict:
    """The benchmark page's section (``record.save_result`` arguments) of a results dict."""
    def row(data: str, what: str, m: dict) -> list:
        return [data, what, m["accuracy_m"], m["completeness_m"]]

    z, k = results["indoor_zero_shot"]["mean"], results["kitti"]["mean"]
    rows = [row("7-Scenes kitchen, per frame", "model, zero-shot", z["pred"]),
            row("7-Scenes kitchen, per frame", "constant depth", z["constant"])]
    for which in ("init", "scratch"):
        fit = results.get(f"indoor_fit_{which}")
        if fit:
            label = f"fit --stride 5 ({'--init MODEL' if which == 'init' else 'from scratch'}, " \
                    f"{fit['steps']} steps)"
            rows += [row("7-Scenes kitchen, per frame", label, fit["per_frame"]["pred"]),
                     row("7-Scenes kitchen, fused", label + ", own trajectory",
                         fit["fused_own_trajectory"]),
                     row("7-Scenes kitchen, fused", label + ", given poses",
                         fit["fused_given_poses"])]
    rows += [row("kitti_tiny, Velodyne", "model, zero-shot", k["pred"]),
             row("kitti_tiny, Velodyne", "constant depth", k["constant"])]
    notes = [f"fitted trajectory ({w}): ATE {f['ate']['fitted']['ate_mean']:.4f} m vs "
             f"{f['ate']['identity']['ate_mean']:.4f} m for a standing camera (5-frame "
             "snippets, packdepth eval-pose)"
             for w, f in ((w, results.get(f"indoor_fit_{w}")) for w in ("init", "scratch")) if f]
    return {
        "title": "Point clouds against depth sensors (7-Scenes Kinect, KITTI Velodyne)",
        "protocol": "median distance (m, scipy cKDTree) from predicted to sensor points "
                    "(accuracy) and back (completeness); predictions median-scaled per frame "
                    "(fused: one scale); voxel 1 cm indoor, 5 cm driving; 10 frames each; "
                    f"model {results['model_info']}",
        "columns": ["data", "prediction", "accuracy (m)", "completeness (m)"],
        "rows": rows, "notes": notes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "demo_out" / "model"))
    ap.add_argument("--minutes", type=float, default=4.0, help="per fit")
    ap.add_argument("--fits", nargs="*", default=["init", "scratch"], choices=["init", "scratch"])
    ap.add_argument("--work", type=Path, default=Path("/tmp/packdepth_pointcloud_bench"))
    args = ap.parse_args()
    path = model_file(args.model, "depth")
    model = load_model(path, kind="depth")
    info = read_model_info(path)[1]
    results: dict = {"model": str(args.model), "model_info": info}

    frames = indoor_frames()
    rows = [{"frame": f["name"], **frame_scores(
        predict_depth(model, rgb_tensor(f["rgb"]), size=(192, 256))[0, 0].numpy(), f["depth"],
        INDOOR_K, f["rgb"], 0.01)} for f in frames]
    results["indoor_zero_shot"] = {"size": [192, 256], "frames": rows, "mean": mean_rows(rows)}
    print("indoor, zero-shot per frame (mean of 10):", json.dumps(results["indoor_zero_shot"][
        "mean"]))

    args.work.mkdir(parents=True, exist_ok=True)
    by_name = {f["name"]: f for f in indoor_frames(stride=1)}
    folder = args.work / "indoor_rgb"
    folder.mkdir(exist_ok=True)
    for f in by_name:  # frame-NNNNNN.png: `fit` names its outputs by the stem's first part
        if not (folder / f"{f}.png").exists():
            (folder / f"{f}.png").symlink_to(INDOOR / f"{f}.color.png")
    cam = args.work / "cam.yaml"
    cam.write_text("fx: 585\nfy: 585\ncx: 320\ncy: 240\nwidth: 640\nheight: 480\n")
    for which in args.fits:
        out = args.work / f"fit_{which}"
        run = run_fit(folder, out, cam, args.minutes, args.model if which == "init" else None)
        figures, panels = fused(out, by_name, 0.01)
        fit_rows = [{"frame": n, **frame_scores(read_prediction(out / "depth" / f"{n}.npz"),
                     by_name[n]["depth"], INDOOR_K, by_name[n]["rgb"], 0.01)}
                    for n in figures["frames"]]
        results[f"indoor_fit_{which}"] = {**run, **figures, "per_frame": mean_rows(fit_rows)}
        print(f"indoor fit ({which}):", json.dumps({k: v for k, v in results[
            f"indoor_fit_{which}"].items() if k != "frames"}))
        if which == args.fits[0]:
            render_views(REPO / "docs" / "pointcloud_indoor.png", panels, width_in=3.6,
                         attribution="Microsoft 7-Scenes (kitchen), non-commercial research use")

    size = (info["height"], info["width"])
    results["kitti"], panels = kitti(model, size, 0.05)
    print("KITTI (mean of 10 Velodyne frames):", json.dumps(results["kitti"]["mean"]))
    render_views(REPO / "docs" / "pointcloud_kitti.png", panels, width_in=4.5,
                 attribution="KITTI, CC BY-NC-SA 3.0")
    out = REPO / "bench" / "results" / "pointcloud_quality.json"
    save_result(out, **report(results), data=results)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
