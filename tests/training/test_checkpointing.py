"""A run killed at any moment (SIGKILL, also inside a checkpoint write) resumes from its last
complete checkpoint and ends exactly where an uninterrupted run ends; ``--resume`` refuses what
is not a Lightning checkpoint of these networks in one line, without running pickled code."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch

from packdepth.cli import main
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.io.checkpoints import save_model
from packdepth.networks import PoseNet

H, W = 48, 160
STEPS = 10  # 12 samples in batches of 2: epochs of 6 steps; checkpoints every 2 steps

#: ``python -m packdepth`` whose ``torch.save`` call number $STALL_AT_WRITE writes half of the
#: checkpoint, flushes it, touches $STALL_MARKER and hangs: the kill lands inside that write.
SLOW_WRITER = """
import io, os, sys, time
import torch
from packdepth.cli import main

real_save, calls = torch.save, [0]

def save(obj, f, *args, **kwargs):
    calls[0] += 1
    if calls[0] != int(os.environ.get("STALL_AT_WRITE", "0")):
        return real_save(obj, f, *args, **kwargs)
    buffer = io.BytesIO()
    real_save(obj, buffer, *args, **kwargs)
    data = buffer.getvalue()
    with open(f, "wb") as out:
        out.write(data[: len(data) // 2])
        out.flush()
        os.fsync(out.fileno())
    open(os.environ["STALL_MARKER"], "w").close()
    time.sleep(600)

torch.save = save
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("world")
    write_dataset(root, SynthParams(height=H, width=W, frames=8, seed=3), sequences=2)
    return root


def _args(world: Path, out: Path, steps: int = STEPS) -> list[str]:
    sets = [
        "data.kind=synthetic", f"data.root={world}", "data.split=splits/all_files.txt",
        f"data.height={H}", f"data.width={W}", "model.depth={name: ResNetDepth, num_layers: 18}",
        "model.pose={name: PoseNet}", "loss.num_scales=1", "trainer.batch_size=2",
        f"trainer.max_steps={steps}", "trainer.max_epochs=-1", "trainer.checkpoint_every_steps=2",
        "trainer.progress_bar=false", f"trainer.out_dir={out}",
    ]
    config = out.parent / "empty.yaml"
    config.write_text("{}\n")
    return ["train", str(config), *[a for s in sets for a in ("--set", s)]]


def _start(tmp_path: Path, args: list[str], stall_at: int = 0) -> subprocess.Popen:
    script = tmp_path / "slow_writer.py"
    script.write_text(SLOW_WRITER)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "STALL_AT_WRITE": str(stall_at),
           "STALL_MARKER": str(tmp_path / "stalled")}  # one thread, as the tests in here
    return subprocess.Popen([sys.executable, str(script), *args], env=env, cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True, mmap=True)


def _step(path: Path) -> int:
    try:
        return int(_load(path)["global_step"])
    except (FileNotFoundError, RuntimeError):
        return -1


def _wait(proc: subprocess.Popen, condition, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"the run ended first: {proc.stderr.read().decode()[-2000:]}"
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    proc.stderr.close()


def _final_files_are_complete(folder: Path) -> list[Path]:
    """Every file under a final name (not a hidden temporary) is a loadable checkpoint."""
    finals = [p for p in folder.iterdir() if not p.name.startswith(".")]
    for path in finals:
        checkpoint = _load(path)
        assert all(k in checkpoint for k in ("state_dict", "optimizer_states", "loops")), path
    return finals


def test_killed_runs_resume_to_the_uninterrupted_result(world, tmp_path):
    reference = tmp_path / "reference"
    reference.mkdir()
    assert main(_args(world, reference / "run")) == 0
    expected = _load(reference / "run" / "checkpoints" / "last.ckpt")
    assert expected["global_step"] == STEPS

    work = tmp_path / "killed"
    work.mkdir()
    args = _args(world, work / "run")
    checkpoints = work / "run" / "checkpoints"
    last = checkpoints / "last.ckpt"
    moments = random.Random(11)

    # 1. inside the second checkpoint write (last.ckpt of step 4; that of step 2 is on disk)
    proc = _start(work, args, stall_at=2)
    _wait(proc, (work / "stalled").is_file)
    _kill(proc)
    assert _step(last) == 2
    assert [p.name for p in checkpoints.glob(".last.*.tmp.ckpt")]  # the cut write, aside
    _final_files_are_complete(checkpoints)

    # 2. and 3. resumed, then killed at random moments after a further checkpoint
    resumed_from = []
    for after in (4, 6):
        resumed_from.append(_step(last))
        proc = _start(work, [*args, "--resume", str(last)])
        _wait(proc, lambda after=after: _step(last) >= after)
        time.sleep(moments.uniform(0.0, 0.6))
        _kill(proc)
        assert after <= _step(last) < STEPS, _step(last)
        _final_files_are_complete(checkpoints)
    assert resumed_from[0] == 2

    # the last resume runs to the end: same step count, same weights, same Adam state
    mid = _step(last)
    assert main([*args, "--resume", str(last)]) == 0
    assert not list(checkpoints.glob(".*.tmp.ckpt"))  # the cut writes were cleared
    got = _load(last)
    assert got["global_step"] == STEPS and mid < STEPS
    for key, value in expected["state_dict"].items():
        torch.testing.assert_close(got["state_dict"][key], value, rtol=0, atol=0, msg=key)
    for want, have in zip(expected["optimizer_states"], got["optimizer_states"], strict=True):
        assert want["state"].keys() == have["state"].keys()
        for index, state in want["state"].items():
            for name, tensor in state.items():  # exp_avg, exp_avg_sq, step
                torch.testing.assert_close(have["state"][index][name], tensor, rtol=0, atol=0)


def _resume_error(world: Path, tmp_path: Path, checkpoint: Path, capsys) -> str:
    out = tmp_path / "run"
    assert main([*_args(world, out), "--resume", str(checkpoint)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(checkpoint) in err, err
    assert not out.exists()  # nothing written
    return err


def test_resume_refuses_what_is_not_a_checkpoint_in_one_line(world, tmp_path, capsys):
    model = tmp_path / "model" / "pose_net.safetensors"
    save_model(PoseNet(), model)
    err = _resume_error(world, tmp_path, model, capsys)
    assert "a packdepth model file, not a Lightning checkpoint" in err
    assert f"model.init={model.parent}" in err

    random_bytes = tmp_path / "random.ckpt"
    random_bytes.write_bytes(random.Random(0).randbytes(5000))
    assert "not a PyTorch archive" in _resume_error(world, tmp_path, random_bytes, capsys)

    weights = tmp_path / "weights.pt"
    torch.save({"weight": torch.ones(3)}, weights)
    err = _resume_error(world, tmp_path, weights, capsys)
    assert "not a Lightning training checkpoint" in err

    # a real checkpoint, cut short (an interrupted copy), and one of other networks
    assert main(_args(world, tmp_path / "short", steps=1)) == 0
    checkpoint = tmp_path / "short" / "checkpoints" / "last.ckpt"
    data = checkpoint.read_bytes()
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(data[: len(data) // 3])
    assert "truncated" in _resume_error(world, tmp_path, truncated, capsys)
    damaged = tmp_path / "damaged.ckpt"  # the index intact, the pickled records zeroed
    damaged.write_bytes(data[:100] + bytes(500) + data[600:])
    assert "unreadable checkpoint" in _resume_error(world, tmp_path, damaged, capsys)
    other = [*_args(world, tmp_path / "run"), "--set", "model.pose={name: PoseResNet}",
             "--resume", str(checkpoint)]
    assert main(other) == 2
    assert "a checkpoint of other networks" in capsys.readouterr().err


class Payload:
    """Unpickling this object writes a file: what a hostile checkpoint could run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_resume_never_runs_pickled_code(world, tmp_path, capsys):
    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.ckpt"
    torch.save({"state_dict": {}, "payload": Payload(marker)}, hostile)
    assert zipfile.is_zipfile(hostile)
    err = _resume_error(world, tmp_path, hostile, capsys)
    assert "holds a pickled " in err  # the first global it would have called
    assert "does not run pickled code" in err
    assert not marker.exists()
