"""DDAD / DGP JSON scenes as a :class:`SequenceDataset`, read without TRI's ``dgp`` library.

Layout (the fields used)::

    ROOT/scene_dataset_v1.0.json   scene_splits: {"0": {"filenames": [<scene>/scene_<hash>.json]}}
    ROOT/<scene>/scene_<hash>.json samples: [{calibration_key, datum_keys, id.timestamp}]
                                   data: [{key, id: {name, timestamp},
                                           datum: {image | point_cloud: {filename, pose}}}]
    ROOT/<scene>/calibration/<calibration_key>.json   names, intrinsics {fx, fy, cx, cy, skew}
    ROOT/<scene>/rgb/<CAMERA>/<stamp>.jpg, point_cloud/LIDAR/<stamp>.npz (key "data", N x 4 XYZI)

Split keys follow DGP's ``DatasetSplit``: 0 = train, 1 = val, 2 = test, 3 = train_overfit.
A datum's ``pose`` is the sensor-to-world transform (quaternion ``qw, qx, qy, qz`` + translation);
LiDAR points are in the LiDAR frame, so a point ``X`` lands in a camera as
``K (T_world_cam^-1 T_world_lidar X)`` (DGP's ``get_depth_from_point_cloud``), giving ``depth_gt``
at the image's native size. Each camera of each scene is one sequence, samples ordered by time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from functools import partial
from pathlib import Path

import numpy as np

from packdepth.data.augment import AugmentConfig
from packdepth.data.images import image_size
from packdepth.data.intrinsics import check_intrinsics, intrinsics_at
from packdepth.data.kitti.velodyne import sparse_depth_map
from packdepth.data.sequence import FrameRecord, SequenceDataset, samples_from_sequence
from packdepth.errors import PackdepthError
from packdepth.io.npz import read_npz

SCENE_DATASET = "scene_dataset_v1.0.json"
SPLITS = {"train": "0", "val": "1", "test": "2", "train_overfit": "3"}


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise PackdepthError(f"{path}: file not found")
    try:
        data = json.loads(path.read_text(errors="replace"))
    except json.JSONDecodeError as exc:
        raise PackdepthError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PackdepthError(f"{path}: expected a JSON object")
    return data


def _get(mapping: dict, path: Path, *keys: str):
    """``mapping[k1][k2]...`` or a one-line error naming the file and the missing key."""
    value = mapping
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            raise PackdepthError(f"{path}: missing {'.'.join(keys)}")
        value = value[key]
    return value


def pose_matrix(pose: dict) -> np.ndarray:
    """``[4,4]`` from a DGP pose ``{rotation: {qw, qx, qy, qz}, translation: {x, y, z}}``."""
    q = pose.get("rotation", {})
    w, x, y, z = (float(q.get(k, d)) for k, d in (("qw", 1.0), ("qx", 0), ("qy", 0), ("qz", 0)))
    n = np.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    T = np.eye(4)
    T[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ]
    t = pose.get("translation", {})
    T[:3, 3] = [float(t.get(k, 0.0)) for k in ("x", "y", "z")]
    return T


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch from DGP's ``2464-11-12T01:04:09.936530Z``."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def lidar_depth_map(
    npz_path: Path, T_world_lidar: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray,
    size: tuple[int, int],
) -> np.ndarray:
    """Sparse ``[H,W]`` depth (metres, 0 = none) of a LiDAR sweep seen by a camera.

    Args:
        size: ``(width, height)`` of the camera image.
    """
    points = read_npz(npz_path, keys=("data",), required=("data",))["data"].astype(np.float64)
    if points.ndim != 2 or points.shape[1] < 3:
        raise PackdepthError(f"{npz_path}: expected N x 3+ points, got {points.shape}")
    T = np.linalg.inv(T_world_cam) @ T_world_lidar
    cam = points[:, :3] @ T[:3, :3].T + T[:3, 3]
    cam = cam[cam[:, 2] > 1e-3]
    uvw = cam @ np.asarray(K, np.float64).T
    uvz = np.stack([uvw[:, 0] / uvw[:, 2], uvw[:, 1] / uvw[:, 2], cam[:, 2]], 1)
    return sparse_depth_map(uvz, size[1], size[0])


def _camera_K(calib: dict, path: Path, camera: str) -> np.ndarray:
    names = _get(calib, path, "names")
    if camera not in names:
        raise PackdepthError(f"{path}: no calibration for {camera} (has {', '.join(names)})")
    i = names.index(camera)
    c = _get(calib, path, "intrinsics")[i]
    return np.array(
        [[c["fx"], c.get("skew", 0.0), c["cx"]], [0.0, c["fy"], c["cy"]], [0.0, 0.0, 1.0]],
        np.float64,
    )


def scene_sequence(scene_json: Path, camera: str, lidar: str | None) -> list[FrameRecord]:
    """The frames of one camera of one scene, in time order, with LiDAR depth when ``lidar``."""
    try:
        return _scene_sequence(scene_json, camera, lidar)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise PackdepthError(
            f"{scene_json}: malformed DGP scene ({type(exc).__name__}: {exc})"
        ) from None


def _scene_sequence(scene_json: Path, camera: str, lidar: str | None) -> list[FrameRecord]:
    scene = _read_json(scene_json)
    data = {d["key"]: d for d in _get(scene, scene_json, "data")}
    samples = sorted(
        _get(scene, scene_json, "samples"), key=lambda s: parse_timestamp(s["id"]["timestamp"])
    )
    calibs: dict[str, np.ndarray] = {}  # at the datum's width x height
    Ks: dict[str, np.ndarray] = {}  # at the image file's size
    frames = []
    for sample in samples:
        key = sample["calibration_key"]
        calib_path = scene_json.parent / "calibration" / f"{key}.json"
        if key not in calibs:
            calibs[key] = _camera_K(_read_json(calib_path), calib_path, camera)
        by_name = {data[k]["id"]["name"]: data[k] for k in sample["datum_keys"] if k in data}
        if camera not in by_name:
            raise PackdepthError(f"{scene_json}: a sample has no datum named {camera}")
        image = _get(by_name[camera], scene_json, "datum", "image")
        size = (int(image["width"]), int(image["height"]))
        if key not in Ks:
            check_intrinsics(calibs[key], *size, f"{calib_path} ({camera})")
            file = scene_json.parent / image["filename"]
            Ks[key] = intrinsics_at(calibs[key], size, image_size(file),
                                    f"{calib_path} ({camera}, {size[0]}x{size[1]}) for {file}")
        T_world_cam = pose_matrix(image.get("pose", {}))
        depth = None
        if lidar is not None and lidar in by_name:
            cloud = _get(by_name[lidar], scene_json, "datum", "point_cloud")
            depth = partial(
                lidar_depth_map, scene_json.parent / cloud["filename"],
                pose_matrix(cloud.get("pose", {})), T_world_cam, calibs[key], size,
            )
        frames.append(FrameRecord(
            image=scene_json.parent / image["filename"],
            K=Ks[key],
            name=f"{scene_json.parent.name}/{camera}/{Path(image['filename']).stem}",
            pose=T_world_cam,
            timestamp=parse_timestamp(by_name[camera]["id"]["timestamp"]),
            depth=depth,
        ))
    return frames


def scene_files(root: str | os.PathLike, split: str = "train") -> list[Path]:
    """The scene JSON files of a split (``train``, ``val``, ``test``, ``train_overfit`` or 0-3)."""
    path = Path(root) / SCENE_DATASET
    dataset = _read_json(path)
    key = SPLITS.get(split, split)
    splits = _get(dataset, path, "scene_splits")
    if key not in splits:
        raise PackdepthError(f"{path}: no split {split!r} (has {', '.join(sorted(splits))})")
    files = [Path(root) / f for f in _get(splits, path, key, "filenames")]
    if not files:
        raise PackdepthError(f"{path}: split {split!r} lists no scenes")
    return files


def ddad_dataset(
    root: str | os.PathLike,
    height: int,
    width: int,
    *,
    split: str = "train",
    cameras: tuple[str, ...] = ("CAMERA_01",),
    offsets: tuple[int, ...] = (-1, 1),
    lidar: str | None = "LIDAR",
    augment: AugmentConfig | None = None,
    seed: int = 0,
) -> SequenceDataset:
    """A DGP/DDAD dataset (see the module docstring); ``lidar=None`` skips ``depth_gt``."""
    samples = []
    for scene_json in scene_files(root, split):
        for camera in cameras:
            samples += samples_from_sequence(scene_sequence(scene_json, camera, lidar), offsets)
    return SequenceDataset(
        samples, offsets, height, width, augment=augment, seed=seed, source=str(root)
    )
