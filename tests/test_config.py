"""The typed config loader: YAML, dotted overrides and one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from packdepth.config import apply_overrides, from_dict, load_config, to_dict
from packdepth.errors import PackdepthError


@dataclass
class Optim:
    lr: float = 1e-4
    milestones: list[int] = field(default_factory=lambda: [10])


@dataclass
class Root:
    name: str = "run"
    kind: Literal["a", "b"] = "a"
    steps: int | None = None
    flag: bool = False
    optim: Optim = field(default_factory=Optim)


def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\noptim:\n  lr: 0.001\n")
    cfg = load_config(Root, path, ["optim.milestones=[3, 5]", "steps=7", "kind=b", "flag=true"])
    assert cfg == Root(name="x", kind="b", steps=7, flag=True, optim=Optim(1e-3, [3, 5]))
    assert from_dict(Root, to_dict(cfg)) == cfg
    assert load_config(Root, None, ["optim.lr=2"]).optim.lr == 2.0  # ints widen to float
    assert load_config(Root, None, ["optim.lr=1e-3"]).optim.lr == 1e-3  # YAML 1.1 string


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["optim.lrr=1"], "unknown config key optim.lrr"),
        (["steps=abc"], "steps: expected int"),
        (["kind=c"], "kind: 'c' is not one of 'a', 'b'"),
        (["flag=3"], "flag: expected true/false"),
        (["optim=3"], "optim: expected a mapping"),
        (["nokey"], "expected key=value"),
    ],
)
def test_bad_values_name_the_key(overrides, message):
    with pytest.raises(PackdepthError, match=message):
        load_config(Root, None, overrides)


def test_bad_files(tmp_path):
    with pytest.raises(PackdepthError, match="config file not found"):
        load_config(Root, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n")
    with pytest.raises(PackdepthError, match=r"bad\.yaml: not valid YAML"):
        load_config(Root, bad)
    bad.write_text("- 1\n")
    with pytest.raises(PackdepthError, match="expected a mapping at the top level"):
        load_config(Root, bad)


def test_override_into_new_section():
    assert apply_overrides({}, ["a.b.c=1"]) == {"a": {"b": {"c": 1}}}
