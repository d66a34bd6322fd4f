"""Names of the models and input shapes the torch side offers, importable without torch.

The CLI builds its ``profile`` parser (help text, ``--all``) from these tuples before it knows
whether torch is installed, so this module must stay free of torch imports.
:mod:`simulator.torchkit.models` checks that its registry matches them.
"""

from __future__ import annotations

MODEL_NAMES: tuple[str, ...] = ("vgg16", "resnet18", "resnet18_imagenet_stem", "mobilenetv2")
"""``vgg16``: VGG-16 with batch norm. ``resnet18``: ResNet-18 with the CIFAR stem (3×3 conv,
stride 1, no max pool). ``resnet18_imagenet_stem``: ResNet-18 with the ImageNet stem (7×7 conv,
stride 2, then 3×3 max pool, stride 2). ``mobilenetv2``: MobileNetV2 (CIFAR-style strides)."""

INPUT_NAMES: tuple[str, ...] = ("cifar10", "tinyimagenet")
"""``cifar10``: 3×32×32, 10 classes. ``tinyimagenet``: 3×64×64, 200 classes."""

STANDARD_PROFILES: tuple[tuple[str, str], ...] = (
    ("vgg16", "cifar10"),
    ("vgg16", "tinyimagenet"),
    ("resnet18", "cifar10"),
    ("resnet18", "tinyimagenet"),
    ("resnet18_imagenet_stem", "tinyimagenet"),
    ("mobilenetv2", "cifar10"),
    ("mobilenetv2", "tinyimagenet"),
)
"""The (model, input) pairs committed under ``profiles/`` (``--all`` profiles these)."""


def profile_stem(model: str, input_name: str) -> str:
    """File stem of a profile: ``profiles/<model>_<input>.csv``."""
    return f"{model}_{input_name}"
