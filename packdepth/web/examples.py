"""The bundled examples of the page: small frames of the embedded synthetic street world.

Files in ``static/examples/``: one JPEG per example and ``examples.json`` listing them with the
camera facts the page needs (intrinsics at the image's size, camera height in metres). They are
committed; ``python -m packdepth.web.examples`` renders them again (deterministic, ~10 s of CPU):
KITTI's intrinsics and camera height (:mod:`packdepth.data.synthetic`), streets the demo model
was not trained on (seeds >= 1000, the demo's held-out range).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from packdepth.io.atomic import write_bytes, write_text

EXAMPLES_DIR = Path(__file__).parent / "static" / "examples"
INDEX = "examples.json"
#: (file name, title, seed, frame, dynamic, low_light) of each example, 192x640.
RECIPES = (
    ("street.jpg", "parked cars", 1001, 12, False, False),
    ("traffic.jpg", "moving traffic", 1002, 20, True, False),
    ("dusk.jpg", "low light", 1003, 8, False, True),
)
SIZE = (192, 640)
JPEG_QUALITY = 88


@dataclass(frozen=True)
class Example:
    """One bundled image: ``file`` in :data:`EXAMPLES_DIR`, ``title``, ``K`` ``[3,3]`` pixels at
    its size, ``camera_height`` metres above the road."""

    file: str
    title: str
    K: np.ndarray
    camera_height: float

    @property
    def path(self) -> Path:
        return EXAMPLES_DIR / self.file

    def as_dict(self) -> dict:
        """JSON for the page: name, title, the image's URL, camera height."""
        return {"name": self.file, "title": self.title, "url": f"/static/examples/{self.file}",
                "camera_height": self.camera_height}


def list_examples(folder: Path = EXAMPLES_DIR) -> dict[str, Example]:
    """The examples of ``folder/examples.json`` by file name (empty when there is none)."""
    index = folder / INDEX
    if not index.is_file():
        return {}
    entries = json.loads(index.read_text())
    return {e["file"]: Example(e["file"], e["title"], np.array(e["K"], dtype=np.float64),
                               float(e["camera_height"])) for e in entries}


def render_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    """Render :data:`RECIPES` into ``folder`` (JPEGs + ``examples.json``); returns the files."""
    from PIL import Image

    from packdepth.data.synthetic import (
        SynthParams,
        kitti_intrinsics,
        render_frame,
        sequence_world,
    )

    h, w = SIZE
    folder.mkdir(parents=True, exist_ok=True)
    entries, files = [], []
    for name, title, seed, index, dynamic, dim in RECIPES:
        params = SynthParams(height=h, width=w, frames=index + 1, seed=seed, dynamic=dynamic,
                             low_light=dim)
        frame = render_frame(sequence_world(params), params, index)
        buffer = io.BytesIO()
        Image.fromarray(frame.rgb).save(buffer, "JPEG", quality=JPEG_QUALITY)
        write_bytes(folder / name, buffer.getvalue())
        files.append(folder / name)
        entries.append({"file": name, "title": title, "seed": seed, "frame": index,
                        "K": np.round(kitti_intrinsics(h, w), 6).tolist(),
                        "camera_height": params.camera_height})
    write_text(folder / INDEX, json.dumps(entries, indent=1) + "\n")
    return [*files, folder / INDEX]


if __name__ == "__main__":
    for path in render_examples():
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
