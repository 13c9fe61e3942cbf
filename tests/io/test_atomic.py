"""Atomic writes: the final name holds the old or the new complete file, never part of one."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from packdepth.errors import PackdepthError
from packdepth.io.atomic import (
    atomic_path,
    publish,
    remove_temporaries,
    staging_folder,
    write_bytes,
    write_text,
)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "model.bin"
    write_bytes(target, b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.bin"]


def test_files_get_the_umasks_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_bytes(tmp_path / "a.txt", b"x")
        os.umask(0o077)
        write_bytes(tmp_path / "b.txt", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644  # mkstemp gave 0o600
    assert stat.S_IMODE((tmp_path / "b.txt").stat().st_mode) == 0o600


def test_temporaries_of_killed_writes_are_found_and_removed(tmp_path: Path) -> None:
    """What a process killed inside ``atomic_path`` leaves, by the names it uses."""
    with atomic_path(tmp_path / "last.ckpt") as tmp:
        tmp.write_bytes(b"complete")
    killed = tmp_path / tmp.name  # what a process killed inside the block leaves
    killed.write_bytes(b"partial")
    (tmp_path / "model.safetensors").write_bytes(b"final")
    (tmp_path / ".hidden.ckpt").write_bytes(b"not ours")
    assert remove_temporaries(tmp_path, ".safetensors") == []
    assert remove_temporaries(tmp_path, ".ckpt") == [killed]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hidden.ckpt", "last.ckpt",
                                                          "model.safetensors"]


def test_a_staged_run_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    with pytest.raises(RuntimeError), staging_folder(out) as stage:
        write_bytes(stage / "a.npz", b"1")
        raise RuntimeError("the second frame failed")
    assert not (tmp_path / "new" / "out").exists()  # created by the run, so removed with it
    (tmp_path / "keep").mkdir()
    with pytest.raises(RuntimeError), staging_folder(tmp_path / "keep") as stage:
        raise RuntimeError
    assert (tmp_path / "keep").is_dir() and not any((tmp_path / "keep").iterdir())
    with staging_folder(out) as stage:
        write_bytes(stage / "x" / "a.npz", b"1")
        files = publish(stage, out, [stage / "x" / "a.npz"])
    assert files == [out / "x" / "a.npz"] and sorted(p.name for p in out.iterdir()) == ["x"]


def test_publishing_over_an_input_moves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "a.npz"
    write_bytes(source, b"input")
    with pytest.raises(PackdepthError, match=r"a\.npz: an output would replace this input"), \
            staging_folder(tmp_path) as stage:
        write_bytes(stage / "b.png", b"1")
        write_bytes(stage / "a.npz", b"output")
        publish(stage, tmp_path, [stage / "b.png", stage / "a.npz"], [source])
    assert source.read_bytes() == b"input" and sorted(p.name for p in tmp_path.iterdir()) == \
        ["a.npz"]
    (tmp_path / "file").write_text("")
    with pytest.raises(PackdepthError, match="file: not a folder"), \
            staging_folder(tmp_path / "file"):
        pass


@pytest.mark.parametrize("obstacle", ["folder", "file"])
def test_a_target_that_cannot_be_replaced_moves_nothing(tmp_path: Path, obstacle: str) -> None:
    """Every target is checked before the first move: a folder where an output file goes, or a
    file where an output folder goes, leaves ``out`` as it was (no partial publish)."""
    out = tmp_path / "out"
    out.mkdir()
    if obstacle == "folder":
        (out / "b.png").mkdir()  # in the way of the second file
        needle = r"b\.png: a folder is in the way"
    else:
        (out / "sub").write_text("mine")  # in the way of sub/c.npz's folder
        needle = r"sub: a file is in the way of the output folder of c\.npz"
    before = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    with pytest.raises(PackdepthError, match=needle), staging_folder(out) as stage:
        staged = [stage / "a.npz", stage / "b.png", stage / "sub" / "c.npz"]
        for i, path in enumerate(staged):
            write_bytes(path, bytes([i]))
        publish(stage, out, staged)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == before


def test_a_file_in_the_way_of_the_folder_is_named_by_the_target(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("a file")
    for target in (tmp_path / "f" / "x.ply", tmp_path / "f" / "sub" / "x.ply"):
        with pytest.raises(NotADirectoryError) as info, atomic_path(target):
            pass
        assert str(info.value) == f"[Errno {errno.ENOTDIR}] Not a directory: '{target}'"
    assert (tmp_path / "f").read_text() == "a file"


def test_system_errors_about_the_temporary_name_the_target(tmp_path: Path,
                                                         monkeypatch) -> None:
    target = tmp_path / "sub" / "d.onnx"

    def refuse(src, dst):
        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(src), None, str(dst))

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PermissionError) as info:
        write_text(target, "x")
    assert (info.value.errno, info.value.strerror) == (errno.EPERM, os.strerror(errno.EPERM))
    assert info.value.filename == str(target)
    assert not (tmp_path / "sub").exists()  # no temporary, no folder left behind
    monkeypatch.undo()
    with pytest.raises(OSError) as info, atomic_path(tmp_path / "b.bin") as tmp:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))
    assert info.value.filename == str(tmp_path / "b.bin") and info.value.errno == errno.ENOSPC
    other = tmp_path / "input.png"  # errors about the user's other files stay as they are
    with pytest.raises(FileNotFoundError) as info, atomic_path(tmp_path / "c.bin"):
        other.read_bytes()
    assert info.value.filename == str(other)
    assert list(tmp_path.iterdir()) == []


def test_errors_below_a_stage_name_the_published_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(OSError) as info, staging_folder(out) as stage:
        bad = stage / "v" / "1.npz"
        raise OSError(errno.EIO, os.strerror(errno.EIO), str(bad))
    assert info.value.filename == str(out / "v" / "1.npz") and info.value.errno == errno.EIO
    assert not out.exists()
