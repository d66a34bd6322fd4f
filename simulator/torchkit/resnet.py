"""ResNet-18 (He et al. 2016), as an ordered list of named blocks, with two stems.

- CIFAR stem (``resnet18``): 3×3 convolution, stride 1, 64 channels → BN → ReLU; no max pool.
  The usual CIFAR form; it keeps the full input resolution into ``layer1``.
- ImageNet stem (``resnet18_imagenet_stem``): 7×7 convolution, stride 2, 64 channels → BN →
  ReLU → 3×3 max pool, stride 2. It divides the resolution by 4 (the area by 16) before
  ``layer1``, so every cut tensor is 16× smaller than with the CIFAR stem for the same input.

After the stem come four stages of two basic blocks each (64, 128, 256, 512 channels; the first
block of stages 2–4 has stride 2 and a 1×1 convolution + BN on its shortcut), then the
classifier: global average pool → linear.

Blocks and split points: ``stem``, ``layer1_0``, ``layer1_1``, ``layer2_0`` … ``layer4_1``,
``classifier`` — 10 blocks, split points 0 … 10. A cut is only offered between basic blocks:
inside one, the residual branch and the shortcut would both have to cross the channel.
"""

from __future__ import annotations

import torch
from torch import nn

from simulator.torchkit.width import scaled

STAGE_CHANNELS: tuple[int, ...] = (64, 128, 256, 512)
BLOCKS_PER_STAGE = 2


class BasicBlock(nn.Module):
    """Two 3×3 conv → BN layers with ReLU between, plus the shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False
        )
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.shortcut(x))


def resnet18_blocks(
    in_channels: int, num_classes: int, width: float, imagenet_stem: bool
) -> list[tuple[str, nn.Module]]:
    """Named blocks of ResNet-18; ``imagenet_stem`` picks the 7×7/2 + max-pool stem."""
    stem_channels = scaled(STAGE_CHANNELS[0], width)
    stem: nn.Module
    if imagenet_stem:
        stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
    else:
        stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU(),
        )
    blocks: list[tuple[str, nn.Module]] = [("stem", stem)]
    channels = stem_channels
    for stage, stage_channels in enumerate(STAGE_CHANNELS, start=1):
        out_channels = scaled(stage_channels, width)
        for index in range(BLOCKS_PER_STAGE):
            stride = 2 if stage > 1 and index == 0 else 1
            blocks.append((f"layer{stage}_{index}", BasicBlock(channels, out_channels, stride)))
            channels = out_channels
    classifier = nn.Sequential(
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)
    )
    blocks.append(("classifier", classifier))
    return blocks
