"""Models as named blocks, the split into edge / exit / cloud, and bad names."""

from __future__ import annotations

import pytest
import torch

from simulator.torchkit.heads import HeadConfig
from simulator.torchkit.models import (
    INPUTS,
    MODELS,
    build_blocks,
    feature_shapes,
    sequential,
    split_model,
    split_names,
)
from simulator.torchkit.names import INPUT_NAMES, MODEL_NAMES

pytestmark = pytest.mark.torch

BLOCK_COUNTS = {"vgg16": 14, "resnet18": 10, "resnet18_imagenet_stem": 10, "mobilenetv2": 20}


def test_registry_matches_the_torch_free_names() -> None:
    assert MODELS == MODEL_NAMES
    assert tuple(INPUTS) == INPUT_NAMES
    assert INPUTS["cifar10"].shape == (3, 32, 32) and INPUTS["cifar10"].num_classes == 10
    assert INPUTS["tinyimagenet"].shape == (3, 64, 64)
    assert INPUTS["tinyimagenet"].num_classes == 200


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("input_name", INPUT_NAMES)
def test_blocks_end_with_the_classifier(model: str, input_name: str) -> None:
    names = split_names(model, input_name)
    assert len(names) == BLOCK_COUNTS[model] + 1
    assert names[0] == "input" and names[-1] == "classifier"
    assert len(set(names)) == len(names)
    shapes = feature_shapes(model, input_name)
    assert shapes[0] == INPUTS[input_name].shape
    assert shapes[-1] == (INPUTS[input_name].num_classes,)
    assert all(len(shape) == 3 for shape in shapes[:-1])  # feature maps up to the classifier


def test_known_cut_shapes() -> None:
    """The shapes the README quotes: stems change the cut tensor by 16× in elements."""
    resnet_cifar = dict(
        zip(split_names("resnet18", "cifar10"), feature_shapes("resnet18", "cifar10"), strict=True)
    )
    assert resnet_cifar["stem"] == (64, 32, 32)
    assert resnet_cifar["layer2_0"] == (128, 16, 16)
    tiny = feature_shapes("resnet18", "tinyimagenet")
    tiny_imagenet_stem = feature_shapes("resnet18_imagenet_stem", "tinyimagenet")
    assert tiny[1] == (64, 64, 64) and tiny_imagenet_stem[1] == (64, 16, 16)
    vgg = dict(
        zip(split_names("vgg16", "cifar10"), feature_shapes("vgg16", "cifar10"), strict=True)
    )
    assert vgg["conv1_2_pool"] == (64, 16, 16) and vgg["conv5_3_pool"] == (512, 1, 1)
    assert feature_shapes("mobilenetv2", "cifar10")[-2] == (1280, 4, 4)
    assert feature_shapes("mobilenetv2", "tinyimagenet")[-2] == (1280, 4, 4)


def test_width_scales_channels() -> None:
    assert feature_shapes("vgg16", "cifar10", width=0.25)[1] == (16, 32, 32)
    assert feature_shapes("resnet18", "cifar10", width=0.5)[-2] == (256, 4, 4)
    small = sum(
        p.numel() for _, b in build_blocks("resnet18", "cifar10", 0.25) for p in b.parameters()
    )
    full = sum(p.numel() for _, b in build_blocks("resnet18", "cifar10") for p in b.parameters())
    assert small < full / 10


@pytest.mark.parametrize(
    ("model", "split"),
    [
        ("resnet18", "layer2_0"),
        ("vgg16", 4),
        ("mobilenetv2", "ir3_1"),
        ("resnet18", 0),
        ("vgg16", 14),
    ],
)
def test_edge_then_cloud_is_the_whole_model(model: str, split: int | str) -> None:
    whole = sequential(build_blocks(model, "cifar10", width=0.25, seed=3)).eval()
    parts = split_model(model, "cifar10", split, width=0.25, seed=3)
    parts.edge.eval()
    parts.cloud.eval()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(parts.cloud(parts.edge(x)), whole(x))


def test_split_model_parts_and_head() -> None:
    parts = split_model("resnet18", "cifar10", "layer1_1", width=0.25, seed=0)
    assert parts.split == 3 and parts.split_name == "layer1_1"
    assert list(dict(parts.edge.named_children())) == ["stem", "layer1_0", "layer1_1"]
    assert parts.exit_head is not None
    x = torch.randn(2, 3, 32, 32)
    assert parts.exit_head(parts.edge(x)).shape == (2, 10)
    assert split_model("resnet18", "cifar10", 3, width=0.25).split_name == "layer1_1"
    assert split_model("resnet18", "cifar10", "3", width=0.25).split == 3


def test_degenerate_splits_have_no_exit() -> None:
    first = split_model("vgg16", "cifar10", 0, width=0.25)
    last = split_model("vgg16", "cifar10", "classifier", width=0.25)
    assert first.exit_head is None and last.exit_head is None
    assert len(first.edge) == 0 and len(first.cloud) == 14
    assert len(last.edge) == 14 and len(last.cloud) == 0
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(first.edge(x), x)  # an empty Sequential is the identity


def test_head_config_sizes_the_head() -> None:
    default = split_model("vgg16", "cifar10", 2, width=0.5, seed=0).exit_head
    assert default is not None and default[0].out_channels == 64  # round(128 × 0.5)
    bare = split_model("vgg16", "cifar10", 2, head=HeadConfig(conv_channels=0), seed=0).exit_head
    assert bare is not None and not any(isinstance(m, torch.nn.Conv2d) for m in bare.modules())
    big = split_model("vgg16", "cifar10", 2, head=HeadConfig(32, kernel_size=1)).exit_head
    assert big is not None and big[0].kernel_size == (1, 1) and big[0].out_channels == 32
    with pytest.raises(ValueError, match="kernel_size"):
        HeadConfig(kernel_size=2)


def test_seed_fixes_weights_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = split_model("resnet18", "cifar10", 2, width=0.25, seed=7)
    after = torch.rand(1)
    b = split_model("resnet18", "cifar10", 2, width=0.25, seed=7)
    assert torch.equal(expected, after)
    for p, q in zip(a.edge.parameters(), b.edge.parameters(), strict=True):
        assert torch.equal(p, q)
    assert a.exit_head is not None and b.exit_head is not None
    for p, q in zip(a.exit_head.parameters(), b.exit_head.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    ("call", "bad", "allowed"),
    [
        (lambda: build_blocks("alexnet", "cifar10"), "'alexnet'", "vgg16, resnet18"),
        (lambda: build_blocks("vgg16", "mnist"), "'mnist'", "cifar10, tinyimagenet"),
        (
            lambda: split_model("vgg16", "cifar10", "conv9_9"),
            "'conv9_9'",
            "0..14 or input, conv1_1",
        ),
        (lambda: split_model("vgg16", "cifar10", 15), "15", "0..14"),
        (lambda: split_model("vgg16", "cifar10", -1), "-1", "classifier"),
        (lambda: split_model("vgg16", "cifar10", True), "True", "0..14"),  # type: ignore[arg-type]
        (lambda: build_blocks("vgg16", "cifar10", width=0), "width", "> 0"),
    ],
)
def test_bad_names_raise_one_line_value_errors(call: object, bad: str, allowed: str) -> None:
    with pytest.raises(ValueError) as error:
        call()  # type: ignore[operator]
    message = str(error.value)
    assert "\n" not in message
    assert bad in message and allowed in message
