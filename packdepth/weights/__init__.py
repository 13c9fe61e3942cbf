"""The pretrained depth model shipped inside the package, and the name that stands for it.

``packdepth/weights/streets/`` is an ordinary packdepth model folder: ``depth_net.safetensors``
(a depth network only, stored as float16, loaded into the float32 network) and ``MODEL_CARD.md``
(what it was trained on, for how long, and how it scores). Wherever packdepth takes a MODEL
(``packdepth.load``, every command's MODEL/``--model``/``--checkpoint``, ``fit --init``,
``model.init``), the name :data:`SHIPPED_MODEL` stands for that folder
(:func:`resolve_model_path`), unless a file or folder of that name exists: a real path wins.

This module sits below ``io`` (it needs nothing but the standard library and
:mod:`packdepth.errors`), so that the loaders resolve the name in one place.
"""

from __future__ import annotations

import os
from pathlib import Path

from packdepth.errors import PackdepthError

#: The name that stands for the shipped model wherever a MODEL is accepted.
SHIPPED_MODEL = "shipped"
#: The shipped model folder inside the installed package (``shipped_model_dir`` checks it).
SHIPPED_DIR = Path(__file__).resolve().parent / "streets"
#: Its depth network file (the packdepth model folder's ``depth_net.safetensors``).
SHIPPED_FILE = "depth_net.safetensors"
#: The most bytes the whole ``packdepth/weights`` folder may hold (30 MB, 10**6-byte megabytes).
SIZE_LIMIT = 30_000_000


def shipped_model_dir() -> Path:
    """The shipped model folder (:data:`SHIPPED_DIR`).

    Raises:
        PackdepthError: its ``depth_net.safetensors`` is missing (e.g. an install without the
            package data, or a checkout before the weights were added); the line names the file.
    """
    if not (SHIPPED_DIR / SHIPPED_FILE).is_file():
        raise PackdepthError(
            f"{SHIPPED_DIR / SHIPPED_FILE}: the shipped model ('{SHIPPED_MODEL}') is missing "
            "from this installation (installed without its package data?); pass a model folder "
            "or file instead (fit: --init none trains from scratch)")
    return SHIPPED_DIR


def resolve_model_path(model: str | os.PathLike) -> Path:
    """``model`` as a path: :func:`shipped_model_dir` for the name :data:`SHIPPED_MODEL` when no
    file or folder of that name exists (a real path always wins), else ``Path(model)``.

    Raises:
        PackdepthError: ``model`` is the name and the shipped model is missing.
    """
    path = Path(model)
    if os.fspath(model) == SHIPPED_MODEL and not path.exists():
        return shipped_model_dir()
    return path
