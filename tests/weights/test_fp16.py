"""float16 storage: save_model(dtype=float16) and bench/ship_model.py against the float32
network they came from (its outputs, its tensors rounded to float16, its metadata)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import stat
import sys
from pathlib import Path

import pytest
import safetensors
import torch

from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import load_model, read_model_info, save_model
from packdepth.networks import PoseNet, ResNetDepth
from tests.io.conftest import _randomise_norms

ROOT = Path(__file__).resolve().parents[2]
IMAGE = torch.rand(1, 3, 48, 96, generator=torch.Generator().manual_seed(1))


@pytest.fixture(scope="module")
def fp32_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    """A random ResNetDepth 18 (BatchNorm statistics randomised too) saved in float32, beside a
    pose net, as a run's model folder holds them."""
    torch.manual_seed(0)
    net = _randomise_norms(ResNetDepth(18)).eval()
    folder = tmp_path_factory.mktemp("fp32") / "model"
    save_model(net, folder / "depth_net.safetensors", info={"height": 48, "width": 96})
    save_model(PoseNet(), folder / "pose_net.safetensors")
    return net, folder


def _dtypes(path: Path) -> dict[str, torch.dtype]:
    with safetensors.safe_open(str(path), framework="pt") as f:
        return {k: f.get_slice(k).get_dtype() for k in f.keys()}  # noqa: SIM118


def test_float16_file_loads_into_the_float32_network(fp32_model, tmp_path: Path) -> None:
    net, folder = fp32_model
    half = tmp_path / "half.safetensors"
    save_model(net, half, info={"height": 48, "width": 96}, dtype=torch.float16)
    stored = _dtypes(half)
    assert {v for k, v in stored.items() if not k.endswith("num_batches_tracked")} == {"F16"}
    assert {v for k, v in stored.items() if k.endswith("num_batches_tracked")} == {"I64"}
    full = (folder / "depth_net.safetensors").stat().st_size
    assert 0.49 < half.stat().st_size / full < 0.51
    assert read_model_info(half) == (net.config, {"height": 48, "width": 96})

    loaded = load_model(half)
    for (name, mine), theirs in zip(loaded.state_dict().items(), net.state_dict().values()):
        if theirs.is_floating_point():  # float32 again, holding the float16-rounded values
            assert mine.dtype == torch.float32 and torch.equal(mine, theirs.half().float()), name
        else:
            assert torch.equal(mine, theirs), name
    with torch.no_grad():
        a, b = net(IMAGE)[0], loaded(IMAGE)[0]
    assert a.dtype == b.dtype == torch.float32 and not torch.equal(a, b)
    torch.testing.assert_close(b, a, rtol=5e-3, atol=0)  # float16 rounding of the weights


def test_saved_models_keep_the_umasks_permissions(fp32_model, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        save_model(fp32_model[0], tmp_path / "m.safetensors", dtype=torch.float16)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.safetensors").stat().st_mode) == 0o644


def _ship_module():
    spec = importlib.util.spec_from_file_location("ship_model", ROOT / "bench" / "ship_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FACTS = {"training_data": "synthetic streets, 8 sequences", "steps": 1234, "minutes": 42.5,
         "recipe": "packdepth train packdepth/configs/synthetic_cpu.yaml",
         "scores": [{"title": "held-out street", "protocol": "crop none, median scaling",
                     "columns": ["prediction", "abs_rel"], "rows": [["model", 0.1234]]},
                    "results.json"]}


def _ship(tmp_path: Path, model: Path, facts: dict, monkeypatch, *extra: str) -> int:
    (tmp_path / "card.json").write_text(json.dumps(facts))
    report = {"report": {"title": "kitti_tiny fit", "protocol": "crop garg, 80 m cap",
                         "columns": ["prediction", "abs_rel"], "rows": [["fitted", 0.2]],
                         "command": "bench/fit_kitti.py", "commit": "abc"}}
    (tmp_path / "results.json").write_text(json.dumps(report))
    monkeypatch.setattr(sys, "argv", ["ship_model.py", str(model), "--card",
                                      str(tmp_path / "card.json"), *extra])
    return _ship_module().main()


def test_ship_model_writes_the_float16_file_and_its_card(fp32_model, tmp_path, monkeypatch,
                                                         capsys) -> None:
    net, folder = fp32_model
    assert (folder / "pose_net.safetensors").is_file()  # only the depth net is shipped
    out = tmp_path / "streets"
    assert _ship(tmp_path, folder, FACTS, monkeypatch, "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["MODEL_CARD.md", "depth_net.safetensors"]
    file = out / "depth_net.safetensors"
    assert read_model_info(file) == (net.config, {"height": 48, "width": 96,
                                                  "stored_dtype": "float16"})
    assert "F32" not in _dtypes(file).values()
    with torch.no_grad():
        torch.testing.assert_close(load_model(out)(IMAGE)[0], net(IMAGE)[0], rtol=5e-3, atol=0)
    card = (out / "MODEL_CARD.md").read_text()
    for fact in ("depth_net.safetensors", str(file.stat().st_size),
                 hashlib.sha256(file.read_bytes()).hexdigest(), "synthetic streets, 8 sequences",
                 "1234", "42.5 minutes", "`packdepth train packdepth/configs/synthetic_cpu.yaml`",
                 "Protocol: crop none, median scaling", "| model | 0.123 |",
                 "### kitti_tiny fit", "Protocol: crop garg, 80 m cap", "| fitted | 0.200 |",
                 "Command: `bench/fit_kitti.py`"):
        assert fact in card, fact
    assert "reloaded depth within" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "message"), [
    ({"steps": "many"}, "'steps' has the wrong type"),
    ({"minutes": None}, "'minutes' has the wrong type"),
    ({"scores": [{"title": "t", "rows": []}]}, "each score needs title, protocol, columns"),
    ({"scors": []}, "unknown key 'scors'"),
])
def test_bad_card_facts_are_one_line_and_write_nothing(fp32_model, tmp_path, monkeypatch, capsys,
                                                       change, message) -> None:
    out = tmp_path / "streets"
    assert _ship(tmp_path, fp32_model[1], {**FACTS, **change}, monkeypatch, "--out",
                 str(out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ship_model: error: {tmp_path / 'card.json'}")
    assert message in err and not out.exists()


def test_a_model_over_the_size_limit_is_refused(fp32_model, tmp_path, monkeypatch) -> None:
    module = _ship_module()
    monkeypatch.setattr(module, "SIZE_LIMIT", 10_000_000)  # ResNetDepth 18: 28.6 MB in float16
    with pytest.raises(PackdepthError, match=r"28\.\d MB in float16, over the 10 MB"):
        module.ship(fp32_model[1], module.read_facts(_facts_file(tmp_path)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _facts_file(tmp_path: Path) -> Path:
    facts = {**FACTS, "scores": FACTS["scores"][:1]}
    (tmp_path / "card.json").write_text(json.dumps(facts))
    return tmp_path / "card.json"
