"""The name ``shipped``: the model inside the package wherever a MODEL is taken (Python, every
command, fit's default init, serve's default), a real path of that name winning, and one line
when the package has no weights file. Uses the stand-in of ``conftest.py``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import packdepth
from packdepth.cli import build_parser, main
from packdepth.commands.serve import default_models
from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import check_model_files, load_model, model_files, save_model
from packdepth.networks import PackNetSmall, PoseNet
from packdepth.training.fit import fit_config, init_model
from packdepth.web.models import ModelShelf
from packdepth.weights import SHIPPED_FILE, resolve_model_path, shipped_model_dir
from tests.cli_checks import one_line_error

IMAGE = torch.rand(1, 3, 32, 64, generator=torch.Generator().manual_seed(2))


def test_the_name_resolves_to_the_shipped_folder(stand_in: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert shipped_model_dir() == stand_in
    assert resolve_model_path("shipped") == resolve_model_path(Path("shipped")) == stand_in
    assert resolve_model_path("Shipped") == Path("Shipped")  # only the name itself
    assert resolve_model_path("runs/x") == Path("runs/x")
    assert model_files("shipped") == [("depth", stand_in / SHIPPED_FILE)]
    check_model_files("shipped")  # fit/train --init: depth only, no pose net
    expected = load_model(stand_in / SHIPPED_FILE)
    with torch.no_grad():
        truth = expected(IMAGE)[0]
        assert torch.equal(load_model("shipped")(IMAGE)[0], truth)
        for model in (packdepth.load("shipped", device="cpu"), packdepth.load(device="cpu")):
            assert model.source == str(stand_in) and model.pose_net is None
            assert model.size == (32, 64)  # recorded in the file's info
            torch.testing.assert_close(model.depth_net(IMAGE)[0], truth, rtol=1e-5, atol=1e-6)


def test_a_real_path_named_shipped_wins(stand_in: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    save_model(PackNetSmall("A"), tmp_path / "shipped" / "depth_net.safetensors")
    assert resolve_model_path("shipped") == Path("shipped")
    assert load_model("shipped").config["version"] == "A"  # the stand-in is a version B
    assert packdepth.load("shipped", device="cpu").source == "shipped"
    assert load_model(stand_in).config["version"] == "B"


def test_every_command_says_in_one_line_that_the_shipped_model_is_missing(
        no_shipped: Path, tmp_path: Path, capsys) -> None:
    image = tmp_path / "frame.png"
    Image.fromarray(np.full((32, 64, 3), 128, np.uint8)).save(image)
    cam = tmp_path / "cam.yaml"
    cam.write_text("fx: 50.0\nfy: 50.0\ncx: 31.5\ncy: 15.5\n")
    split = tmp_path / "split.txt"
    split.write_text("2011_09_26/2011_09_26_drive_0001_sync 0 l\n")
    out = tmp_path / "out"
    missing = str(no_shipped / SHIPPED_FILE)
    for args in (["infer", "shipped", str(image), "--out", str(out)],
                 ["navmap", str(image), "--model", "shipped", "--out", str(out)],
                 ["pointcloud", str(image), "--model", "shipped", "--out", str(out / "x.ply"),
                  "--intrinsics", str(cam)],
                 ["refine", str(image), "--model", "shipped", "--out", str(out)],
                 ["export", "shipped", "--onnx", str(out / "d.onnx")],
                 ["eval", "--checkpoint", "shipped", "--data", str(tmp_path), "--split",
                  str(split)],
                 ["serve", "--model", "shipped", "--port", "0"],
                 ["fit", str(tmp_path), "--out", str(out)]):  # fit's default --init
        assert main(args) == 2, args
        one_line_error(capsys, missing, "the shipped model ('shipped') is missing",
                       "fit: --init none trains from scratch")
        assert not out.exists(), args
    with pytest.raises(PackdepthError, match="is missing"):
        packdepth.load()


def test_infer_takes_the_name(stand_in: Path, tmp_path: Path, capsys) -> None:
    image = tmp_path / "frame.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 80, 3), np.uint8)).save(image)
    assert main(["infer", "shipped", str(image), "--out", str(tmp_path / "o"), "--device", "cpu",
                 "--save", "npz"]) == 0
    depth = np.load(tmp_path / "o" / "frame.npz")["depth"]
    truth = packdepth.predict(packdepth.load(stand_in, device="cpu"), image).depth
    assert depth.shape == (40, 80)
    np.testing.assert_allclose(depth, truth, rtol=1e-5)


def test_fit_starts_from_the_shipped_model_unless_init_none(stand_in: Path, tmp_path) -> None:
    cfg = fit_config(tmp_path, tmp_path / "o", minutes=1, size=(32, 64))
    assert cfg.model.init == str(stand_in)
    assert cfg.loss.anchor_weight == 0.1 and cfg.loss.prior_weight == 0  # recipe anchored
    assert cfg.optim.pose_lr == 1e-3  # the shipped folder has no pose net: a new one, faster
    run = tmp_path / "full"  # a model with its pose net keeps the anchored recipe's rate
    save_model(PackNetSmall("A"), run / "depth_net.safetensors")
    save_model(PoseNet(), run / "pose_net.safetensors")
    cfg = fit_config(tmp_path, tmp_path / "o", minutes=1, size=(32, 64), init=str(run))
    assert cfg.optim.pose_lr is None
    for scratch in ("none", "None", "NONE", None):
        cfg = fit_config(tmp_path, tmp_path / "o", minutes=1, size=(32, 64), init=scratch)
        assert cfg.model.init is None
        assert cfg.loss.anchor_weight == 0 and cfg.loss.prior_weight == 0.1  # from_scratch
        assert cfg.optim.pose_lr == 1e-3
    assert init_model("runs/x/model") == "runs/x/model"
    parse = build_parser().parse_args
    assert parse(["fit", "v.mp4", "--out", "o"]).init == "shipped"
    assert parse(["fit", "v.mp4", "--out", "o", "--init", "NONE"]).init == "NONE"


def test_serve_offers_the_shipped_model_first_by_default(stand_in: Path, tmp_path,
                                                         monkeypatch) -> None:
    import packdepth.commands.serve as serve

    monkeypatch.setattr(serve, "DEFAULT_MODELS_DIR", tmp_path / "demo_out")
    assert default_models(None, None) == ("shipped", None)
    (tmp_path / "demo_out").mkdir()
    assert default_models(None, None) == ("shipped", tmp_path / "demo_out")
    assert default_models(Path("m"), None) == (Path("m"), None)  # as given
    shelf = ModelShelf("shipped", None, device="cpu")
    assert shelf.names() == ["shipped"] and shelf.paths["shipped"] == stand_in


def test_serve_without_any_model_is_one_line(no_shipped: Path, tmp_path, monkeypatch) -> None:
    import packdepth.commands.serve as serve

    monkeypatch.setattr(serve, "DEFAULT_MODELS_DIR", tmp_path / "demo_out")
    with pytest.raises(PackdepthError, match=r"^no model: pass --model MODEL or --models-dir "
                                             r"DIR \(this install has no shipped model"):
        default_models(None, None)
    (tmp_path / "demo_out").mkdir()
    assert default_models(None, None) == (None, tmp_path / "demo_out")
