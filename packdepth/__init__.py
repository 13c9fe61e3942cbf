"""packdepth: self-supervised monocular depth and ego-motion from video.

PackNet's 3D packing networks and the monodepth2 recipe, tested and fast on CPU.

Depth for your own images in three lines (the heavy modules load on first use)::

    import packdepth
    model = packdepth.load()                       # the shipped model, or any MODEL form
                                                   # `packdepth infer` accepts
    result = packdepth.predict(model, "frame.png")  # result.depth: [H,W] float32
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Names served lazily from :mod:`packdepth.inference` (importing packdepth stays light).
_LAZY = ("load", "predict", "Model", "DepthResult")

if TYPE_CHECKING:
    from packdepth.inference import DepthResult, Model, load, predict

__all__ = ["DepthResult", "Model", "__version__", "load", "predict"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import packdepth.inference as inference

        return getattr(inference, name)
    raise AttributeError(f"module 'packdepth' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
