"""The models the page finds in a folder, and the model shelf's errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdepth.errors import PackdepthError
from packdepth.web.models import ModelShelf, find_models


def test_find_models_kinds_depth_and_links(tmp_path: Path, web_models: Path) -> None:
    (tmp_path / "runs" / "x" / "model").mkdir(parents=True)
    (tmp_path / "runs" / "x" / "model" / "depth_net.safetensors").write_bytes(b"")
    (tmp_path / "runs" / "x" / "model" / "inner").mkdir()  # nothing below a model is searched
    (tmp_path / "runs" / "x" / "model" / "inner" / "depth_net.safetensors").write_bytes(b"")
    (tmp_path / "mono").mkdir()
    for name in ("encoder.pth", "depth.pth"):
        (tmp_path / "mono" / name).write_bytes(b"")
    (tmp_path / "official.ckpt").write_bytes(b"")
    (tmp_path / "a" / "b" / "c" / "d").mkdir(parents=True)  # below MAX_DEPTH: not searched
    (tmp_path / "a" / "b" / "c" / "d" / "deep.ckpt").write_bytes(b"")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "depth_net.safetensors").write_bytes(b"")
    (tmp_path / "linked").symlink_to(web_models / "b", target_is_directory=True)
    assert list(find_models(tmp_path)) == ["linked", "mono", "official.ckpt", "runs/x/model"]
    with pytest.raises(PackdepthError, match="not a folder"):
        find_models(tmp_path / "official.ckpt")


def test_shelf_names_and_loading(web_models: Path) -> None:
    shelf = ModelShelf(web_models / "b", web_models, device="cpu")
    given = (web_models / "b").as_posix()
    assert shelf.names() == [given, "a/model"]  # b once: given, not found again
    assert shelf.get(None) is shelf.get(given)  # loaded once
    assert shelf.get(given).metric and not shelf.get("a/model").metric
    with pytest.raises(KeyError):
        shelf.get("nope")
