"""MobileNetV2 (Sandler et al. 2018), as an ordered list of named blocks.

The network: a 3×3 stem convolution (32 channels) → 17 inverted-residual blocks → a 1×1
convolution to 1280 channels → global average pool → linear. Each inverted residual is
1×1 expansion (factor t; left out when t = 1) → BN → ReLU6 → 3×3 depthwise (stride s) → BN →
ReLU6 → 1×1 projection → BN, with an identity shortcut when the stride is 1 and the channel
counts match. Stage table (t, channels, blocks, stride) as in the paper.

Small inputs keep more resolution than the ImageNet model (total stride 32), as in the common
CIFAR adaptations: the second stage has stride 1 instead of 2, and the stem has stride 1 on
32×32 inputs (CIFAR-10) and stride 2 on 64×64 inputs (Tiny ImageNet). Both inputs therefore end
on a 4×4 feature map. The ``width`` multiplier scales every channel count, 1280 included
(rounded to the nearest integer; the paper's rounding to multiples of 8 is left out so that
``width`` is a plain scale). No dropout: the profile and the training runs stay deterministic.

Blocks and split points: ``stem``, ``ir<stage>_<i>`` (``ir1_0``, ``ir2_0``, ``ir2_1``,
``ir3_0`` … ``ir7_0``), ``conv_last``, ``classifier`` — 20 blocks, split points 0 … 20.
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.torchkit.width import scaled

STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 1),  # stride 2 in the ImageNet model
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
"""(expansion t, output channels, blocks, stride of the first block) per stage at width 1."""

STEM_CHANNELS = 32
LAST_CHANNELS = 1280


def conv_bn_relu6(
    in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, groups: int = 1
) -> list[nn.Module]:
    """Convolution (no bias) → batch norm → ReLU6."""
    return [
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=kernel_size // 2,
            groups=groups,
            bias=False,
        ),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(),
    ]


class InvertedResidual(nn.Module):
    """Expansion 1×1 → depthwise 3×3 → linear projection 1×1, with a shortcut when shapes match."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += conv_bn_relu6(in_channels, hidden, kernel_size=1)
        layers += conv_bn_relu6(hidden, hidden, kernel_size=3, stride=stride, groups=hidden)
        layers += [
            nn.Conv2d(hidden, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.body = nn.Sequential(*layers)
        self.use_shortcut = stride == 1 and in_channels == out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return x + out if self.use_shortcut else out


def mobilenetv2_blocks(
    in_channels: int, num_classes: int, width: float, input_size: int
) -> list[tuple[str, nn.Module]]:
    """Named blocks of MobileNetV2 for square inputs of side ``input_size`` pixels."""
    stem_stride = 1 if input_size <= 32 else 2
    channels = scaled(STEM_CHANNELS, width)
    blocks: list[tuple[str, nn.Module]] = [
        ("stem", nn.Sequential(*conv_bn_relu6(in_channels, channels, 3, stride=stem_stride)))
    ]
    for stage, (expansion, stage_channels, count, stride) in enumerate(STAGES, start=1):
        out_channels = scaled(stage_channels, width)
        for index in range(count):
            block = InvertedResidual(channels, out_channels, stride if index == 0 else 1, expansion)
            blocks.append((f"ir{stage}_{index}", block))
            channels = out_channels
    last_channels = scaled(LAST_CHANNELS, width)
    blocks.append(("conv_last", nn.Sequential(*conv_bn_relu6(channels, last_channels, 1))))
    classifier = nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last_channels, num_classes)
    )
    blocks.append(("classifier", classifier))
    return blocks
