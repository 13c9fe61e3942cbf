"""Atomic writes: the final name holds the old or the new complete file, never part of one."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from packdepth.io.atomic import atomic_path, remove_temporaries, write_bytes


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
