"""``read_npz``: arrays of a NumPy archive, or one honest line for any other file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from packdepth.errors import PackdepthError
from packdepth.io.npz import read_npz


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(PackdepthError) as info:
        read_npz(path, **kwargs)
    return str(info.value)


def test_the_arrays_asked_for_come_back_whole(tmp_path: Path) -> None:
    depth = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.savez(tmp_path / "d.npz", depth=depth, K=np.eye(3))
    arrays = read_npz(tmp_path / "d.npz", keys=("depth", "scale"))
    assert list(arrays) == ["depth"]
    np.testing.assert_array_equal(arrays["depth"], depth)
    assert sorted(read_npz(tmp_path / "d.npz")) == ["K", "depth"]
    assert _error(tmp_path / "d.npz", required=("data",)) == \
        f"{tmp_path / 'd.npz'}: no 'data' array (found ['K', 'depth'])"


def test_random_bytes_are_not_an_archive_and_pickle_is_not_mentioned(tmp_path: Path) -> None:
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(1).bytes(2000))
    assert _error(path) == f"{path}: not a NumPy .npz archive"
    np.save(tmp_path / "one.npy", np.zeros(3))
    (tmp_path / "one.npy").rename(tmp_path / "one.npz")
    assert _error(tmp_path / "one.npz") == \
        f"{tmp_path / 'one.npz'}: not a NumPy .npz archive (a single .npy array)"
    (tmp_path / "cut.npz").write_bytes(b"PK\x03\x04")  # a zip header, then nothing
    assert _error(tmp_path / "cut.npz") == f"{tmp_path / 'cut.npz'}: not a NumPy .npz archive"


def test_object_arrays_are_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "objects.npz"
    np.savez(path, depth=np.zeros((2, 2)), meta=np.array([{"a": 1}, None], dtype=object))
    assert _error(path) == f"{path}: holds pickled objects, which packdepth never loads"
    assert list(read_npz(path, keys=("depth",))) == ["depth"]  # the objects are never read
