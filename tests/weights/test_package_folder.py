"""What ``packdepth/weights`` really holds: at most ``SIZE_LIMIT`` bytes, float16 depth networks
only, each folder's ``MODEL_CARD.md`` naming its files (bytes and SHA-256), and ``shipped``
loading. Reads whatever weights file is there; without one (a checkout before the release adds
it) it skips with the reason, and fails under CI (tests/conftest.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import safetensors
import torch

import packdepth.weights as weights
from packdepth.io.checkpoints import load_model
from tests.conftest import skip_missing

FOLDER = Path(weights.__file__).resolve().parent


@pytest.fixture(scope="module")
def shipped_file() -> Path:
    file = weights.SHIPPED_DIR / weights.SHIPPED_FILE
    if not file.is_file():
        skip_missing(f"needs the shipped model at {file}: bench/ship_model.py writes it "
                     "(packdepth/weights/__init__.py)")
    return file


def _files() -> list[Path]:
    return sorted(p for p in FOLDER.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def test_the_weights_folder_is_small_and_holds_models_and_cards(shipped_file: Path) -> None:
    files = _files()
    assert sum(p.stat().st_size for p in files) <= weights.SIZE_LIMIT
    for p in files:
        rel = p.relative_to(FOLDER)
        assert rel == Path("__init__.py") or (
            len(rel.parts) == 2 and (p.suffix == ".safetensors" or p.name == "MODEL_CARD.md")), rel


def test_every_tensor_is_float16_and_every_file_is_on_its_card(shipped_file: Path) -> None:
    models = [p for p in _files() if p.suffix == ".safetensors"]
    assert shipped_file in models
    for model in models:
        with safetensors.safe_open(str(model), framework="pt") as f:
            dtypes = {k: f.get_slice(k).get_dtype() for k in f.keys()}  # noqa: SIM118
        others = {k: v for k, v in dtypes.items() if v != "F16"}
        assert all(k.endswith("num_batches_tracked") for k in others), (model, others)
        card = model.parent / "MODEL_CARD.md"
        assert card.is_file(), card
        text = card.read_text()
        digest = hashlib.sha256(model.read_bytes()).hexdigest()
        line = next((ln for ln in text.splitlines() if ln.startswith(f"| {model.name} |")), "")
        assert str(model.stat().st_size) in line and digest in line, (card, model.name)
        assert "Protocol: " in text, card  # its scores say how they were measured


def test_shipped_loads_as_a_float32_depth_network(shipped_file: Path) -> None:
    net = load_model("shipped", kind="depth")
    assert {p.dtype for p in net.parameters()} == {torch.float32}
    assert not (shipped_file.parent / "pose_net.safetensors").exists()  # depth only
    with torch.no_grad():
        inv_depth = net(torch.rand(1, 3, 64, 128, generator=torch.Generator().manual_seed(0)))[0]
    assert inv_depth.shape == (1, 1, 64, 128) and torch.isfinite(inv_depth).all()
    assert (inv_depth > 0).all()


def test_shipped_beats_a_constant_depth_on_real_kitti_streets(shipped_file: Path,
                                                              kitti_annotated: Path) -> None:
    """The card's claim on real data: on KITTI's annotated depth of 3 frames from other drives
    than kitti_tiny (Garg crop, 80 m, median scaling), the shipped model is far better than a
    constant depth (measured 0.277 vs 0.475, bench/zero_shot.py)."""
    import json

    import numpy as np

    from packdepth.data.kitti.layout import read_depth_png
    from packdepth.evaluation.depth import load_image, predict_depth
    from packdepth.evaluation.metrics import depth_metrics

    net = load_model("shipped", kind="depth")
    model, constant = [], []
    for item in json.loads((kitti_annotated / "test_annotations.json").read_text())["files"]:
        gt = read_depth_png(kitti_annotated / item["depth"], scale=item["depth_scale"])
        pred = predict_depth(net, load_image(kitti_annotated / item["rgb"])[None], size=(96, 320))
        kw = dict(crop="garg", min_depth=1e-3, max_depth=80.0, median_scaling=True)
        model.append(depth_metrics(pred[0, 0], gt, **kw)["abs_rel"])
        constant.append(depth_metrics(np.full(gt.shape, 10.0, np.float32), gt, **kw)["abs_rel"])
    assert np.mean(constant) > 0.45
    assert np.mean(model) < 0.30 < np.mean(constant) - 0.15
