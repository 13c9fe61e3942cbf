"""ResNet-18/34/50 feature encoder with torchvision's parameter names (no classifier head).

Keys are ``conv1``, ``bn1``, ``layerN.M.{conv,bn}K`` and ``layerN.0.downsample.{0,1}``, exactly as
in torchvision's ``resnet*`` minus ``fc``; monodepth2's ``encoder.pth`` stores the same keys under
``encoder.`` (plus the unused ``encoder.fc.*``). ``num_input_images`` stacks frames on the
channel axis (monodepth2's pose encoder uses 2, i.e. a 6-channel ``conv1``).
"""

from __future__ import annotations

from torch import Tensor, nn

IMAGENET_MEAN, IMAGENET_STD = 0.45, 0.225  # monodepth2's input normalisation
#: The smallest image side a ResNet depth net runs on as is: layer4 (H/32) is then at least 2x2,
#: which the decoder's reflection padding and training-mode BatchNorm at batch size 1 need.
#: Smaller images are padded up to it (:attr:`packdepth.networks.DepthNet.min_size`).
RESNET_MIN_SIZE = 64


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels)


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a residual connection (ResNet-18/34)."""

    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, planes, 3, stride), _bn(planes)
        self.conv2, self.bn2 = _conv(planes, planes, 3), _bn(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):
    """1x1 → 3x3 (stride) → 1x1 (×4 width) with a residual connection (ResNet-50)."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int = 1,
                 downsample: nn.Module | None = None):
        super().__init__()
        self.conv1, self.bn1 = _conv(cin, planes, 1), _bn(planes)
        self.conv2, self.bn2 = _conv(planes, planes, 3, stride), _bn(planes)
        self.conv3, self.bn3 = _conv(planes, planes * 4, 1), _bn(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


RESNET_SPECS: dict[int, tuple[type[BasicBlock] | type[Bottleneck], tuple[int, int, int, int]]] = {
    18: (BasicBlock, (2, 2, 2, 2)),
    34: (BasicBlock, (3, 4, 6, 3)),
    50: (Bottleneck, (3, 4, 6, 3)),
}


class ResNetEncoder(nn.Module):
    """ResNet trunk returning monodepth2's 5 feature maps.

    ``forward(x [B,3·num_input_images,H,W] in [0,1])`` normalises with (x − 0.45)/0.225 and returns
    ``[relu(bn1(conv1)) at H/2, layer1 at H/4, layer2 at H/8, layer3 at H/16, layer4 at H/32]``
    with channels ``num_ch_enc`` (64, 64, 128, 256, 512; ×4 after the stem for ResNet-50).
    """

    def __init__(self, num_layers: int = 18, num_input_images: int = 1):
        super().__init__()
        if num_layers not in RESNET_SPECS:
            raise ValueError(f"ResNet depth must be one of {sorted(RESNET_SPECS)}, "
                             f"got {num_layers}")
        block, counts = RESNET_SPECS[num_layers]
        self.num_layers, self.num_input_images = num_layers, num_input_images
        self.conv1 = nn.Conv2d(3 * num_input_images, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = _bn(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        cin = 64
        for i, (planes, count) in enumerate(zip((64, 128, 256, 512), counts), start=1):
            stride = 1 if i == 1 else 2
            layer, cin = self._make_layer(block, cin, planes, count, stride)
            setattr(self, f"layer{i}", layer)
        self.num_ch_enc = [64] + [p * block.expansion for p in (64, 128, 256, 512)]
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @staticmethod
    def _make_layer(block: type[BasicBlock] | type[Bottleneck], cin: int, planes: int,
                    count: int, stride: int) -> tuple[nn.Sequential, int]:
        cout = planes * block.expansion
        downsample = None
        if stride != 1 or cin != cout:
            downsample = nn.Sequential(_conv(cin, cout, 1, stride), _bn(cout))
        blocks = [block(cin, planes, stride, downsample)]
        blocks += [block(cout, planes) for _ in range(count - 1)]
        return nn.Sequential(*blocks), cout

    def forward(self, x: Tensor) -> list[Tensor]:
        x = (x - IMAGENET_MEAN) / IMAGENET_STD
        f0 = self.relu(self.bn1(self.conv1(x)))
        f1 = self.layer1(self.maxpool(f0))
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        return [f0, f1, f2, f3, self.layer4(f3)]
