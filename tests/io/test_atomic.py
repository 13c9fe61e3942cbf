"""Atomic writes: complete or absent, with ordinary file permissions."""

from __future__ import annotations

import os
import stat

import pytest

from packdepth.io.atomic import atomic_path, write_text


def test_files_get_the_permissions_open_would_give(tmp_path):
    write_text(tmp_path / "a.txt", "x")
    (tmp_path / "plain.txt").write_text("x")
    # not mkstemp's owner-only 0600 (under the usual umask 022: 0644, like the plain file)
    mode = stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain.txt").st_mode)


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.bin") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("writer failed")
    assert list(tmp_path.iterdir()) == []
