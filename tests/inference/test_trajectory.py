"""Trajectories from pose networks: a stand-in network that returns a synthetic drive's exact
``T_target→context`` must chain back to the drive's ``poses.txt``; the written KITTI files are
accepted by ``eval-pose`` (ATE 0 after scale alignment); the sidecar says what the scale is."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from packdepth.cli import main
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.geometry import relative_pose
from packdepth.inference.trajectory import (
    estimate_trajectory,
    relative_motion,
    write_trajectory,
)
from packdepth.io.trajectory import read_kitti_poses, read_tum, relative_from_absolute
from packdepth.networks import PoseNet, PoseResNet

FRAMES = 20


@pytest.fixture(scope="module")
def drive(tmp_path_factory) -> Path:
    """A rendered synthetic drive (tiny images; only its exact ``poses.txt`` matters here)."""
    root = tmp_path_factory.mktemp("synth")
    write_dataset(root, SynthParams(height=16, width=48, frames=FRAMES, seed=2))
    return next(root.glob("*/*_sync"))


def index_frames(n: int, height: int = 30, width: int = 90) -> list[Tensor]:
    """Constant images whose grey level encodes the frame index (survives any resizing)."""
    return [torch.full((3, height, width), (i + 1) / (n + 1)) for i in range(n)]


class ExactPoses(nn.Module):
    """Returns the exact ``T_target→context`` of the frames identified by their grey level.

    ``num_contexts`` set: behaves as ``PoseNet`` (one output slot per trained offset); ``None``:
    as ``PoseResNet`` (any offsets, e.g. the ordered pair alone).
    """

    def __init__(self, cam_to_world: np.ndarray, num_contexts: int | None = 2) -> None:
        super().__init__()
        self.P = torch.from_numpy(cam_to_world)
        if num_contexts is not None:
            self.num_contexts = num_contexts
        self.calls: list[tuple[int, tuple[int, ...]]] = []

    def _index(self, image: Tensor) -> int:
        return round(float(image.mean()) * (len(self.P) + 1)) - 1

    def forward(self, target: Tensor, context: Tensor, offsets=None) -> Tensor:
        out = []
        for b in range(len(target)):
            t = self._index(target[b])
            sources = [self._index(c) for c in context[b]]
            self.calls.append((t, tuple(sources)))
            out.append(torch.stack([relative_pose(self.P[t], self.P[s]) for s in sources]))
        return torch.stack(out).float()


def test_exact_relative_poses_chain_back_to_poses_txt(drive: Path) -> None:
    P = read_kitti_poses(drive / "poses.txt")
    assert len(P) == FRAMES and np.abs(P[-1, :3, 3]).max() > 15  # ~20 m along a curving road
    net = ExactPoses(P)
    estimated = estimate_trajectory(net, index_frames(FRAMES), size=(24, 80), batch_size=5)
    assert estimated.shape == (FRAMES, 4, 4)
    truth = np.linalg.inv(P[0]) @ P  # poses.txt in its first camera's frame
    np.testing.assert_allclose(estimated, truth, atol=2e-5)  # float32 network output
    # targets 1..N-2 with contexts (t-1, t+1): the first pair came from the inverted -1 slot
    assert [c[0] for c in net.calls] == list(range(1, FRAMES - 1))
    assert net.calls[0][1] == (0, 2)
    # the chaining can fail: the inverse on the other side drifts by decimetres on this drive
    wrong = [np.eye(4)]
    for step in relative_from_absolute(P):
        wrong.append(np.linalg.inv(step) @ wrong[-1])
    assert np.abs(np.array(wrong)[:, :3, 3] - truth[:, :3, 3]).max() > 0.1


def test_a_pairwise_network_is_run_on_each_ordered_pair(drive: Path) -> None:
    P = read_kitti_poses(drive / "poses.txt")[:6]
    net = ExactPoses(P, num_contexts=None)
    relative = relative_motion(net, index_frames(6), size=(24, 80))
    np.testing.assert_allclose(relative, relative_from_absolute(P), atol=2e-5)
    assert net.calls == [(t, (t + 1,)) for t in range(5)]


def test_real_pose_networks_give_rigid_poses_from_identity() -> None:
    frames = [torch.rand(3, 40, 120) for _ in range(4)]
    for net in (PoseNet().eval(), PoseResNet(18).eval()):
        P = estimate_trajectory(net, frames, size=(64, 192))
        assert P.shape == (4, 4, 4) and np.isfinite(P).all()
        np.testing.assert_allclose(P[0], np.eye(4))
        R = P[:, :3, :3]
        np.testing.assert_allclose(R @ R.transpose(0, 2, 1), np.tile(np.eye(3), (4, 1, 1)),
                                   atol=1e-5)


def test_too_few_frames_and_unusable_offsets() -> None:
    P = np.tile(np.eye(4), (2, 1, 1))
    with pytest.raises(ValueError, match="2 frames are too few"):
        relative_motion(ExactPoses(P), index_frames(2), size=(24, 80))
    with pytest.raises(ValueError, match=r"no \+1 or -1 slot"):
        relative_motion(ExactPoses(P), index_frames(2), size=(24, 80), offsets=(-2, 2))


@pytest.mark.parametrize("pred_format", ["absolute", "relative"])
def test_written_files_are_accepted_by_eval_pose_with_zero_ate(drive, tmp_path, capsys,
                                                               pred_format) -> None:
    P = read_kitti_poses(drive / "poses.txt")
    scale_free = P.copy()
    scale_free[:, :3, 3] *= 0.37  # a monocular trajectory: right shape, unknown scale
    names = [f"{i:010d}" for i in range(FRAMES)]
    files = write_trajectory(tmp_path / "traj", scale_free, metric=False, frame_names=names)
    pred = files.kitti if pred_format == "absolute" else files.relative
    args = ["eval-pose", "--pred", str(pred), "--gt", str(drive / "poses.txt"),
            "--pred-format", pred_format, "--json", str(tmp_path / "ate.json")]
    assert main(args) == 0
    result = json.loads((tmp_path / "ate.json").read_text())
    assert result["ate_mean"] == pytest.approx(0.0, abs=1e-6)
    assert result["num_snippets"] == FRAMES - 4
    assert result["scale_median"] == pytest.approx(1 / 0.37, rel=1e-6)
    sidecar = json.loads(files.sidecar.read_text())
    assert sidecar["metric"] is False and "scale-free" in sidecar["units"]
    assert sidecar["frames"] == names and files.tum is None
    assert len(files.kitti.read_text().splitlines()) == FRAMES
    assert all(line.split()[0] != "#" for line in files.kitti.read_text().splitlines())


def test_tum_on_request_with_timestamps_or_frame_indices(drive, tmp_path) -> None:
    P = read_kitti_poses(drive / "poses.txt")[:5]
    files = write_trajectory(tmp_path, P, metric=True, frame_names=list("abcde"),
                             timestamps=[0.0, 0.1, 0.2, 0.3, 0.4], tum=True)
    stamps, back = read_tum(files.tum)
    np.testing.assert_allclose(stamps, [0.0, 0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(back, P, atol=1e-8)
    assert json.loads(files.sidecar.read_text())["units"] == "metres"
    files = write_trajectory(tmp_path, P, metric=True, frame_names=list("abcde"),
                             timestamps=[None, 0.1, 0.2, 0.3, 0.4], tum=True)
    np.testing.assert_allclose(read_tum(files.tum)[0], np.arange(5.0))
    assert "frame index" in json.loads(files.sidecar.read_text())["poses_tum.txt"]
    with pytest.raises(ValueError, match="4 frame names for 5 poses"):
        write_trajectory(tmp_path / "x", P, metric=False, frame_names=list("abcd"))
