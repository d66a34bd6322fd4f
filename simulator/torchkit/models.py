"""Model registry: input shapes, models as ordered named blocks, and the edge / exit / cloud split.

Every model is an ordered list of named blocks (see :mod:`vgg`, :mod:`resnet`, :mod:`mobilenet`;
the classifier is always the last block). Every block boundary is a split point: split ``s``
puts ``blocks[:s]`` on the edge device and ``blocks[s:]`` on the cloud server, so split 0
(named ``input``) has nothing on the edge and split n (named after the classifier) has
everything on the edge. The name of split ``s`` ≥ 1 is the name of the last edge block.

Models (``MODELS``): ``vgg16`` (VGG-16-BN), ``resnet18`` (CIFAR 3×3 stem),
``resnet18_imagenet_stem`` (7×7/2 stem + max pool), ``mobilenetv2``. Inputs (``INPUTS``):
``cifar10`` (3×32×32, 10 classes), ``tinyimagenet`` (3×64×64, 200 classes). Every model is
offered for every input.

:func:`split_model` returns the three modules training uses unchanged: the edge part, the
early-exit head on the edge output (:mod:`heads`), and the cloud part.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from simulator.torchkit.heads import HeadConfig, build_exit_head
from simulator.torchkit.mobilenet import mobilenetv2_blocks
from simulator.torchkit.names import INPUT_NAMES, MODEL_NAMES
from simulator.torchkit.resnet import resnet18_blocks
from simulator.torchkit.vgg import vgg16_blocks
from simulator.torchkit.width import check_width

INPUT_SPLIT_NAME = "input"
"""Name of split 0: nothing on the edge, the raw input crosses the channel."""


@dataclass(frozen=True)
class InputSpec:
    """An input: ``shape`` is (channels, height, width) of one sample."""

    name: str
    shape: tuple[int, int, int]
    num_classes: int


INPUTS: dict[str, InputSpec] = {
    "cifar10": InputSpec("cifar10", (3, 32, 32), 10),
    "tinyimagenet": InputSpec("tinyimagenet", (3, 64, 64), 200),
}

BlockBuilder = Callable[[InputSpec, float], list[tuple[str, nn.Module]]]

_BUILDERS: dict[str, BlockBuilder] = {
    "vgg16": lambda spec, width: vgg16_blocks(spec.shape[0], spec.num_classes, width),
    "resnet18": lambda spec, width: resnet18_blocks(
        spec.shape[0], spec.num_classes, width, imagenet_stem=False
    ),
    "resnet18_imagenet_stem": lambda spec, width: resnet18_blocks(
        spec.shape[0], spec.num_classes, width, imagenet_stem=True
    ),
    "mobilenetv2": lambda spec, width: mobilenetv2_blocks(
        spec.shape[0], spec.num_classes, width, input_size=spec.shape[1]
    ),
}

MODELS: tuple[str, ...] = tuple(_BUILDERS)

assert MODELS == MODEL_NAMES, "names.MODEL_NAMES must list the registry's models"
assert tuple(INPUTS) == INPUT_NAMES, "names.INPUT_NAMES must list the registry's inputs"


def input_spec(input_name: str) -> InputSpec:
    """The :class:`InputSpec` called ``input_name``; ``ValueError`` (one line) if unknown."""
    if input_name not in INPUTS:
        raise ValueError(f"unknown input {input_name!r} (allowed: {', '.join(INPUTS)})")
    return INPUTS[input_name]


def check_model(model: str) -> str:
    """``model`` itself; ``ValueError`` (one line) if it is not in :data:`MODELS`."""
    if model not in _BUILDERS:
        raise ValueError(f"unknown model {model!r} (allowed: {', '.join(MODELS)})")
    return model


def build_blocks(
    model: str, input_name: str, width: float = 1.0, seed: int | None = None
) -> list[tuple[str, nn.Module]]:
    """The named blocks of ``model`` for ``input_name``, classifier last.

    ``seed`` fixes the initial weights without touching torch's global random state; ``None``
    draws them from the global generator. Modules are built on torch's current default device
    (use ``with torch.device("meta"):`` for shape-only copies).
    """
    check_model(model)
    spec = input_spec(input_name)
    width = check_width(width)
    if seed is None:
        return _BUILDERS[model](spec, width)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _BUILDERS[model](spec, width)


def split_names(model: str, input_name: str) -> list[str]:
    """Names of split points 0 … n: ``input`` then the name of each block."""
    with torch.device("meta"):
        blocks = build_blocks(model, input_name)
    return [INPUT_SPLIT_NAME] + [name for name, _ in blocks]


def resolve_split(split: int | str, names: Sequence[str], what: str) -> int:
    """Index of a split point given by index, decimal string or name.

    ``names`` lists the split names 0 … n; ``what`` names the model and input for the error,
    a one-line ``ValueError`` naming the bad value and the allowed ones.
    """
    last = len(names) - 1
    if isinstance(split, int) and not isinstance(split, bool) and 0 <= split <= last:
        return split
    if isinstance(split, str):
        if split in names:
            return list(names).index(split)
        if split.strip().isdigit() and 0 <= int(split) <= last:
            return int(split)
    raise ValueError(
        f"unknown split {split!r} for {what} (allowed: 0..{last} or {', '.join(names)})"
    )


def feature_shapes(model: str, input_name: str, width: float = 1.0) -> list[tuple[int, ...]]:
    """Per-sample shape of the tensor at each split point 0 … n (input, then each block output).

    Computed on the meta device: no memory, no arithmetic.
    """
    spec = input_spec(input_name)
    with torch.device("meta"):
        blocks = build_blocks(model, input_name, width)
        x = torch.empty(2, *spec.shape)
    shapes: list[tuple[int, ...]] = [tuple(x.shape[1:])]
    with torch.no_grad():
        for _, block in blocks:
            x = block(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


def sequential(blocks: Sequence[tuple[str, nn.Module]]) -> nn.Sequential:
    """The blocks as one ``nn.Sequential`` whose children keep the block names."""
    return nn.Sequential(OrderedDict(blocks))


@dataclass
class SplitModel:
    """One model cut at one split point.

    ``edge``: ``blocks[:split]`` (an empty ``nn.Sequential``, i.e. the identity, at split 0).
    ``exit_head``: the early exit on the edge output; ``None`` at split 0 and at split n.
    ``cloud``: ``blocks[split:]`` (empty at split n). ``cloud(edge(x))`` is the whole model.
    """

    edge: nn.Module
    exit_head: nn.Module | None
    cloud: nn.Module
    split: int
    split_name: str
    model: str = ""
    input_name: str = ""
    width: float = 1.0

    def modules_on_edge(self) -> list[nn.Module]:
        """What the edge device holds and trains: its layers and, if any, the exit head."""
        return [self.edge] + ([self.exit_head] if self.exit_head is not None else [])


def split_model(
    model: str,
    input_name: str,
    split: int | str,
    width: float = 1.0,
    head: HeadConfig | None = None,
    seed: int | None = None,
) -> SplitModel:
    """``model`` on ``input_name`` cut at ``split`` (index or name), with its early-exit head.

    With a ``seed`` the weights are the same for every split (the blocks are built first, the
    head after them), so ``cloud(edge(x))`` at any split equals ``sequential(build_blocks(...,
    seed=seed))(x)``. Unknown model, input or split: one-line ``ValueError``.
    """
    check_model(model)
    spec = input_spec(input_name)
    width = check_width(width)
    names = split_names(model, input_name)
    index = resolve_split(split, names, f"{model} on {input_name}")
    shapes = feature_shapes(model, input_name, width) if 0 < index < len(names) - 1 else []
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        blocks = build_blocks(model, input_name, width)
        exit_head = None
        if shapes:
            exit_head = build_exit_head(shapes[index][0], spec.num_classes, width, head)
    return SplitModel(
        edge=sequential(blocks[:index]),
        exit_head=exit_head,
        cloud=sequential(blocks[index:]),
        split=index,
        split_name=names[index],
        model=model,
        input_name=input_name,
        width=width,
    )
