"""monodepth2's depth network: ResNet encoder + multi-scale decoder.

State-dict keys are the union of monodepth2's files: ``encoder.*`` as in ``encoder.pth`` (minus the
unused ``encoder.fc.*``) and ``decoder.{0..13}.*`` as in ``depth.pth``.

The decoder's sigmoid disparity ``σ`` is mapped inside :meth:`predict` to inverse depth
``1/max_depth + (1/min_depth − 1/max_depth)·σ`` (monodepth2's ``disp_to_depth``; min 0.1, max 100),
so ``depth = 1 / inv_depth`` ∈ [min_depth, max_depth].
"""

from __future__ import annotations

from torch import Tensor, nn

from packdepth.networks.base import NUM_SCALES, DepthNet
from packdepth.networks.depth_decoder import DepthDecoder
from packdepth.networks.resnet import RESNET_MIN_SIZE, ResNetEncoder


def disparity_at_depth(depth: float, min_depth: float, max_depth: float) -> float:
    """Inverse of :func:`disparity_to_inv_depth` for one depth."""
    lo, hi = 1.0 / max_depth, 1.0 / min_depth
    return (1.0 / depth - lo) / (hi - lo)


def disparity_to_inv_depth(disp: Tensor, min_depth: float, max_depth: float) -> Tensor:
    """Sigmoid disparity in [0,1] → inverse depth in [1/max_depth, 1/min_depth]."""
    lo, hi = 1.0 / max_depth, 1.0 / min_depth
    return lo + (hi - lo) * disp


class ResNetDepth(DepthNet):
    """monodepth2 depth network (``num_layers`` 18, 34 or 50), trained from scratch.

    ``forward(image [B,3,H,W] in [0,1])`` → 4 inverse depths ``[B,1,H/2^s,W/2^s]``; any
    ``H, W ≥ 1`` (sides under 64 pixels are padded to 64, see ``RESNET_MIN_SIZE``).
    """

    min_size = RESNET_MIN_SIZE

    def __init__(self, num_layers: int = 18, min_depth: float = 0.1, max_depth: float = 100.0):
        super().__init__()
        if not 0 < min_depth < max_depth:
            raise ValueError(f"need 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.config = {"name": "ResNetDepth", "num_layers": num_layers,
                       "min_depth": self.min_depth, "max_depth": self.max_depth}
        self.encoder = ResNetEncoder(num_layers)
        self.decoder = DepthDecoder(self.encoder.num_ch_enc, scales=range(NUM_SCALES))

    def depth_heads(self) -> list[nn.Conv2d]:
        return self.decoder.head_convs()

    def sigmoid_at_depth(self, depth: float) -> float:
        return disparity_at_depth(depth, self.min_depth, self.max_depth)

    def predict(self, image: Tensor) -> list[Tensor]:
        disps, _ = self.decoder(self.encoder(image))
        return [disparity_to_inv_depth(d, self.min_depth, self.max_depth) for d in disps]
