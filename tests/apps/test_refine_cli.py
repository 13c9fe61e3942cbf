"""``packdepth refine`` end to end: depth files + images, a model + images, bad inputs (exit 2,
one line, nothing written)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import packdepth
from packdepth.apps.crf import CRFParams, refine_depth
from packdepth.cli import main
from packdepth.data.kitti.layout import read_depth_png
from packdepth.errors import PackdepthError
from packdepth.inference.outputs import read_result, write_npz
from packdepth.inference.predict import DepthResult
from tests.apps.test_crf import blur_rows, two_regions
from tests.cli_checks import one_line_error
from tests.inference.conftest import model_dir, save_image  # noqa: F401 (fixture)
from tests.inference.test_runner import files_below

K = np.array([[160.0, 0, 159.5], [0, 160.0, 15.5], [0, 0, 1]])


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    """``scene.npz`` (a blurred depth step, metric, with K) and ``scene.png`` (red | blue)."""
    image, truth = two_regions()
    pred = (1.0 / blur_rows(1.0 / truth, 3.0)).astype(np.float32)
    write_npz(tmp_path / "in" / "scene.npz", DepthResult(pred, 1 / pred, K, True))
    (tmp_path / "img").mkdir()
    Image.fromarray(image).save(tmp_path / "img" / "scene.png")
    return tmp_path / "in" / "scene.npz", tmp_path / "img" / "scene.png", pred, image


def test_depth_file_and_image_give_every_format_with_K_and_metric_kept(pair, tmp_path, capsys):
    npz, png, pred, image = pair
    out = tmp_path / "out"
    assert main(["refine", str(npz), "--image", str(png), "--out", str(out), "--save",
                 "npz,png16,viz,panel", "--sigma", "0.2", "--tau", "0.1"]) == 0
    assert files_below(out) == ["scene.npz", "scene.png", "scene_depth.png", "scene_panel.png"]
    refined = read_result(out / "scene.npz")
    expected = refine_depth(pred, image, CRFParams(sigma=0.2, tau=0.1))
    np.testing.assert_array_equal(refined.depth, expected)
    assert not np.allclose(refined.depth, pred, rtol=0.05)  # it did refine
    np.testing.assert_allclose(refined.inv_depth, 1 / expected, rtol=1e-6)
    np.testing.assert_array_equal(refined.K, K)
    assert refined.metric
    np.testing.assert_allclose(read_depth_png(out / "scene.png"), expected, atol=1 / 256)
    with Image.open(out / "scene_panel.png") as panel:
        assert panel.size == (2 * 320 + 2, 32)
    assert "refined 1 depth maps" in capsys.readouterr().out


def test_a_model_predicts_first_then_refines(model_dir, tmp_path):  # noqa: F811
    image = save_image(tmp_path / "pics" / "street.png", 40, 60, seed=3)
    out = tmp_path / "out"
    assert main(["refine", str(tmp_path / "pics"), "--model", str(model_dir), "--out", str(out),
                 "--w1", "8"]) == 0
    assert files_below(out) == ["street.npz", "street_depth.png"]
    rgb = np.asarray(Image.open(image).convert("RGB"))
    predicted = packdepth.predict(packdepth.load(model_dir), rgb)
    np.testing.assert_allclose(read_result(out / "street.npz").depth,
                               refine_depth(predicted.depth, rgb, CRFParams(w1=8.0)), rtol=1e-5)


def _no_depth(tmp_path, npz, png):
    np.savez(tmp_path / "nodepth.npz", inv_depth=np.ones((32, 320), np.float32))
    return [str(tmp_path / "nodepth.npz"), "--image", str(png)], ["nodepth.npz", "no 'depth'"]


def _other_size(tmp_path, npz, png):
    save_image(tmp_path / "small.png", 30, 320)
    return [str(npz), "--image", str(tmp_path / "small.png")], \
        ["small.png", "the image is 320x30 but its depth", "320x32"]


def _missing_image(tmp_path, npz, png):
    return [str(npz)], ["--image: 0 images for 1 depth files"]


def _replaces_input(tmp_path, npz, png):
    return [str(npz), "--image", str(png), "--out", str(npz.parent)], \
        ["scene.npz", "would replace this input"]


def _bad_parameter(tmp_path, npz, png):
    return [str(npz), "--image", str(png), "--theta-alpha", "0"], ["--theta-alpha", "positive"]


@pytest.mark.parametrize("case", [_no_depth, _other_size, _missing_image, _replaces_input,
                                  _bad_parameter])
def test_bad_inputs_are_one_line_exit_2_and_nothing_is_written(case, pair, tmp_path, capsys):
    npz, png, _, _ = pair
    argv, needles = case(tmp_path, npz, png)
    out = tmp_path / "out"
    before = files_below(tmp_path)
    assert main(["refine", "--out", str(out), *argv]) == 2
    one_line_error(capsys, *needles)
    assert not out.exists() and files_below(tmp_path) == before


def test_without_the_extra_one_line_names_it(pair, tmp_path, capsys, monkeypatch):
    npz, png, _, _ = pair
    monkeypatch.setitem(sys.modules, "pydensecrf", None)  # import now fails, as when missing
    monkeypatch.setitem(sys.modules, "pydensecrf.densecrf", None)
    out = tmp_path / "out"
    assert main(["refine", str(npz), "--image", str(png), "--out", str(out)]) == 2
    one_line_error(capsys, "pydensecrf2", "pip install 'packdepth[crf]'")
    assert not out.exists()
    with pytest.raises(PackdepthError, match=r"packdepth\[crf\]"):
        refine_depth(np.ones((4, 4)), np.zeros((4, 4, 3), np.uint8))
