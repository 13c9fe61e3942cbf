"""Counts in printed lines agree with their nouns."""

from __future__ import annotations

from packdepth.text import plural


def test_plural_agrees_with_the_count():
    assert plural(1, "frame") == "1 frame"
    assert [plural(n, "step") for n in (0, 2)] == ["0 steps", "2 steps"]
    assert plural(1, "unreadable input") == "1 unreadable input"
    assert plural(1, "process", "processes") == "1 process"
    assert plural(3, "process", "processes") == "3 processes"


def test_infer_summary_of_one_frame_is_singular(tmp_path, capsys):
    """``infer`` on one image: "1 frame of 1 input: 2 files", not "1 frames of 1 inputs"."""
    import torch
    from PIL import Image

    from packdepth.cli import main
    from packdepth.io.checkpoints import DEPTH_FILE, save_models
    from packdepth.networks import ResNetDepth

    torch.manual_seed(0)
    save_models([(ResNetDepth(18).eval(), tmp_path / "m" / DEPTH_FILE, None,
                  {"height": 64, "width": 96})])
    Image.new("RGB", (96, 64), (90, 120, 150)).save(tmp_path / "a.png")
    assert main(["infer", str(tmp_path / "m"), str(tmp_path / "a.png"),
                 "--out", str(tmp_path / "o")]) == 0
    assert " for 1 frame of 1 input: 2 files in " in capsys.readouterr().out
