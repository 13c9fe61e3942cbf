"""Read NumPy ``.npz`` archives (depth predictions, point clouds) with one honest error per kind
of bad file, never loading pickled objects.

``np.load`` says "This file contains pickled (object) data ... allow_pickle=" for any file that is
not an archive at all (random bytes, a text file), and its error for an archive holding object
arrays invites the user to load them unsafely; :func:`read_npz` replaces both with a line
naming the file and what it is.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from packdepth.errors import PackdepthError


def read_npz(path: str | os.PathLike, keys: Iterable[str] | None = None,
             required: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` archive, read into memory (the file is closed on return).

    Args:
        path: the archive.
        keys: the arrays to read where present (``None``: all of them); others are not read.
        required: arrays that must be present.

    Returns:
        name → array, for the names of ``keys`` the archive has.

    Raises:
        PackdepthError: one line naming ``path``: no such file, unreadable, "not a NumPy .npz
            archive" (any other file, a single ``.npy`` array, a damaged archive), "holds
            pickled objects, which packdepth never loads", or a missing ``required`` array.
    """
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):  # a single .npy array
            raise PackdepthError(f"{path}: not a NumPy .npz archive (a single .npy array)")
        with loaded as data:
            names = list(data.files)
            missing = [k for k in required if k not in names]
            if missing:
                raise PackdepthError(f"{path}: no {missing[0]!r} array (found {sorted(names)})")
            wanted = names if keys is None else [k for k in keys if k in names]
            return {k: _member(data, k, path) for k in wanted}
    except FileNotFoundError:
        raise PackdepthError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PackdepthError(f"{path}: a folder, not a .npz file") from None
    except EOFError:
        raise PackdepthError(f"{path}: empty file, not a NumPy .npz archive") from None
    except OSError as exc:
        if exc.strerror is None:  # numpy's own OSErrors are about the content
            raise PackdepthError(f"{path}: not a NumPy .npz archive") from None
        raise PackdepthError(f"{path}: cannot read ({exc.strerror})") from None
    except (ValueError, zipfile.BadZipFile, zlib.error, KeyError):
        raise PackdepthError(f"{path}: not a NumPy .npz archive") from None


def _member(data: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    """One array of an open archive; refuses object arrays by their header, before reading."""
    member = f"{key}.npy"
    if member not in data.zip.namelist():  # numpy hands other members back as raw bytes
        raise PackdepthError(f"{path}: not a NumPy .npz archive ({key!r} is not a .npy array)")
    with data.zip.open(member) as f:
        version = np.lib.format.read_magic(f)
        header = {(1, 0): np.lib.format.read_array_header_1_0,
                  (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if header is not None and header(f)[2].hasobject:  # (3, 0): numpy refuses it below
            raise PackdepthError(f"{path}: holds pickled objects, which packdepth never loads")
    return np.asarray(data[key])
