"""The models the page offers: given ones and those found in a folder, loaded on first use.

Found in ``models_dir`` (at most :data:`MAX_DEPTH` folders down, hidden folders skipped, nothing
below a model folder): packdepth model folders (``depth_net.safetensors``, as ``make demo``'s
``demo_out/model`` and ``import-weights --out``), monodepth2 weight folders (``encoder.pth`` +
``depth.pth``) and packnet-sfm checkpoints (``*.ckpt``; a training run's Lightning checkpoints
are skipped: not models for inference, its ``model/`` folder is). Each is named by its path
below ``models_dir``; a model given on its own is named by its path as given. The same model
found twice (``demo_out/model`` and its copy ``demo_out/run/model``: byte-identical files) is
offered once, under its shortest name (:func:`distinct`).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from packdepth.errors import PackdepthError
from packdepth.io.identify import DEPTH_FILE, identify
from packdepth.weights import resolve_model_path

MAX_DEPTH = 3


def _is_model_folder(folder: Path) -> bool:
    return (folder / DEPTH_FILE).is_file() or (
        (folder / "encoder.pth").is_file() and (folder / "depth.pth").is_file())


def find_models(models_dir: str | os.PathLike) -> dict[str, Path]:
    """Model folders and ``.ckpt`` files below ``models_dir`` by name (see the module
    docstring), in sorted order.

    Raises:
        PackdepthError: ``models_dir`` is not a folder.
    """
    root = Path(models_dir)
    if not root.is_dir():
        raise PackdepthError(f"{root}: not a folder (--models-dir)")
    found: dict[str, Path] = {}
    for folder, subfolders, files in os.walk(root, followlinks=True):  # depth-limited
        here = Path(folder)
        depth = len(here.relative_to(root).parts)
        if _is_model_folder(here):
            found[here.relative_to(root).as_posix() if depth else here.name] = here
            subfolders.clear()
            continue
        for name in files:
            if name.endswith(".ckpt") and identify(here / name).key != "lightning":
                found[(here / name).relative_to(root).as_posix()] = here / name
        subfolders[:] = sorted(s for s in subfolders if not s.startswith(".")) \
            if depth < MAX_DEPTH else []
    return dict(sorted(distinct(found.items())))


def _files(path: Path) -> list[Path]:
    """The files that make up a model: the file itself, or a folder's files (not below)."""
    return [path] if path.is_file() else sorted(p for p in path.iterdir() if p.is_file())


def _sizes(path: Path) -> tuple[tuple[str, int], ...]:
    """A model's file names and sizes in bytes: a cheap first test of sameness."""
    return tuple((p.name if p != path else "", p.stat().st_size) for p in _files(path))


def _digest(path: Path) -> bytes:
    """SHA-256 over a model's file names and their contents' SHA-256."""
    total = hashlib.sha256()
    for p in _files(path):
        with open(p, "rb") as f:
            total.update(p.name.encode() + b"\0" + hashlib.file_digest(f, "sha256").digest())
    return total.digest()


def distinct(models: Iterable[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """``(name, path)`` pairs without repeats: of models with the same file names and contents
    (compared by size, then SHA-256; hashed only when the sizes match), the one with the fewest
    path parts in its name, then the first. Order: as given, less the dropped ones."""
    models = list(models)
    by_size: dict[tuple, list[int]] = {}
    for i, (_, path) in enumerate(models):
        by_size.setdefault(_sizes(path), []).append(i)
    drop: set[int] = set()
    for same_size in by_size.values():
        if len(same_size) > 1:
            by_digest: dict[bytes, list[int]] = {}
            for i in same_size:
                by_digest.setdefault(_digest(models[i][1]), []).append(i)
            for same in by_digest.values():
                drop.update(sorted(same, key=lambda i: (len(Path(models[i][0]).parts), i))[1:])
    return [m for i, m in enumerate(models) if i not in drop]


class ModelShelf:
    """Named models, each loaded once (:func:`packdepth.load`) when first asked for.

    Args:
        model: one model (folder or file, or ``"shipped"``: the model inside the package) to
            offer first, named as given, or ``None``.
        models_dir: a folder to search (:func:`find_models`), or ``None``.
        device: where the networks run (``auto``, ``cpu``, ``cuda``).

    Raises:
        PackdepthError: no model at all, a given ``model`` path that does not exist.
    """

    def __init__(self, model: str | os.PathLike | None = None,
                 models_dir: str | os.PathLike | None = None, device: str = "auto") -> None:
        given: list[tuple[str, Path]] = []
        if model is not None:
            path = resolve_model_path(model)  # the name ``shipped``: the shipped model
            if not path.exists():
                raise PackdepthError(f"{path}: no such model folder or file (--model)")
            given.append(("", path))  # named below; first: kept over a copy found
        found = list(find_models(models_dir).items()) if models_dir is not None else []
        self.paths: dict[str, Path] = {
            name or Path(model).as_posix(): path for name, path in distinct(given + found)}
        if not self.paths:
            where = f" in {models_dir}" if models_dir is not None else ""
            raise PackdepthError(f"no model found{where}: pass --model MODEL (e.g. "
                                 "demo_out/model after `make demo`) or --models-dir DIR")
        self.device = device
        self._loaded: dict[str, object] = {}
        self._lock = threading.Lock()

    @property
    def default(self) -> str:
        """The first model's name."""
        return next(iter(self.paths))

    def names(self) -> list[str]:
        return list(self.paths)

    def get(self, name: str | None):
        """The loaded :class:`packdepth.Model` called ``name`` (``None``: :attr:`default`).

        Raises:
            KeyError: no model of that name.
            PackdepthError: the model cannot be loaded.
        """
        name = name or self.default
        if name not in self.paths:
            raise KeyError(name)
        with self._lock:
            if name not in self._loaded:
                from packdepth.inference import load

                self._loaded[name] = load(self.paths[name], device=self.device)
            return self._loaded[name]
