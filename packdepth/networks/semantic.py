"""Semantic-guided depth: one ResNet encoder, a semantic decoder and a guided depth decoder.

Composition of the monodepth2 parts: the semantic decoder is a :class:`DepthDecoder` with
``num_classes`` logit channels at full resolution; its level features (``[B,num_ch_dec[i],H/2^i,
W/2^i]``) are concatenated into the depth decoder's ``upconv_i_1`` inputs at every level (feature
fusion), so the depth heads see the semantic features. Inverse depth uses the same mapping as
:class:`~packdepth.networks.ResNetDepth`.
"""

from __future__ import annotations

from torch import Tensor, nn

from packdepth.networks.base import NUM_SCALES, DepthNet
from packdepth.networks.depth_decoder import DepthDecoder
from packdepth.networks.resnet import RESNET_MIN_SIZE, ResNetEncoder
from packdepth.networks.resnet_depth import disparity_at_depth, disparity_to_inv_depth


class SemanticDepth(DepthNet):
    """Depth + semantic segmentation sharing a ResNet encoder.

    ``forward(image)`` → the 4 inverse depths like every depth net;
    ``forward_with_semantics(image)`` → ``(inv_depths, logits [B,num_classes,H,W])`` for training.
    Any ``H, W ≥ 1`` (sides under 64 pixels are padded to 64, as in ``ResNetDepth``).
    """

    min_size = RESNET_MIN_SIZE

    def __init__(self, num_classes: int, num_layers: int = 18, min_depth: float = 0.1,
                 max_depth: float = 100.0):
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        if not 0 < min_depth < max_depth:
            raise ValueError(f"need 0 < min_depth < max_depth, got {min_depth}, {max_depth}")
        self.num_classes = num_classes
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.config = {"name": "SemanticDepth", "num_classes": num_classes,
                       "num_layers": num_layers, "min_depth": self.min_depth,
                       "max_depth": self.max_depth}
        self.encoder = ResNetEncoder(num_layers)
        enc = self.encoder.num_ch_enc
        self.semantic_decoder = DepthDecoder(enc, scales=(0,), num_output_channels=num_classes,
                                             activation="none")
        self.decoder = DepthDecoder(enc, scales=range(NUM_SCALES),
                                    guide_channels=self.semantic_decoder.num_ch_dec)

    def depth_heads(self) -> list[nn.Conv2d]:
        return self.decoder.head_convs()

    def sigmoid_at_depth(self, depth: float) -> float:
        return disparity_at_depth(depth, self.min_depth, self.max_depth)

    def _predict_both(self, image: Tensor) -> tuple[list[Tensor], Tensor]:
        features = self.encoder(image)
        (logits,), semantic_levels = self.semantic_decoder(features)
        disps, _ = self.decoder(features, guides=semantic_levels)
        inv_depths = [disparity_to_inv_depth(d, self.min_depth, self.max_depth) for d in disps]
        return inv_depths, logits

    def predict(self, image: Tensor) -> list[Tensor]:
        return self._predict_both(image)[0]

    def forward_with_semantics(self, image: Tensor) -> tuple[list[Tensor], Tensor]:
        """``[B,3,H,W]`` → (4 inverse depths ``[B,1,H/2^s,W/2^s]``, logits ``[B,C,H,W]``)."""
        padded = self.pad(image)
        inv_depths, logits = self._predict_both(padded)
        return self.crop(inv_depths, image, padded), self.crop([logits], image, padded)[0]
