"""What ``train`` and ``fit`` find in their output folder and leave there.

* An output folder holding an earlier run is refused (exit status 2, one line, before any work)
  unless ``--overwrite``, which deletes that run's outputs, and only those: a fit's old depth
  maps of other frames or an old ``best-step=5.ckpt`` never sit beside the new outputs.
* A finished fit deletes its Lightning checkpoints (it cannot resume; they are ~4x the model)
  unless ``--keep-checkpoints``; a run without validation writes no "best" copy of ``last.ckpt``.
"""

from __future__ import annotations

from pathlib import Path

from packdepth.cli import main
from packdepth.data.synthetic import SynthParams, write_dataset

TINY = ["--size", "24x80", "--minutes", "0.05", "--set", "trainer.progress_bar=false",
        "--init", "none"]  # from scratch


def _fit(frames: Path, out: Path, *extra: str) -> int:
    return main(["fit", str(frames), "--out", str(out), "--intrinsics",
                 str(frames.parent / "cam.yaml"), *TINY, *extra])


def _earlier_fit(out: Path) -> None:
    (out / "run" / "checkpoints").mkdir(parents=True)
    (out / "run" / "checkpoints" / "best-step=5.ckpt").write_bytes(b"old")
    (out / "depth").mkdir()
    (out / "depth" / "frame_of_another_video.npz").write_bytes(b"old")
    (out / "poses_tum.txt").write_text("old\n")


def test_fit_refuses_a_folder_with_an_earlier_fit_or_other_files(frames, tmp_path, capsys):
    out = tmp_path / "fit"
    _earlier_fit(out)
    assert _fit(frames, out) == 2
    err = capsys.readouterr().err
    assert err == (f"packdepth: error: {out}: holds the outputs of an earlier run (depth, "
                   "poses_tum.txt, run): choose a new or empty output folder, or replace them "
                   "with --overwrite\n")
    (out / "notes.txt").write_text("mine")
    assert _fit(frames, out, "--overwrite") == 2
    assert "holds notes.txt, which packdepth fit does not write" in capsys.readouterr().err
    assert (out / "depth" / "frame_of_another_video.npz").is_file()  # nothing deleted


def test_fit_overwrite_replaces_the_earlier_fit_and_drops_its_checkpoints(frames, tmp_path,
                                                                          capsys):
    out = tmp_path / "fit"
    _earlier_fit(out)
    assert _fit(frames, out, "--overwrite") == 0
    assert "fitted" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "depth").glob("*.npz")) == [
        f"img_{i}.npz" for i in range(6)]  # the old map is gone
    assert not (out / "poses_tum.txt").exists() and (out / "poses_kitti.txt").is_file()
    assert sorted(p.name for p in (out / "run").iterdir()) == [
        "config.yaml", "csv", "model", "tensorboard"]  # no checkpoints/ after the fit
    kept = tmp_path / "kept"
    assert _fit(frames, kept, "--keep-checkpoints") == 0
    assert [p.name for p in (kept / "run" / "checkpoints").iterdir()] == ["last.ckpt"]


def test_train_refuses_an_earlier_run_unless_overwrite(tmp_path, capsys):
    world = tmp_path / "world"
    write_dataset(world, SynthParams(height=48, width=160, frames=6, seed=3), sequences=1)
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "best-step=5.ckpt").write_bytes(b"old")
    (run / "config.yaml").write_text("{}\n")
    sets = [f"data.root={world}", "data.kind=synthetic", "data.split=splits/all_files.txt",
            "data.height=48", "data.width=160", "model.depth={name: ResNetDepth, num_layers: 18}",
            "model.pose={name: PoseNet}", "loss.num_scales=1", "trainer.batch_size=2",
            "trainer.max_steps=1", "trainer.progress_bar=false", f"trainer.out_dir={run}"]
    config = tmp_path / "empty.yaml"
    config.write_text("{}\n")
    args = ["train", str(config), *[a for s in sets for a in ("--set", s)]]
    assert main(args) == 2
    assert capsys.readouterr().err == (
        f"packdepth: error: {run}: holds the outputs of an earlier run (checkpoints, "
        "config.yaml): choose a new or empty output folder, or replace them with --overwrite\n")
    assert main([*args, "--overwrite", "--resume", str(run / "last.ckpt")]) == 2
    assert "give one" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert "trained 1 step in 1 process;" in capsys.readouterr().out
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["last.ckpt"]  # no stale best
