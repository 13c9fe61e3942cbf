"""An output folder holding an earlier run is refused, or with ``overwrite`` cleared of that run's
outputs only; a user's own files are never deleted."""

from __future__ import annotations

import pytest

from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path, temporary_target
from packdepth.io.output_folder import OutputFolder

OUTPUTS = ("run", "depth", "poses*.txt")


def _folder(tmp_path, overwrite=False) -> OutputFolder:
    return OutputFolder(tmp_path / "out", OUTPUTS, "packdepth fit", overwrite)


def _earlier_run(out) -> None:
    (out / "run" / "checkpoints").mkdir(parents=True)
    (out / "run" / "checkpoints" / "best-step=5.ckpt").write_bytes(b"old")
    (out / "depth").mkdir()
    (out / "depth" / "old_frame.npz").write_bytes(b"old")
    (out / "poses_kitti.txt").write_text("old\n")
    (out / ".poses_relative.0a1b2c3d.tmp.txt").write_text("half")  # a killed atomic write


def test_absent_and_empty_folders_are_taken(tmp_path):
    _folder(tmp_path).check()
    (tmp_path / "out").mkdir()
    assert _folder(tmp_path).clear() == []


def test_an_earlier_run_is_refused_without_overwrite_and_cleared_with_it(tmp_path):
    out = tmp_path / "out"
    _earlier_run(out)
    with pytest.raises(PackdepthError, match=r"out: holds the outputs of an earlier run \("
                       r"\.poses_relative.*, depth, poses_kitti.txt, run\): .* --overwrite"):
        _folder(tmp_path).check()
    assert (out / "depth" / "old_frame.npz").is_file()  # refused: nothing deleted
    cleared = _folder(tmp_path, overwrite=True).clear()
    assert len(cleared) == 4 and list(out.iterdir()) == []


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_users_own_files_are_refused_and_never_deleted(tmp_path, overwrite):
    out = tmp_path / "out"
    _earlier_run(out)
    (out / "notes.txt").write_text("mine")
    (out / "photos").mkdir()
    with pytest.raises(PackdepthError, match=r"holds notes\.txt and 1 more, which packdepth fit "
                       "does not write: choose a new or empty output folder") as exc:
        _folder(tmp_path, overwrite).clear()
    assert ("--overwrite replaces only" in str(exc.value)) == overwrite
    assert (out / "notes.txt").is_file() and (out / "depth" / "old_frame.npz").is_file()


def test_a_file_is_not_an_output_folder(tmp_path):
    (tmp_path / "out").write_text("")
    with pytest.raises(PackdepthError, match="out: not a folder"):
        _folder(tmp_path).check()


def test_temporary_target_names_what_an_atomic_write_was_writing(tmp_path):
    for name in ("config.yaml", "last.ckpt", "archive.tar.gz", "noext"):
        with atomic_path(tmp_path / name) as tmp:
            assert temporary_target(tmp.name) == name
    assert temporary_target(".config.0a1b2c3d.tmp.yaml") == "config.yaml"
    assert temporary_target(".last.deadbeef.tmp.ckpt") == "last.ckpt"
    assert temporary_target(".last.deadbeef.tmp") == "last"
    assert temporary_target("config.yaml") is None and temporary_target(".hidden") is None
