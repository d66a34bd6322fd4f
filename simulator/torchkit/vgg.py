"""VGG-16 with batch norm, as an ordered list of named blocks (one block per convolution).

Layout (Simonyan & Zisserman 2015, configuration D, with batch norm after every convolution):
five stages of 3×3 convolutions (64, 64 | 128, 128 | 256 × 3 | 512 × 3 | 512 × 3 channels, each
conv → BN → ReLU), a 2×2 max pool closing every stage, then the classifier.

Blocks and split points:

- ``conv<stage>_<i>``: one conv → BN → ReLU. The last convolution of a stage also holds the
  stage's max pool and is named ``conv<stage>_<i>_pool`` (e.g. ``conv1_2_pool``): cutting
  between a convolution and its pool would send 4× the bytes of cutting after the pool for the
  same edge compute, so that cut is never offered.
- ``classifier``: global average pool → linear. On CIFAR-10 the feature map is already 1×1 and
  the pool changes nothing (this is the common CIFAR VGG of one linear layer); on Tiny ImageNet it
  averages the 2×2 map. The three 4096-wide linear layers of the ImageNet VGG are left out, as in
  most CIFAR and Tiny ImageNet work.

13 convolution blocks + classifier = 14 blocks, split points 0 … 14.
"""

from __future__ import annotations

from torch import nn

from simulator.torchkit.width import scaled

STAGES: tuple[tuple[int, int], ...] = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
"""(channels, convolutions) of each stage at width 1."""


def conv_bn_relu(in_channels: int, out_channels: int) -> list[nn.Module]:
    """3×3 convolution (stride 1, padding 1, no bias: BN follows) → batch norm → ReLU."""
    return [
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    ]


def vgg16_blocks(in_channels: int, num_classes: int, width: float) -> list[tuple[str, nn.Module]]:
    """Named blocks of VGG-16-BN for ``in_channels`` input planes and ``num_classes`` outputs."""
    blocks: list[tuple[str, nn.Module]] = []
    channels = in_channels
    for stage, (stage_channels, convs) in enumerate(STAGES, start=1):
        out_channels = scaled(stage_channels, width)
        for index in range(1, convs + 1):
            layers = conv_bn_relu(channels, out_channels)
            name = f"conv{stage}_{index}"
            if index == convs:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                name += "_pool"
            blocks.append((name, nn.Sequential(*layers)))
            channels = out_channels
    classifier = nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)
    )
    blocks.append(("classifier", classifier))
    return blocks
