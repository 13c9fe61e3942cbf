"""The restricted unpickler: tensors exact, unknown globals inert, nothing executed."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from packdepth.io.safe_pickle import (
    PickledObject,
    RestrictedUnpickler,
    restricted_load,
    to_plain,
)
from tests.io.conftest import Evil, EvilOpen

FORMATS = pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])


def _tensors() -> dict[str, torch.Tensor]:
    base = torch.randn(4, 6)
    return {
        "float": base, "transposed": base.t(), "slice": base[1:3, 2:5],
        "double": torch.randn(3, dtype=torch.float64), "half": torch.randn(5).half(),
        "bf16": torch.randn(5).bfloat16(), "long": torch.arange(-3, 9),
        "bool": torch.tensor([True, False, True]), "byte": torch.arange(256, dtype=torch.uint8),
        "scalar": torch.tensor(3.5), "empty": torch.zeros(0, 4),
    }


@FORMATS
def test_tensors_and_containers_round_trip_exactly(tmp_path: Path, legacy: bool) -> None:
    tensors = _tensors()
    obj = {"sd": OrderedDict(tensors), "list": [1, 2.5, "x", None], "tuple": (True, b"\x00\xff"),
           "set": {1, 2}, "size": torch.Size([2, 3]), "dtype": torch.float16}
    path = tmp_path / "plain.pt"
    torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    loaded = restricted_load(path)
    assert isinstance(loaded["sd"], OrderedDict) and list(loaded["sd"]) == list(tensors)
    for key, value in tensors.items():
        got = loaded["sd"][key]
        assert got.dtype == value.dtype and got.shape == value.shape and torch.equal(got, value)
    # views of one storage still share it, as with torch.load
    assert loaded["sd"]["transposed"].data_ptr() == loaded["sd"]["float"].data_ptr()
    assert loaded["list"] == [1, 2.5, "x", None] and loaded["tuple"] == (True, b"\x00\xff")
    assert loaded["set"] == {1, 2} and loaded["size"] == torch.Size([2, 3])
    assert loaded["dtype"] is torch.float16


@FORMATS
def test_yacs_config_becomes_an_inert_dict(tmp_path: Path, fake_yacs: type, legacy: bool) -> None:
    cfg = fake_yacs({"model": fake_yacs({"depth_net": fake_yacs({"name": "PackNet01"})}),
                     "lrs": [0.1, 0.2]})
    path = tmp_path / "cfg.ckpt"
    torch.save({"config": cfg, "w": torch.ones(2)}, path, _use_new_zipfile_serialization=not legacy)
    with pytest.raises(pickle.UnpicklingError):  # why the restricted loader exists
        torch.load(path, weights_only=True)
    loaded = restricted_load(path)
    node = loaded["config"]
    assert isinstance(node, PickledObject) and not isinstance(node, fake_yacs)
    assert node.qualified_name == "yacs.config.CfgNode"
    assert node.state == {"__immutable__": True, "__new_allowed__": False}
    assert to_plain(node) == {"model": {"depth_net": {"name": "PackNet01"}}, "lrs": [0.1, 0.2]}
    assert torch.equal(loaded["w"], torch.ones(2))


@FORMATS
def test_malicious_reduce_runs_nothing(tmp_path: Path, legacy: bool) -> None:
    marker, opened = tmp_path / "pwned", tmp_path / "opened"
    path = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {"w": torch.ones(1)}, "cmd": Evil(marker),
                "open": EvilOpen(opened)}, path, _use_new_zipfile_serialization=not legacy)
    # a plain unpickler would run the command: prove the payload is live
    assert not marker.exists()
    loaded = restricted_load(path)
    assert not marker.exists() and not opened.exists()
    assert loaded["cmd"].qualified_name == f"{os.system.__module__}.system"
    assert loaded["cmd"].args == (f"touch {marker}",)
    assert loaded["open"].qualified_name.endswith(".open")
    assert torch.equal(loaded["state_dict"]["w"], torch.ones(1))


def test_payload_is_live_under_plain_pickle(tmp_path: Path) -> None:
    # control experiment for the test above: the same payload does run under pickle.loads
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Evil(marker)))
    assert marker.exists()


@pytest.mark.parametrize("payload", [
    (eval, ("__import__('os').system('false')",)),
    (exec, ("import os",)),
    (subprocess.call, (["false"],)),
    (os.popen, ("true",)),
    (__import__, ("os",)),
])
def test_dangerous_callables_become_placeholders(payload) -> None:
    class Payload:
        def __reduce__(self):
            return payload

    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        data = pickle.dumps({"x": Payload()}, protocol=protocol)
        result = RestrictedUnpickler(io.BytesIO(data)).load()["x"]
        assert isinstance(result, PickledObject)
        assert result.qualified_name.endswith(payload[0].__name__)
        assert result.args == payload[1]


def test_placeholders_cannot_be_repickled_and_storages_resolve() -> None:
    placeholder = RestrictedUnpickler(io.BytesIO(b"")).find_class("yacs.config", "CfgNode")
    with pytest.raises(pickle.PicklingError):
        pickle.dumps(placeholder())
    # GPU-saved legacy files name CUDA storage classes: they load on the CPU
    storage_type = RestrictedUnpickler(io.BytesIO(b"")).find_class("torch.cuda", "FloatStorage")
    assert storage_type.dtype == torch.float32


@pytest.mark.parametrize("cut", [0.3, 0.9])
@FORMATS
def test_truncated_files_raise(tmp_path: Path, legacy: bool, cut: float) -> None:
    path = tmp_path / "t.pt"
    torch.save({"w": torch.randn(1000)}, path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises((pickle.UnpicklingError, EOFError)):
        restricted_load(path)


class CustomDict(dict):
    """A dict subclass with attributes: pickled by NEWOBJ (no __init__) + SETITEMS + BUILD."""


def test_placeholder_built_by_newobj_has_all_fields() -> None:
    obj = CustomDict(a=1)
    obj.extra = "x"
    loaded = RestrictedUnpickler(io.BytesIO(pickle.dumps(obj, protocol=2))).load()
    assert loaded.qualified_name.endswith("test_safe_pickle.CustomDict")
    assert dict(loaded) == {"a": 1} and loaded.state == {"extra": "x"}
    assert loaded.args == () and loaded.list_items == []


def test_storage_larger_than_legacy_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(10)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    # the persistent id's element count (10) is a BININT1 right after the 'cpu' location string
    marker = b"X\x03\x00\x00\x00cpu"
    at = data.index(marker) + len(marker)
    at = data.index(b"K\x0a", at)
    path.write_bytes(data[:at] + b"J\x00\x00\x00\x40" + data[at + 2:])  # BININT 2**30
    with pytest.raises(pickle.UnpicklingError, match="larger than the file"):
        restricted_load(path)
