"""Read ``torch.save`` files without executing pickled code.

``torch.load(weights_only=True)`` refuses files that pickle classes outside torch's allowlist,
such as packnet-sfm's ``.ckpt`` (a yacs ``CfgNode`` under ``config``). :func:`restricted_load` reads
such files with a :class:`pickle.Unpickler` whose ``find_class`` never imports anything:

- tensors and storages are rebuilt by packdepth's own functions from the raw bytes;
- plain containers (dict, list, tuple, set, OrderedDict), numbers, strings, bytes, ``torch.Size``,
  dtypes and devices load as themselves;
- every other global (a class *or* a function, e.g. ``os.system``) becomes an inert
  :class:`PickledObject` subclass that only records the arguments, dict items and state it is
  given. Calling it runs nothing.

Both serialisation formats are supported: the zip archive (torch >= 1.6) and the legacy stream.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import zipfile
from collections import OrderedDict
from typing import Any

import torch

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "DoubleStorage": torch.float64, "FloatStorage": torch.float32,
    "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64, "IntStorage": torch.int32, "ShortStorage": torch.int16,
    "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
    "ComplexFloatStorage": torch.complex64, "ComplexDoubleStorage": torch.complex128,
    "UntypedStorage": torch.uint8,
}


class PickledObject(dict):
    """Inert stand-in for a pickled object of a class packdepth does not load.

    ``qualified_name`` names the original global; ``args``/``kwargs`` hold what the pickle passed
    to it, ``state`` what it passed to ``__setstate__``, ``list_items`` what it appended; dict
    items (e.g. a yacs ``CfgNode``'s entries) are this dict's items.
    """

    qualified_name = "?"
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    state: Any
    list_items: list[Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> PickledObject:
        # fields are set here: pickle's NEWOBJ calls __new__ without __init__
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state, obj.list_items = args, kwargs, None, []
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()  # the arguments were recorded by __new__; dict items come via pickle

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def append(self, item: Any) -> None:
        self.list_items.append(item)

    def extend(self, items: Any) -> None:
        self.list_items.extend(items)

    def __reduce__(self) -> Any:  # never re-pickle a placeholder as if it were the original
        raise pickle.PicklingError(f"placeholder for {self.qualified_name} cannot be pickled")

    def __repr__(self) -> str:
        return f"<PickledObject {self.qualified_name} items={dict(self)!r} args={self.args!r}>"


class _StorageType:
    def __init__(self, dtype: torch.dtype):
        self.dtype = dtype


class _Storage:
    """A flat ``[numel]`` tensor standing for one serialised storage."""

    def __init__(self, flat: torch.Tensor):
        self.flat = flat


def _rebuild_tensor(storage: _Storage, offset: int, size: Any, stride: Any, *_: Any) -> Any:
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("tensor rebuilt from something that is not a storage")
    flat = storage.flat  # as_strided offsets count from the start of the underlying storage
    return flat.as_strided(tuple(size), tuple(stride), flat.storage_offset() + int(offset))


def _rebuild_parameter(data: Any, *_: Any) -> Any:
    return data


def _rebuild_from_type(func: Any, _new_type: Any, args: Any, _state: Any) -> Any:
    return func(*args)  # func itself came from find_class: a rebuild function or a placeholder


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1")


_SAFE_GLOBALS: dict[str, Any] = {
    "collections.OrderedDict": OrderedDict,
    "builtins.set": set,
    "builtins.frozenset": frozenset,
    "_codecs.encode": _latin1_encode,
    "torch.Size": torch.Size,
    "torch.device": torch.device,
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type,
}
_PLACEHOLDERS: dict[str, type[PickledObject]] = {}
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}
_DTYPES = {name: v for name, v in vars(torch).items() if isinstance(v, torch.dtype)}


def placeholder_class(qualified_name: str) -> type[PickledObject]:
    """The (cached) inert :class:`PickledObject` subclass standing for ``qualified_name``."""
    if qualified_name not in _PLACEHOLDERS:
        cls_name = qualified_name.rsplit(".", 1)[-1] or "Unknown"
        _PLACEHOLDERS[qualified_name] = type(cls_name, (PickledObject,),
                                             {"qualified_name": qualified_name})
    return _PLACEHOLDERS[qualified_name]


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves globals only from an explicit table (see module docstring)."""

    def __init__(self, file: Any, storage_loader: Any = None):
        super().__init__(file, encoding="utf-8")
        self._storage_loader = storage_loader

    def find_class(self, module: str, name: str) -> Any:
        module = _PY2_MODULES.get(module, module)  # protocol-2 pickles name Python 2 modules
        full = f"{module}.{name}"
        if full in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[full]
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch.storage" and name == "UntypedStorage":
            return _StorageType(torch.uint8)
        if module == "torch" and name in _DTYPES:
            return _DTYPES[name]
        return placeholder_class(full)

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] in ("storage", b"storage")
                and self._storage_loader is not None):
            return placeholder_class("persistent_id")(pid)
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unknown storage type in persistent id {pid!r}")
        storage = self._storage_loader(str(key), storage_type.dtype, int(numel))
        view = pid[5] if len(pid) > 5 else None
        if view is not None:  # legacy view: (view_key, offset, numel) in elements
            _, offset, view_numel = view
            return _Storage(storage.flat[int(offset):int(offset) + int(view_numel)])
        return storage


def _element_size(dtype: torch.dtype) -> int:
    return torch.empty(0, dtype=dtype).element_size()


def _load_zip(path: str | os.PathLike) -> Any:
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
        if len(pickles) != 1:
            raise pickle.UnpicklingError(f"expected one data.pkl in the archive, got {pickles}")
        prefix = pickles[0][: -len("data.pkl")]
        if f"{prefix}byteorder" in archive.namelist() and \
                archive.read(f"{prefix}byteorder") != b"little":
            raise pickle.UnpicklingError("big-endian checkpoints are not supported")
        storages: dict[str, _Storage] = {}

        def load_storage(key: str, dtype: torch.dtype, numel: int) -> _Storage:
            if key not in storages:
                record = archive.getinfo(f"{prefix}data/{key}")
                if record.compress_type != zipfile.ZIP_STORED:  # torch never compresses
                    raise pickle.UnpicklingError(f"storage {key} is compressed")
                raw = bytearray(archive.read(record))
                if len(raw) < numel * _element_size(dtype):
                    raise pickle.UnpicklingError(f"storage {key} is truncated")
                flat = torch.frombuffer(raw, dtype=dtype, count=numel) if numel else \
                    torch.empty(0, dtype=dtype)
                storages[key] = _Storage(flat)
            return storages[key]

        data = io.BytesIO(archive.read(pickles[0]))
        return RestrictedUnpickler(data, load_storage).load()


def _load_legacy(path: str | os.PathLike) -> Any:
    file_size = os.path.getsize(path)
    with open(path, "rb") as f:
        if RestrictedUnpickler(f).load() != LEGACY_MAGIC:
            raise pickle.UnpicklingError("not a torch.save file (bad magic number)")
        if RestrictedUnpickler(f).load() != LEGACY_PROTOCOL:
            raise pickle.UnpicklingError("unsupported legacy protocol version")
        sys_info = RestrictedUnpickler(f).load()
        if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
            raise pickle.UnpicklingError("big-endian checkpoints are not supported")
        storages: dict[str, _Storage] = {}

        def new_storage(key: str, dtype: torch.dtype, numel: int) -> _Storage:
            if key not in storages:
                if not 0 <= numel * _element_size(dtype) <= file_size:
                    raise pickle.UnpicklingError(f"storage {key} is larger than the file")
                storages[key] = _Storage(torch.empty(numel, dtype=dtype))
            return storages[key]

        result = RestrictedUnpickler(f, new_storage).load()
        for key in RestrictedUnpickler(f).load():
            if str(key) not in storages:
                raise pickle.UnpicklingError(f"storage {key} is not referenced by the pickle")
            flat = storages[str(key)].flat
            header = f.read(8)
            if len(header) != 8:
                raise pickle.UnpicklingError("file ends before the storage data")
            (numel,) = struct.unpack("<q", header)
            nbytes = numel * flat.element_size()
            if numel != flat.numel():
                raise pickle.UnpicklingError(f"storage {key} has {numel} elements, "
                                             f"expected {flat.numel()}")
            raw = bytearray(f.read(nbytes))
            if len(raw) != nbytes:
                raise pickle.UnpicklingError(f"storage {key} is truncated")
            if numel:
                flat.copy_(torch.frombuffer(raw, dtype=flat.dtype))
        return result


def restricted_load(path: str | os.PathLike) -> Any:
    """Load a ``torch.save`` file (zip or legacy) with :class:`RestrictedUnpickler`.

    Tensors come back on the CPU. Raises :class:`pickle.UnpicklingError` (or ``EOFError``,
    ``zipfile.BadZipFile``) for malformed files; never executes code from the file.
    """
    if zipfile.is_zipfile(path):
        return _load_zip(path)
    return _load_legacy(path)


def to_plain(obj: Any) -> Any:
    """Recursively turn placeholders and OrderedDicts into plain dicts/lists (e.g. a CfgNode)."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj
