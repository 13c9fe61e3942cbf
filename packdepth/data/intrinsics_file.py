"""Reading an intrinsics file: YAML/JSON fields, a ``K`` matrix, or the matrix as text.

The forms (see :mod:`packdepth.data.intrinsics`, which checks the values and builds
:class:`~packdepth.data.intrinsics.Intrinsics` from them): YAML/JSON
``{fx, fy, cx, cy[, width, height]}`` or ``{K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]][, width,
height]}``, or three rows of three numbers (7-Scenes' ``camera-intrinsics.txt``, Shotton et al.,
CVPR 2013). packdepth's pinhole model has no skew: a matrix with skew or a bottom row other than
``0 0 1`` is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import yaml

from packdepth.errors import PackdepthError

#: Skew ``K[0][1]``, ``K[1][0]`` and a bottom row off ``0 0 1`` by more than this are refused.
MATRIX_TOLERANCE = 1e-9


def _matrix_rows(text: str) -> list[list[float]] | None:
    """Three rows of three numbers (``#`` comments and blank lines skipped), else ``None``."""
    rows = [line.replace(",", " ").split() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    if len(rows) != 3 or any(len(row) != 3 for row in rows):
        return None
    try:
        return [[float(v) for v in row] for row in rows]
    except ValueError:
        return None


def _from_matrix(K: object, path: Path) -> dict[str, float]:
    """``fx, fy, cx, cy`` of a pinhole matrix given as 3 rows of 3 numbers (or 9 numbers).

    Raises:
        PackdepthError: naming ``path``: not 3x3 numbers, non-finite, skew, or a bottom row
            other than ``0 0 1``.
    """
    try:
        M = np.asarray(K, dtype=np.float64)
    except (TypeError, ValueError):
        M = np.zeros(0)
    M = M.reshape(3, 3) if M.shape == (9,) else M
    if M.shape != (3, 3):
        raise PackdepthError(f"{path}: K must be a 3x3 matrix of numbers "
                             "([[fx, 0, cx], [0, fy, cy], [0, 0, 1]])")
    if not np.isfinite(M).all():
        raise PackdepthError(f"{path}: K must be finite, got {M.tolist()}")
    tol = MATRIX_TOLERANCE * max(abs(M[0, 0]), abs(M[1, 1]), 1.0)
    if abs(M[0, 1]) > tol or abs(M[1, 0]) > tol:
        raise PackdepthError(f"{path}: K has skew (K[0][1] = {M[0, 1]:g}, K[1][0] = "
                             f"{M[1, 0]:g}); packdepth's pinhole model has none")
    if np.abs(M[2] - (0.0, 0.0, 1.0)).max() > MATRIX_TOLERANCE:
        raise PackdepthError(f"{path}: K's bottom row must be 0 0 1, got "
                             f"{' '.join(f'{v:g}' for v in M[2])}")
    return {"fx": M[0, 0], "fy": M[1, 1], "cx": M[0, 2], "cy": M[1, 2]}


def read_intrinsics_file(path: str | os.PathLike) -> dict[str, float | int]:
    """``fx, fy, cx, cy`` (floats, pixels as written) and, when given, ``width, height`` (ints)
    of an intrinsics file: YAML/JSON ``{fx, fy, cx, cy[, width, height]}`` or
    ``{K: [[fx, 0, cx], [0, fy, cy], [0, 0, 1]][, width, height]}``, or three rows of three
    numbers (the matrix as text, e.g. 7-Scenes' ``camera-intrinsics.txt``). The values are not
    checked here: :class:`~packdepth.data.intrinsics.Intrinsics` does that.

    Raises:
        PackdepthError: naming the file: missing, malformed, a matrix with skew or a bottom row
            other than ``0 0 1``, both ``K`` and ``fx``..., or values that are not numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise PackdepthError(f"{path}: intrinsics file not found")
    text = path.read_text(errors="replace")
    rows = _matrix_rows(text)
    if rows is not None:
        data = {"K": rows}
    else:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PackdepthError(f"{path}: not valid YAML/JSON nor three rows of three numbers "
                                 f"({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise PackdepthError(f"{path}: expected a mapping with fx, fy, cx, cy (or K: 3x3), or "
                             "the 3x3 matrix as three rows of three numbers")
    keys = ("fx", "fy", "cx", "cy")
    if "K" in data:
        if any(k in data for k in keys):
            raise PackdepthError(f"{path}: give K or fx, fy, cx, cy, not both")
        data = {**data, **_from_matrix(data["K"], path)}
    missing = [k for k in keys if k not in data]
    if missing:
        raise PackdepthError(f"{path}: missing {', '.join(missing)} (or give K: 3x3)")
    try:
        values = {k: float(data[k]) for k in keys}
        size = {k: int(data[k]) for k in ("width", "height") if data.get(k) is not None}
    except (TypeError, ValueError):
        raise PackdepthError(f"{path}: fx, fy, cx, cy, width, height must be numbers") from None
    return {**values, **size}
