"""Typed configuration: nested dataclasses loaded from YAML, with dotted command-line overrides.

Unknown keys, wrong types and malformed values are user errors (:class:`PackdepthError`) that name
the offending key, so a typo in a config never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from packdepth.errors import PackdepthError

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, key: str) -> Any:
    """Check/convert ``value`` to the annotated type ``tp`` (dataclass, Optional, list, scalars)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except PackdepthError as exc:
                errors.append(str(exc))
        raise PackdepthError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise PackdepthError(f"{key}: expected a mapping, got {value!r}")
        return from_dict(tp, value, prefix=f"{key}.")
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise PackdepthError(f"{key}: expected a list, got {value!r}")
        (item_tp, *_rest) = typing.get_args(tp) or (Any,)
        items = [_coerce(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise PackdepthError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if origin is typing.Literal:
        if value not in typing.get_args(tp):
            choices = ", ".join(repr(a) for a in typing.get_args(tp))
            raise PackdepthError(f"{key}: {value!r} is not one of {choices}")
        return value
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise PackdepthError(f"{key}: expected true/false, got {value!r}")
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp is float and isinstance(value, str):  # YAML 1.1 reads "1e-3" (no dot) as a string
        try:
            return float(value)
        except ValueError:
            pass
    if tp is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if tp is str and isinstance(value, (str, Path)):
        return str(value)
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise PackdepthError(f"{key}: expected {_type_name(tp)}, got {value!r}")


def from_dict(cls: type[T], data: dict[str, Any], prefix: str = "") -> T:
    """Build dataclass ``cls`` from a (nested) mapping, rejecting unknown keys."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise PackdepthError(
            f"unknown config key {prefix}{unknown[0]} (known: {', '.join(sorted(fields))})"
        )
    kwargs = {name: _coerce(value, hints[name], f"{prefix}{name}") for name, value in data.items()}
    return cls(**kwargs)


def to_dict(obj: Any) -> Any:
    """A dataclass as plain YAML-able data."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key.sub=value`` overrides (values parsed as YAML) to a nested mapping, in place."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise PackdepthError(f"override {item!r}: expected key=value, e.g. optim.lr=1e-4")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise PackdepthError(f"override {item!r}: {part} is not a section")
        node[parts[-1]] = value
    return data


#: The configurations that ship with packdepth: ready-made training configs and, in
#: ``recipes/``, the partial ones that ``demo``, ``fit`` and the benchmarks compose.
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
RECIPE_DIR = CONFIG_DIR / "recipes"


def recipe(name: str) -> Path:
    """The shipped recipe ``configs/recipes/<name>.yaml``."""
    return RECIPE_DIR / f"{name}.yaml"


def _section_type(cls: Any, key: str) -> Any:
    """The dataclass type of field ``key`` of dataclass ``cls`` (also inside ``X | None``), or
    ``None`` when the field is not a configuration section."""
    if not dataclasses.is_dataclass(cls):
        return None
    tp = typing.get_type_hints(cls).get(key)
    candidates = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union,
                                                                   types.UnionType) else (tp,)
    return next((t for t in candidates if dataclasses.is_dataclass(t)), None)


def merge_config(cls: Any, base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """``overlay`` over ``base``: sections (dataclass fields of ``cls``) merge key by key, any
    other value (a network's ``{name: ...}`` mapping, a list) is replaced whole."""
    out = dict(base)
    for key, value in overlay.items():
        section = _section_type(cls, key)
        if section is not None and isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_config(section, out[key], value)
        else:
            out[key] = value
    return out


def read_config_file(cls: Any, path: str | os.PathLike) -> dict[str, Any]:
    """A YAML config file as a mapping, its ``include:`` files (paths relative to it, merged in
    order by :func:`merge_config`) under its own keys; errors name the file."""
    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PackdepthError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" (line {line + 1})" if line is not None else ""
        raise PackdepthError(f"{path}: not valid YAML{where}") from None
    if loaded is not None and not isinstance(loaded, dict):
        raise PackdepthError(f"{path}: expected a mapping at the top level")
    data = loaded or {}
    includes = data.pop("include", [])
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        raise PackdepthError(f"{path}: include: expected a file or a list of files")
    merged: dict[str, Any] = {}
    for name in includes:
        merged = merge_config(cls, merged, read_config_file(cls, path.parent / str(name)))
    return merge_config(cls, merged, data)


def load_config(
    cls: type[T],
    path: str | os.PathLike | Sequence[str | os.PathLike] | None,
    overrides: Sequence[str] = (),
) -> T:
    """Read YAML (or start from the defaults when ``path`` is None; several files are merged in
    order, e.g. recipes, by :func:`merge_config`), apply overrides, build."""
    paths = [] if path is None else [path] if isinstance(path, (str, os.PathLike)) else list(path)
    data: dict[str, Any] = {}
    for file in paths:
        data = merge_config(cls, data, read_config_file(cls, file))
    apply_overrides(data, list(overrides))
    try:
        return from_dict(cls, data)
    except PackdepthError as exc:
        where = ", ".join(str(p) for p in paths)
        raise PackdepthError(f"{where}: {exc}" if paths else str(exc)) from None


def check_image_size(height: Any, width: Any, what: str, minimum: int = 1,
                     maximum: int | None = None, why: str = "") -> tuple[int, int]:
    """An image size given by a user, ``(height, width)`` in pixels, checked.

    The one size check of every command and config that takes a size (``--size HxW``,
    ``data.height``/``data.width``, ``synth --height/--width``). The networks run on any size
    from 1 pixel up (:mod:`packdepth.networks.padding`), so ``minimum`` is 1 unless what follows
    needs more (training: :data:`packdepth.training.config.TRAIN_MIN_SIZE`).

    Args:
        height, width: the values as given.
        what: the option or keys that gave them, for the message (e.g. ``"--size"``).
        minimum, maximum: bounds on each side, in pixels (``maximum`` None = no bound).
        why: appended to the "too small" message, e.g. ``" for training"``.

    Returns:
        ``(height, width)`` as ints.

    Raises:
        PackdepthError: one line naming ``what``, the size and the bound it breaks.
    """
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise PackdepthError(f"{what}: the {name} must be a whole number of pixels, "
                                 f"got {value!r}")
    if min(height, width) < minimum:
        raise PackdepthError(f"{what}: {height}x{width} is too small: at least {minimum} "
                             f"pixel{'s' if minimum > 1 else ''} a side{why}")
    if maximum is not None and max(height, width) > maximum:
        raise PackdepthError(f"{what}: {height}x{width} is too large: at most {maximum} "
                             "pixels a side")
    return height, width


def parse_image_size(text: str, what: str = "--size", minimum: int = 1) -> tuple[int, int]:
    """``"HxW"`` (e.g. ``"192x640"``) → ``(H, W)`` checked by :func:`check_image_size`.

    Raises:
        PackdepthError: not of the form ``HxW`` with whole numbers, or a side under ``minimum``.
    """
    try:
        h, w = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise PackdepthError(f"{what}: expected HxW, e.g. 192x640, got {text!r}") from None
    return check_image_size(h, w, what, minimum)
