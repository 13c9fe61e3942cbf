"""Fixtures shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from packdepth.data.synthetic import SynthParams, render_sequence


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> Path:
    """A folder of 6 synthetic street frames (200x60 PNG) with ``cam.yaml`` beside it."""
    folder = tmp_path_factory.mktemp("frames")
    for f in render_sequence(SynthParams(height=60, width=200, frames=6, seed=7)):
        Image.fromarray(f.rgb).save(folder / f"img_{f.index}.png")
    (folder.parent / "cam.yaml").write_text("fx: 115.0\nfy: 115.0\ncx: 99.5\ncy: 29.5\n")
    return folder
