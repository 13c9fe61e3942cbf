"""The models the page offers: given ones and those found in a folder, loaded on first use.

Found in ``models_dir`` (at most :data:`MAX_DEPTH` folders down, hidden folders skipped, nothing
below a model folder): packdepth model folders (``depth_net.safetensors``, as ``make demo``'s
``demo_out/model`` and ``import-weights --out``), monodepth2 weight folders (``encoder.pth`` +
``depth.pth``) and packnet-sfm checkpoints (``*.ckpt``). Each is named by its path below
``models_dir``; a model given on its own is named by its path as given.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from packdepth.errors import PackdepthError
from packdepth.io.identify import DEPTH_FILE

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
            if name.endswith(".ckpt"):
                found[(here / name).relative_to(root).as_posix()] = here / name
        subfolders[:] = sorted(s for s in subfolders if not s.startswith(".")) \
            if depth < MAX_DEPTH else []
    return dict(sorted(found.items()))


class ModelShelf:
    """Named models, each loaded once (:func:`packdepth.load`) when first asked for.

    Args:
        model: one model (folder or file) to offer, or ``None``.
        models_dir: a folder to search (:func:`find_models`), or ``None``.
        device: where the networks run (``auto``, ``cpu``, ``cuda``).

    Raises:
        PackdepthError: no model at all, a given ``model`` path that does not exist.
    """

    def __init__(self, model: str | os.PathLike | None = None,
                 models_dir: str | os.PathLike | None = None, device: str = "auto") -> None:
        self.paths: dict[str, Path] = {}
        if model is not None:
            path = Path(model)
            if not path.exists():
                raise PackdepthError(f"{path}: no such model folder or file (--model)")
            self.paths[path.as_posix()] = path
        if models_dir is not None:
            for name, path in find_models(models_dir).items():
                if path.resolve() not in {p.resolve() for p in self.paths.values()}:
                    self.paths.setdefault(name, path)
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
