"""Atomic file writing: outputs are either complete or absent, never half-written."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from packdepth.errors import PackdepthError


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

    Raises:
        OSError: of the kind the system gave (errno and strerror kept), naming ``path`` instead
            of the hidden temporary file or a folder it needed (a file in the way of a folder:
            ``NotADirectoryError``); folders this call created and the temporary file are
            removed first.
    """
    path = Path(path)
    created = _make_folders(path.parent, path)
    try:
        tmp_path = _create_temporary(path)
    except OSError as exc:
        _remove_empty(created)
        raise _naming(exc, path) from exc
    done = False
    try:
        yield tmp_path
        _fsync(tmp_path)
        os.replace(tmp_path, path)
        done = True
        _fsync(path.parent)
    except OSError as exc:
        if _is(exc.filename, tmp_path):
            raise _naming(exc, path) from exc
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        if not done:
            _remove_empty(created)


def _create_temporary(path: Path) -> Path:
    """Create an empty hidden temporary file beside ``path``: as ``tempfile.mkstemp``, but with
    the umask's permissions (mkstemp: owner only)."""
    prefix, suffix = _temporary_pattern(path.stem, path.suffix)
    while True:
        tmp_path = path.parent / f"{prefix}{secrets.token_hex(4)}{suffix}"
        try:
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp_path
        except FileExistsError:
            continue


def _make_folders(folder: Path, target: Path) -> list[Path]:
    """Create ``folder`` and its missing parents for ``target``; returns those created,
    outermost first (none are left when one fails).

    Raises:
        NotADirectoryError: naming ``target``: a file is where one of the folders should be.
        OSError: naming ``target``: any other failure to create one.
    """
    missing = [p for p in (folder, *folder.parents) if not p.is_dir()][::-1]
    created: list[Path] = []
    for p in missing:
        try:
            p.mkdir()
        except FileExistsError:
            if p.is_dir():
                continue  # made meanwhile by another process
            _remove_empty(created)
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                     str(target)) from None
        except OSError as exc:
            _remove_empty(created)
            raise _naming(exc, target) from exc
        created.append(p)
    return created


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (outermost first) where they are empty, innermost first."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def _is(name: str | bytes | int | None, path: Path) -> bool:
    """Whether an ``OSError.filename`` is ``path``."""
    return isinstance(name, (str, bytes)) and Path(os.fsdecode(name)) == path


def _naming(exc: OSError, target: Path) -> OSError:
    """An ``OSError`` of ``exc``'s kind (the subclass follows the errno), errno and strerror,
    naming ``target`` (the user's path) instead of a hidden helper path."""
    return OSError(exc.errno, exc.strerror, str(target))


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


def make_stage(out: Path, prefix: str) -> tuple[Path, bool]:
    """A new hidden folder inside ``out`` (created if missing) and whether ``out`` was created.

    Raises:
        PackdepthError: ``out`` is a file or cannot be written.
    """
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=out)), created
    except FileExistsError:
        raise PackdepthError(f"{out}: not a folder (the output folder)") from None
    except OSError as exc:
        raise PackdepthError(f"{out}: cannot write the output folder ({exc.strerror})") from None


@contextlib.contextmanager
def staging_folder(out: str | os.PathLike, prefix: str = ".stage-") -> Iterator[Path]:
    """A hidden folder inside ``out`` for the files of a run that must appear all or none.

    Write everything below the yielded folder, then :func:`publish` it inside the block. The
    folder is removed when the block ends; when the block fails, ``out`` is removed too if this
    call created it and it is empty, so a failed run leaves nothing under a final name.

    Raises:
        PackdepthError: ``out`` is a file or cannot be written.
        OSError: from the block, about a file below the stage: naming that file below ``out``.
    """
    out = Path(out)
    stage, created = make_stage(out, prefix)
    try:
        yield stage
    except BaseException as exc:
        shutil.rmtree(stage, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        staged = _staged_name(exc, stage)
        if staged is not None:  # name the file as it would have appeared, not the hidden one
            raise _naming(exc, out / staged) from exc
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _staged_name(exc: BaseException, stage: Path) -> Path | None:
    """The path below ``stage`` that an ``OSError`` names, ``None`` for anything else."""
    if not isinstance(exc, OSError) or not isinstance(exc.filename, (str, bytes)):
        return None
    name = Path(os.fsdecode(exc.filename))
    return name.relative_to(stage) if name.is_relative_to(stage) else None


def refuse_replacing(targets: Iterable[Path], inputs: Iterable[Path]) -> None:
    """Raise :class:`PackdepthError` naming the first of ``targets`` that is one of ``inputs``."""
    protected = {Path(p).resolve() for p in inputs}
    for target in targets:
        if Path(target).resolve() in protected:
            raise PackdepthError(f"{target}: an output would replace this input; choose another "
                                 "--out")


def refuse_unplaceable(targets: Iterable[Path], out: Path) -> None:
    """Raise :class:`PackdepthError` naming the first of ``targets`` (files below ``out``) that
    is an existing folder, or whose folder below ``out`` is an existing file: ``os.replace``
    could not put a file there."""
    out = Path(out)
    for target in map(Path, targets):
        if target.is_dir():
            raise PackdepthError(f"{target}: a folder is in the way of an output file; move it "
                                 "or choose another --out")
        for parent in target.relative_to(out).parents:
            if parent != Path(".") and (out / parent).exists() and not (out / parent).is_dir():
                raise PackdepthError(f"{out / parent}: a file is in the way of the output folder "
                                     f"of {target.name}; move it or choose another --out")


def publish(stage: Path, out: Path, files: Iterable[Path],
            inputs: Iterable[Path] = ()) -> list[Path]:
    """Move staged ``files`` (below ``stage``) to the same relative paths below ``out``.

    Each move is an ``os.replace`` (atomic per file). Every target is checked before the first
    move (:func:`refuse_unplaceable`, :func:`refuse_replacing`), so nothing moves when one of them
    would replace one of ``inputs``, is an existing folder or lies below an existing file.
    Returns the final paths.

    Raises:
        PackdepthError: naming the first target that cannot be written.
        OSError: a move the system refused, naming its target (not the staged file).
    """
    moves = [(p, out / p.relative_to(stage)) for p in files]
    refuse_unplaceable([target for _, target in moves], out)
    refuse_replacing([target for _, target in moves], inputs)
    for staged, target in moves:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
        except OSError as exc:
            raise _naming(exc, target) from exc
    return [target for _, target in moves]
