"""The profiler: FLOPs against fvcore and hand formulas, part sums, degenerate splits, memory."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext

import pandas as pd
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from simulator.torchkit.models import build_blocks, feature_shapes, sequential, split_model
from simulator.torchkit.profiler import (
    EXTRA_COLUMNS,
    REQUIRED_COLUMNS,
    ShapeOnlyMode,
    TimingSettings,
    count_split,
    counting,
    time_parts,
)
from simulator.units import BYTES_PER_FP32, FLOPS_PER_MAC

pytestmark = pytest.mark.torch

Profiles = Callable[[str], pd.DataFrame]
CROSS_CHECKED = ("vgg16", "resnet18")
SUMMED = ("vgg16", "resnet18", "resnet18_imagenet_stem")


def test_columns_required_first(profile_of: Profiles) -> None:
    frame = profile_of("resnet18")
    assert tuple(frame.columns) == (*REQUIRED_COLUMNS, *EXTRA_COLUMNS)
    assert list(frame["split"]) == list(range(len(frame)))
    integer_columns = [c for c in frame.columns if c.endswith(("_flops", "_bytes", "_macs"))]
    assert all(pd.api.types.is_integer_dtype(frame[c]) for c in integer_columns)


@pytest.mark.parametrize("model", CROSS_CHECKED)
def test_forward_flops_are_twice_fvcore_macs_at_every_split(
    model: str, profile_of: Profiles
) -> None:
    frame = profile_of(model)
    for part in ("edge", "exit", "cloud"):
        flops = frame[f"{part}_fwd_flops"]
        macs = frame[f"{part}_fvcore_fwd_macs"]
        for split, (f, m) in enumerate(zip(flops, macs, strict=True)):
            assert f == pytest.approx(FLOPS_PER_MAC * m, rel=0.01), (model, part, split)
    inner = frame.iloc[1:-1]
    assert (inner["exit_fwd_flops"] > 0).all() and (inner["edge_fwd_flops"] > 0).all()


def test_fvcore_on_the_split_modules_themselves() -> None:
    """The per-block fvcore sums equal fvcore run on the edge and cloud modules directly."""
    from fvcore.nn import FlopCountAnalysis

    def matmul_macs(module: nn.Module, shape: tuple[int, ...]) -> int:
        analysis = FlopCountAnalysis(module.eval(), (torch.zeros(1, *shape),))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        ops = analysis.by_operator()
        return int(ops.get("conv", 0) + ops.get("linear", 0))

    split = 7
    parts = split_model("vgg16", "cifar10", split, seed=0)
    shapes = feature_shapes("vgg16", "cifar10")
    edge = matmul_macs(parts.edge, shapes[0])
    cloud = matmul_macs(parts.cloud, shapes[split])
    assert parts.exit_head is not None
    exit_ = matmul_macs(parts.exit_head, shapes[split])
    from simulator.torchkit.profiler import profile_model

    frame, _ = profile_model("vgg16", "cifar10", fvcore=False)
    row = frame.iloc[split]
    assert row["edge_fwd_flops"] == FLOPS_PER_MAC * edge
    assert row["cloud_fwd_flops"] == FLOPS_PER_MAC * cloud
    assert row["exit_fwd_flops"] == FLOPS_PER_MAC * exit_


@pytest.mark.parametrize("model", SUMMED)
def test_edge_plus_cloud_is_the_whole_model_at_every_split(
    model: str, profile_of: Profiles
) -> None:
    frame = profile_of(model)
    first, last = frame.iloc[0], frame.iloc[-1]
    whole_fwd = first["cloud_fwd_flops"]
    whole_bwd = first["cloud_bwd_flops_sl"]
    assert whole_fwd == last["edge_fwd_flops"] and whole_bwd == last["edge_bwd_flops"]
    assert (frame["edge_fwd_flops"] + frame["cloud_fwd_flops"] == whole_fwd).all()
    # SL backward of both sides is exactly end-to-end backward: the edge never computes the raw
    # input's gradient, the cloud computes its input's gradient for the edge.
    assert (frame["edge_bwd_flops"] + frame["cloud_bwd_flops_sl"] == whole_bwd).all()
    other_fwd = first["cloud_other_fwd_flops"]
    assert (frame["edge_other_fwd_flops"] + frame["cloud_other_fwd_flops"] == other_fwd).all()
    whole_params = first["cloud_param_bytes"]
    assert (frame["edge_param_bytes"] + frame["cloud_param_bytes"] == whole_params).all()
    # HT skips the gradient of the cloud input: never more work than SL.
    assert (frame["cloud_bwd_flops_ht"] <= frame["cloud_bwd_flops_sl"]).all()
    inner = frame.iloc[1:-1]
    assert (inner["cloud_bwd_flops_ht"] < inner["cloud_bwd_flops_sl"]).all()
    # Backward of a conv or linear layer without input gradient = its forward; with it = twice.
    assert (frame["edge_bwd_flops"] <= 2 * frame["edge_fwd_flops"]).all()
    assert (frame["edge_bwd_flops"] >= frame["edge_fwd_flops"]).all()


@pytest.mark.parametrize("model", SUMMED)
def test_degenerate_splits(model: str, profile_of: Profiles) -> None:
    frame = profile_of(model)
    first, last = frame.iloc[0], frame.iloc[-1]
    for column in (
        "edge_fwd_flops",
        "edge_bwd_flops",
        "exit_fwd_flops",
        "exit_bwd_flops",
        "edge_param_bytes",
        "exit_param_bytes",
        "edge_train_bytes_per_sample",
        "exit_train_bytes_per_sample",
    ):
        assert first[column] == 0, column
    assert first["activation_bytes"] == first["input_bytes"] == 3 * 32 * 32
    assert first["cloud_bwd_flops_sl"] == first["cloud_bwd_flops_ht"]
    for column in (
        "cloud_fwd_flops",
        "cloud_bwd_flops_sl",
        "cloud_bwd_flops_ht",
        "exit_fwd_flops",
        "exit_bwd_flops",
        "cloud_param_bytes",
        "exit_param_bytes",
    ):
        assert last[column] == 0, column
    assert last["activation_bytes"] == 10 * BYTES_PER_FP32  # the logits
    assert (frame["label_bytes"] == 8).all() and (frame["input_bytes"] == 3072).all()


def test_hand_derived_resnet18_counts(profile_of: Profiles) -> None:
    frame = profile_of("resnet18").set_index("split_name")
    # Stem: 3×3 conv, 3 → 64 channels, 32×32 outputs.
    stem_macs = 64 * 3 * 3 * 3 * 32 * 32
    assert frame.loc["stem", "edge_fwd_flops"] == FLOPS_PER_MAC * stem_macs
    assert frame.loc["stem", "edge_bwd_flops"] == FLOPS_PER_MAC * stem_macs  # weight grad only
    # Classifier alone in the cloud: linear 512 → 10.
    fc_macs = 512 * 10
    assert frame.loc["layer4_1", "cloud_fwd_flops"] == FLOPS_PER_MAC * fc_macs
    assert frame.loc["layer4_1", "cloud_bwd_flops_ht"] == FLOPS_PER_MAC * fc_macs
    assert frame.loc["layer4_1", "cloud_bwd_flops_sl"] == 2 * FLOPS_PER_MAC * fc_macs
    # Exit after the stem: conv3×3 64 → 128 at 32×32, then linear 128 → 10.
    exit_macs = 128 * 64 * 3 * 3 * 32 * 32 + 128 * 10
    assert frame.loc["stem", "exit_fwd_flops"] == FLOPS_PER_MAC * exit_macs
    assert frame.loc["stem", "exit_bwd_flops"] == 2 * FLOPS_PER_MAC * exit_macs
    # Cut tensor after the stem: 64×32×32 fp32.
    assert frame.loc["stem", "activation_bytes"] == 64 * 32 * 32 * BYTES_PER_FP32
    # Saved for the stem's backward: the fp32 input (conv), the conv output (BN input) and
    # the ReLU output; per-channel BN statistics do not grow with the batch.
    stem_saved = (3 + 64 + 64) * 32 * 32 * BYTES_PER_FP32
    assert frame.loc["stem", "edge_train_bytes_per_sample"] == stem_saved
    # Stem parameters: conv 64·3·3·3, BN weight and bias 2·64.
    assert frame.loc["stem", "edge_param_bytes"] == (64 * 27 + 2 * 64) * BYTES_PER_FP32
    adam = frame.loc["stem", "edge_train_fixed_bytes_adam"]
    assert (
        adam == 4 * frame.loc["stem", "edge_param_bytes"] + frame.loc["stem", "edge_buffer_bytes"]
    )


@pytest.mark.parametrize(
    ("layer", "shape", "macs"),
    [
        (nn.Conv2d(5, 7, kernel_size=3, stride=2, padding=1), (5, 9, 9), 7 * 5 * 3 * 3 * 5 * 5),
        (nn.Conv2d(8, 8, kernel_size=3, padding=1, groups=8), (8, 6, 6), 8 * 1 * 3 * 3 * 6 * 6),
        (nn.Linear(13, 11), (13,), 13 * 11),
    ],
    ids=["conv-stride2", "conv-depthwise", "linear"],
)
def test_counter_against_hand_formulas(layer: nn.Module, shape: tuple[int, ...], macs: int) -> None:
    batch = 3
    x = torch.randn(batch, *shape, requires_grad=True)
    with counting() as forward:
        y = layer(x)
    with counting() as backward:
        y.backward(torch.ones_like(y))
    assert forward.flops == batch * FLOPS_PER_MAC * macs
    assert backward.flops == 2 * batch * FLOPS_PER_MAC * macs  # weight and input gradients


def _all_counts(model: str, split: int, shape_only: bool, device: str) -> tuple[object, ...]:
    from simulator.torchkit.heads import build_exit_head

    shapes = feature_shapes(model, "cifar10", 0.25)
    with torch.device(device):
        blocks = build_blocks(model, "cifar10", 0.25, seed=0)
        head = build_exit_head(shapes[split][0], 10, 0.25)
    mode = ShapeOnlyMode() if shape_only else None
    with mode if mode is not None else nullcontext():
        counts = count_split(
            sequential(blocks[:split]),
            head,
            sequential(blocks[split:]),
            shapes[0],
            shapes[split],
            batch_size=2,
            device=device,
        )
    tallies = {k: (t.flops, t.other_flops, dict(t.ops)) for k, t in counts.tallies().items()}
    return tallies, counts.edge_saved_bytes, counts.exit_saved_bytes, counts.cloud_saved_bytes


@pytest.mark.parametrize(("model", "split"), [("mobilenetv2", 5), ("resnet18", 4), ("vgg16", 2)])
def test_shape_only_mode_changes_no_count(model: str, split: int) -> None:
    """The fast meta shortcut and plain meta kernels, and real CPU tensors, count the same."""
    fast = _all_counts(model, split, shape_only=True, device="meta")
    assert fast == _all_counts(model, split, shape_only=False, device="meta")
    assert fast == _all_counts(model, split, shape_only=False, device="cpu")


def test_timing_columns() -> None:
    settings = TimingSettings(batch_size=2, warmup=0, repeats=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small tensors: one thread is faster and immune to busy neighbours
    try:
        frame = time_parts("resnet18", "cifar10", width=0.125, settings=settings)
    finally:
        torch.set_num_threads(threads)
    assert list(frame["split"]) == list(range(11))
    first, last, mid = frame.iloc[0], frame.iloc[-1], frame.iloc[4]
    assert first["edge_fwd_s"] == 0 and first["exit_fwd_s"] == 0 and first["cloud_fwd_s"] > 0
    assert last["cloud_bwd_sl_s"] == 0 and last["exit_bwd_s"] == 0 and last["edge_bwd_s"] > 0
    assert all(mid[c] > 0 for c in frame.columns if c.endswith("_s"))


@pytest.mark.parametrize("groups", [1, 4])
def test_conv_backward_formula_agrees_with_torch_for_ordinary_convs(groups: int) -> None:
    """Our backward formula equals torch's for groups == 1; torch's overcounts grouped ones."""
    layer = nn.Conv2d(8, 12, kernel_size=3, padding=1, groups=groups)
    x = torch.randn(2, 8, 7, 7, requires_grad=True)
    y = layer(x)
    torch_counter = FlopCounterMode(display=False)
    with torch_counter:
        y.backward(torch.ones_like(y))
    y = layer(x)
    with counting() as ours:
        y.backward(torch.ones_like(y))
    forward_flops = 2 * FLOPS_PER_MAC * (12 * (8 // groups) * 3 * 3 * 7 * 7)  # batch of 2
    assert ours.flops == 2 * forward_flops
    if groups == 1:
        assert torch_counter.get_total_flops() == ours.flops
    else:
        assert torch_counter.get_total_flops() > ours.flops


def test_one_forward_serves_both_cloud_backward_passes() -> None:
    """Timing's shortcut: autograd.grad for parameters only = backward with a detached input."""
    with torch.device("meta"):
        cloud = sequential(build_blocks("resnet18", "cifar10")[3:])
        x = torch.empty(2, 64, 32, 32, requires_grad=True)
    params = list(cloud.parameters())
    out = cloud(x)
    grad = torch.ones_like(out)
    with counting() as ht_params_only:
        torch.autograd.grad(out, params, grad, retain_graph=True)
    with counting() as sl_with_input:
        torch.autograd.grad(out, [*params, x], grad)
    detached = cloud(x.detach())
    with counting() as ht_detached:
        detached.backward(grad)
    attached = cloud(x)
    with counting() as sl_attached:
        attached.backward(grad)
    assert ht_params_only.flops == ht_detached.flops < sl_with_input.flops == sl_attached.flops
