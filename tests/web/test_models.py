"""The models the page finds in a folder (each once), and the model shelf's errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from packdepth.errors import PackdepthError
from packdepth.web.models import ModelShelf, find_models
from tests.inference.conftest import save_model_dir


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


def test_same_model_offered_once_and_lightning_checkpoints_skipped(tmp_path: Path) -> None:
    """``make demo``'s layout: ``model/``, its byte-identical copy ``run/model/`` and the run's
    Lightning checkpoints → the model once, under the shorter name; another model stays."""
    import torch

    save_model_dir(tmp_path / "model", pose=False)
    shutil.copytree(tmp_path / "model", tmp_path / "run" / "model")
    (tmp_path / "run" / "checkpoints").mkdir()
    torch.save({"pytorch-lightning_version": "2.4.0", "state_dict": {}},
               tmp_path / "run" / "checkpoints" / "last.ckpt")
    shutil.copytree(tmp_path / "model", tmp_path / "other")
    with open(tmp_path / "other" / "depth_net.safetensors", "r+b") as f:  # same size,
        f.seek(-4, 2)  # another last weight
        last = f.read(4)
        f.seek(-4, 2)
        f.write(bytes(255 - b for b in last))
    assert list(find_models(tmp_path)) == ["model", "other"]
    shelf = ModelShelf(tmp_path / "run" / "model", tmp_path, device="cpu")
    assert shelf.names() == [(tmp_path / "run" / "model").as_posix(), "other"]  # given: kept
    (tmp_path / "run" / "model" / "depth_net.safetensors").write_bytes(b"changed")
    assert list(find_models(tmp_path)) == ["model", "other", "run/model"]
