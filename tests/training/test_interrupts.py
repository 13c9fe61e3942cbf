"""``train`` and ``fit`` stopped by Ctrl-C or SIGTERM while they train: the shell's exit status
(130, 143), one line saying what to do next, and no final outputs (model, depth, poses).

Lightning catches both itself (Ctrl-C: ``sys.exit(1)``; SIGTERM: a quiet stop, exit status 0);
these run real commands in child processes and signal them after their first training steps.
"""

from __future__ import annotations

import signal

import pytest

from packdepth.data.synthetic import SynthParams, write_dataset
from tests.signals import interrupt, start, wait_for_line

PROGRESS = ["--set", "trainer.progress_every_steps=1"]  # a line per step on the pipe


@pytest.mark.parametrize(("signum", "status", "line"), [
    (signal.SIGINT, 130, "packdepth: interrupted"),
    (signal.SIGTERM, 143, "packdepth: terminated (SIGTERM)"),
])
def test_fit_stopped_while_training_writes_no_depth_or_poses(frames, tmp_path, signum, status,
                                                             line):
    out = tmp_path / "fit"
    proc = start(["fit", str(frames), "--out", str(out), "--size", "24x80", "--minutes", "5",
                  "--init", "none",
                  "--intrinsics", str(frames.parent / "cam.yaml"), *PROGRESS], tmp_path)
    wait_for_line(proc, "step 1 ")
    _, err = interrupt(proc, signum)
    assert proc.returncode == status, err
    assert err.splitlines() == [f"{line}: the fit wrote no depth or trajectory; to start again, "
                                f"run it with --overwrite (it replaces {out})"]
    assert sorted(p.name for p in out.iterdir()) == ["run"]  # no depth/, no poses*
    assert not (out / "run" / "model").exists()


def test_train_stopped_by_sigterm_names_the_checkpoint_to_resume_from(tmp_path):
    world = tmp_path / "world"
    write_dataset(world, SynthParams(height=48, width=160, frames=6, seed=3), sequences=1)
    run = tmp_path / "run"
    sets = [f"data.root={world}", "data.kind=synthetic", "data.split=splits/all_files.txt",
            "data.height=48", "data.width=160", "model.depth={name: ResNetDepth, num_layers: 18}",
            "model.pose={name: PoseNet}", "loss.num_scales=1", "trainer.batch_size=2",
            "trainer.max_epochs=1000", "trainer.checkpoint_every_steps=1", f"trainer.out_dir={run}"]
    (tmp_path / "empty.yaml").write_text("{}\n")
    proc = start(["train", "empty.yaml", *[a for s in sets for a in ("--set", s)], *PROGRESS],
                 tmp_path)
    wait_for_line(proc, "step 2 ")  # last.ckpt written at step 1 and 2
    _, err = interrupt(proc, signal.SIGTERM)
    assert proc.returncode == 143, err
    last = run / "checkpoints" / "last.ckpt"
    assert err.splitlines() == [
        f"packdepth: terminated (SIGTERM): the run's last checkpoint is {last}; resume with "
        f"packdepth train {run / 'config.yaml'} --resume {last}"]
    assert last.is_file() and not (run / "model").exists()
    assert not list((run / "checkpoints").glob("best*"))  # no validation: no "best" copy
