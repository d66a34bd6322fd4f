"""The early-exit head: a small classifier the edge trains its layers with (hierarchical training).

Default design, attachable after any split point whose output is a feature map
(C × H × W):

    conv k×k (C → D channels, stride 1, padding k//2, no bias) → BN → ReLU
    → global average pool → linear (D → classes)

with k = 3 and D = round(128 × width). The convolution gives the exit some capacity of its own
(a pool → linear exit on early, low-level features trains the edge poorly), the global pool makes
its cost independent of where it sits except for that one convolution, whose cost is
k²·C·D·H·W multiply–adds per sample. ``HeadConfig(conv_channels=0)`` drops the convolution and
gives the cheapest exit: pool → linear (C → classes).

The same head design is used for every model, so profiles of different models compare.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from simulator.torchkit.width import scaled

DEFAULT_CONV_CHANNELS = 128
DEFAULT_KERNEL_SIZE = 3


@dataclass(frozen=True)
class HeadConfig:
    """Size of the early-exit head.

    ``conv_channels``: D, the convolution's output channels; ``None`` means
    ``round(128 × width)`` of the model it is attached to; 0 means no convolution.
    ``kernel_size``: k, odd, ≥ 1.
    """

    conv_channels: int | None = None
    kernel_size: int = DEFAULT_KERNEL_SIZE

    def __post_init__(self) -> None:
        if self.conv_channels is not None and (
            isinstance(self.conv_channels, bool)
            or not isinstance(self.conv_channels, int)
            or self.conv_channels < 0
        ):
            raise ValueError(
                f"head conv_channels must be an integer >= 0 or None, got {self.conv_channels!r}"
            )
        if (
            isinstance(self.kernel_size, bool)
            or not isinstance(self.kernel_size, int)
            or self.kernel_size < 1
            or self.kernel_size % 2 == 0
        ):
            raise ValueError(
                f"head kernel_size must be an odd integer >= 1, got {self.kernel_size!r}"
            )

    def channels(self, width: float) -> int:
        """D for a model of this ``width``."""
        if self.conv_channels is None:
            return scaled(DEFAULT_CONV_CHANNELS, width)
        return self.conv_channels

    def describe(self, width: float) -> str:
        """One-line description of the head for a model of this ``width``."""
        channels = self.channels(width)
        if channels == 0:
            return "global avg pool -> linear"
        k = self.kernel_size
        return (
            f"conv{k}x{k}(C->{channels}, stride 1, pad {k // 2}, no bias) -> BN -> ReLU "
            "-> global avg pool -> linear"
        )


def build_exit_head(
    in_channels: int, num_classes: int, width: float, config: HeadConfig | None = None
) -> nn.Sequential:
    """An early-exit head for a feature map of ``in_channels`` planes."""
    config = config or HeadConfig()
    channels = config.channels(width)
    if channels == 0:
        return nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, num_classes)
        )
    k = config.kernel_size
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, kernel_size=k, padding=k // 2, bias=False),
        nn.BatchNorm2d(channels),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, num_classes),
    )
