"""Atomic file writing: outputs are either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path


def _temporary_pattern(stem: str, suffix: str) -> tuple[str, str]:
    """``(prefix, suffix)`` of :func:`atomic_path`'s temporary files for a target name."""
    return f".{stem}.", f".tmp{suffix}"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only if the block succeeds.

    The temporary file is flushed to disk (fsync) before the rename, and the rename after it,
    so that ``path`` holds the old or the new complete content even if the process is killed or
    the machine stops at any moment. A killed process leaves its temporary file behind
    (:func:`remove_temporaries` clears them). The temporary file keeps the target's suffix so
    that writers which pick a format from the extension (PIL, numpy, safetensors) behave as for
    the real name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = _temporary_pattern(path.stem, path.suffix)
    while True:  # as tempfile.mkstemp, but with the umask's permissions (mkstemp: owner only)
        tmp_path = path.parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
        _fsync(path.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's: its entries') data to disk where the system allows it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. folders on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_target(name: str) -> str | None:
    """The target name whose :func:`atomic_path` temporary file is called ``name`` (e.g.
    ``config.yaml`` for ``.config.0a1b2c3d.tmp.yaml``), ``None`` for any other name."""
    found = re.fullmatch(r"\.(.+)\.[0-9a-f]{8}\.tmp(\.[^.]*)?", name)
    return f"{found.group(1)}{found.group(2) or ''}" if found else None


def remove_temporaries(folder: str | os.PathLike, suffix: str = "") -> list[Path]:
    """Delete the temporary files that :func:`atomic_path` left in ``folder`` for targets
    ending in ``suffix`` (writes interrupted by a killed process); returns them."""
    prefix, tmp_suffix = _temporary_pattern("*", suffix)
    found = sorted(Path(folder).glob(f"{prefix}*{tmp_suffix}"))
    for tmp in found:
        tmp.unlink(missing_ok=True)
    return found


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
