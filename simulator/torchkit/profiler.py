"""Split-point profiler: per-sample FLOPs, bytes and memory of every split point of one model.

For each split point 0 … n of a model (:mod:`simulator.torchkit.models`) the profiler measures,
per sample, the columns of design.md §3 and a few more (all listed in ``profiles/README.md``):

FLOPs — ``torch.utils.flop_counter.FlopCounterMode`` (2 FLOPs per multiply–add), measured
separately, part by part, exactly as each scheme runs it:

- edge part: forward, and backward computing weight gradients only (the raw input needs none);
- early-exit head: forward, and backward including the gradient with respect to its input
  (the exit loss trains the edge layers);
- cloud part: forward; backward with its input requiring a gradient (``cloud_bwd_flops_sl``,
  split learning sends it down) and with its input detached (``cloud_bwd_flops_ht``). At split
  0 the cloud input is the raw image, which never needs a gradient, so both are equal.

One correction: FlopCounterMode's formula for a convolution's weight gradient ignores
``groups`` (it counts a depthwise convolution's weight gradient ``channels`` times too high), so
:func:`conv_backward_flop` replaces it; for ordinary convolutions the two agree.

FlopCounterMode counts matrix multiplies and convolutions only. What it skips — batch norm,
ReLU/ReLU6, pooling, residual additions, the bias gradient's sum, and their backward ops — is
counted by :class:`OtherOpCounter` in separate ``*_other_*_flops`` columns as one operation per
element of the largest tensor the op reads or writes (a memory-traffic proxy, not an exact
arithmetic count), so the matrix-multiply FLOPs stay comparable with other tools. The op names
seen are recorded in the metadata file.

Cross-check — fvcore's forward multiply–add count of the same parts (convolutions and linear
layers only: fvcore's batch-norm and pooling handles are left out) in ``*_fvcore_fwd_macs``;
``*_fwd_flops == FLOPS_PER_MAC × *_fvcore_fwd_macs`` is asserted by the tests.

Bytes — ``activation_bytes``: the tensor at the cut in fp32 (the raw input at split 0: uint8, one
byte per value, as it is sent). ``label_bytes``: one int64. Parameter and buffer bytes of each
part. Training memory: ``edge_train_bytes_per_sample`` is what autograd saves for the edge
backward (``torch.autograd.graph.saved_tensors_hooks``, de-duplicated by storage, parameters and
buffers excluded), measured at two batch sizes and differenced so per-batch constants (batch-norm
statistics) drop out; ``exit_train_bytes_per_sample`` is what the exit head adds on top (its
input is the edge output, already counted); ``cloud_train_bytes_per_sample`` likewise for the
cloud part in split learning. The fixed part — parameters + gradients + optimizer state, plus
buffers — is in ``*_train_fixed_bytes_sgd_momentum`` (3 parameter-sized tensors) and
``*_train_fixed_bytes_adam`` (4: Adam's two moment estimates; its per-tensor step counters are
left out).

Counting runs on the ``meta`` device: shapes only, no arithmetic, no memory. The meta kernels
of batch norm and element-wise ops are slow Python decompositions, so :class:`ShapeOnlyMode`
answers a short list of ops (batch norm, ReLU, ReLU6, their backward ops, same-shape additions)
with empty tensors of the right shape; a test proves the counts are identical with and without
it, and on real CPU tensors.

Timing (:func:`time_parts`) runs the real model on this CPU and is separate from counting.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from math import prod
from typing import Any

import pandas as pd
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count, flop_registry

from simulator.torchkit.heads import HeadConfig, build_exit_head
from simulator.torchkit.models import (
    INPUT_SPLIT_NAME,
    build_blocks,
    check_model,
    feature_shapes,
    input_spec,
    sequential,
)
from simulator.torchkit.width import check_width
from simulator.units import BYTES_PER_FP32, BYTES_PER_INT64

REQUIRED_COLUMNS: tuple[str, ...] = (
    "split",
    "split_name",
    "edge_fwd_flops",
    "edge_bwd_flops",
    "exit_fwd_flops",
    "exit_bwd_flops",
    "cloud_fwd_flops",
    "cloud_bwd_flops_sl",
    "cloud_bwd_flops_ht",
    "activation_bytes",
    "input_bytes",
    "label_bytes",
    "edge_param_bytes",
    "exit_param_bytes",
    "cloud_param_bytes",
    "edge_train_bytes_per_sample",
)
"""The columns of design.md §3, in that order; every profile starts with them."""

EXTRA_COLUMNS: tuple[str, ...] = (
    "exit_train_bytes_per_sample",
    "cloud_train_bytes_per_sample",
    "activation_shape",
    "edge_other_fwd_flops",
    "edge_other_bwd_flops",
    "exit_other_fwd_flops",
    "exit_other_bwd_flops",
    "cloud_other_fwd_flops",
    "cloud_other_bwd_flops_sl",
    "cloud_other_bwd_flops_ht",
    "edge_fvcore_fwd_macs",
    "exit_fvcore_fwd_macs",
    "cloud_fvcore_fwd_macs",
    "edge_buffer_bytes",
    "exit_buffer_bytes",
    "cloud_buffer_bytes",
    "edge_train_fixed_bytes_sgd_momentum",
    "edge_train_fixed_bytes_adam",
    "exit_train_fixed_bytes_sgd_momentum",
    "exit_train_fixed_bytes_adam",
    "cloud_train_fixed_bytes_sgd_momentum",
    "cloud_train_fixed_bytes_adam",
)
"""Columns every profile has after the required ones."""

TIME_COLUMNS: tuple[str, ...] = (
    "edge_fwd_s",
    "edge_bwd_s",
    "exit_fwd_s",
    "exit_bwd_s",
    "cloud_fwd_s",
    "cloud_bwd_sl_s",
    "cloud_bwd_ht_s",
)
"""Measured seconds per sample (``--time`` only): median over repeats ÷ the timing batch size."""

SGD_MOMENTUM_COPIES = 3
"""Parameter-sized tensors SGD with momentum keeps: parameters, gradients, momentum buffer."""
ADAM_COPIES = 4
"""Parameter-sized tensors Adam keeps: parameters, gradients, first and second moments."""

DEFAULT_BATCH_SIZE = 2
"""Batch used for counting (≥ 2: batch norm in training mode needs two values per channel)."""

FVCORE_MATMUL_OPS: frozenset[str] = frozenset(
    {"conv", "linear", "addmm", "matmul", "mm", "bmm", "einsum"}
)
"""fvcore operator names that FlopCounterMode also counts (its other handles are skipped)."""

_NON_COMPUTE_OPS: frozenset[str] = frozenset(
    {
        "empty",
        "empty_like",
        "empty_strided",
        "zeros",
        "zeros_like",
        "ones",
        "ones_like",
        "full",
        "full_like",
        "new_empty",
        "new_empty_strided",
        "new_zeros",
        "new_ones",
        "new_full",
        "clone",
        "copy_",
        "_to_copy",
        "lift_fresh",
        "detach",
    }
)
"""Ops that allocate or copy but compute nothing; :class:`OtherOpCounter` ignores them."""


def _tensors(tree: Any) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(tree)
    return [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)]


class OtherOpCounter(TorchDispatchMode):
    """Counts the compute ops FlopCounterMode skips: one per element of the largest tensor touched.

    Views, in-place updates of module state (e.g. ``num_batches_tracked``), allocations and
    copies are not counted. ``ops`` tallies calls by op name.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        out = func(*args, **(kwargs or {}))
        packet = func.overloadpacket
        name = packet.__name__
        aliases = any(ret.alias_info is not None for ret in func._schema.returns)
        if packet in flop_registry or name in _NON_COMPUTE_OPS or aliases:
            return out
        sizes = [t.numel() for t in _tensors(args) + _tensors(kwargs) + _tensors(out)]
        self.flops += max(sizes, default=0)
        self.ops[name] += 1
        return out


def _first_tensor(args: Sequence[Any]) -> torch.Tensor:
    return next(a for a in args if isinstance(a, torch.Tensor))


def _per_channel(x: torch.Tensor) -> torch.Tensor:
    return torch.empty(x.shape[1], dtype=x.dtype, device=x.device)


def _shape_only_batch_norm(args: Sequence[Any]) -> tuple[torch.Tensor, ...]:
    x = args[0]
    return torch.empty_like(x), _per_channel(x), _per_channel(x)


def _shape_only_batch_norm_backward(args: Sequence[Any]) -> tuple[torch.Tensor | None, ...]:
    grad_out, x, mask = args[0], args[1], args[-1]
    return (
        torch.empty_like(x) if mask[0] else None,
        _per_channel(grad_out) if mask[1] else None,
        _per_channel(grad_out) if mask[2] else None,
    )


def _same_shape_add(args: Sequence[Any]) -> torch.Tensor | None:
    a, b = args[0], args[1]
    if isinstance(b, torch.Tensor) and a.shape == b.shape and a.dtype == b.dtype:
        return torch.empty_like(a)
    return None  # broadcasting or a scalar: let the meta kernel decide


def _same_shape_add_(args: Sequence[Any]) -> torch.Tensor | None:
    a, b = args[0], args[1]
    if isinstance(b, torch.Tensor) and (a.shape == b.shape or b.dim() == 0):
        return a  # in place: the result is ``a`` itself, shape unchanged
    return None


_SHAPE_ONLY: dict[Any, Callable[[Sequence[Any]], Any]] = {
    torch.ops.aten.add.Tensor: _same_shape_add,
    torch.ops.aten.add_.Tensor: _same_shape_add_,
    torch.ops.aten.native_batch_norm.default: _shape_only_batch_norm,
    torch.ops.aten._native_batch_norm_legit.default: _shape_only_batch_norm,
    torch.ops.aten.native_batch_norm_backward.default: _shape_only_batch_norm_backward,
    torch.ops.aten.relu.default: lambda args: torch.empty_like(args[0]),
    torch.ops.aten.hardtanh.default: lambda args: torch.empty_like(args[0]),
    torch.ops.aten.threshold_backward.default: lambda args: torch.empty_like(args[0]),
    torch.ops.aten.hardtanh_backward.default: lambda args: torch.empty_like(args[0]),
}


class ShapeOnlyMode(TorchDispatchMode):
    """On meta tensors, answers batch norm, ReLU(6), same-shape additions by shape alone.

    Their meta kernels are Python decompositions that dominate the profiling time; their
    outputs' shapes are those of their inputs (per-channel statistics: ``(C,)``), which is all
    counting needs. Any other op, and any op on a non-meta tensor, runs normally.
    """

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        shortcut = _SHAPE_ONLY.get(func)
        if shortcut is not None and not kwargs and _first_tensor(args).is_meta:
            out = shortcut(args)
            if out is not None:
                return out
        return func(*args, **(kwargs or {}))


@dataclass
class Tally:
    """FLOPs of one counted region: matrix multiplies and the rest (see module docstring)."""

    flops: int = 0
    other_flops: int = 0
    ops: Counter[str] = field(default_factory=Counter)


def conv_backward_flop(
    grad_out_shape: Sequence[int],
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    _bias: Any,
    _stride: Any,
    _padding: Any,
    _dilation: Any,
    transposed: bool,
    _output_padding: Any,
    _groups: int,
    output_mask: Sequence[bool],
    out_shape: Any,
    **kwargs: Any,
) -> int:
    """FLOPs of a convolution's backward, correct for grouped and depthwise convolutions.

    Every multiply–add of the forward pass (x·w → y) has exactly one counterpart in the input
    gradient (dy·w → dx) and one in the weight gradient (dy·x → dw), so each requested gradient
    costs the forward's FLOPs. torch 2.13's own formula computes the weight gradient as a
    convolution over transposed shapes that lose the group division and so counts ``groups``
    times too much (e.g. 32× for a depthwise 3×3 on 32 channels; see pytorch/pytorch#183405).
    For ``groups == 1`` both formulas agree (a test checks it).
    """
    del out_shape, kwargs
    forward = conv_flop_count(list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


FLOP_FORMULA_OVERRIDES: dict[Any, Callable[..., int]] = {
    torch.ops.aten.convolution_backward: conv_backward_flop,
}
"""Formulas that replace FlopCounterMode's own (passed as its ``custom_mapping``)."""


@contextmanager
def counting() -> Iterator[Tally]:
    """Counts the FLOPs of the ops run inside the block (forward or backward)."""
    tally = Tally()
    flop_counter = FlopCounterMode(display=False, custom_mapping=FLOP_FORMULA_OVERRIDES)
    other = OtherOpCounter()
    with flop_counter, other:
        yield tally
    tally.flops = int(flop_counter.get_total_flops())
    tally.other_flops = other.flops
    tally.ops = other.ops


def _storage_key(t: torch.Tensor) -> int:
    return int(t.untyped_storage()._cdata)


class SavedTensorMeter:
    """Bytes of the distinct storages autograd saves for backward while the meter is active.

    Storages of parameters and buffers (``exclude``) are not counted: they exist anyway.
    """

    def __init__(self, exclude: Sequence[nn.Module]) -> None:
        self._exclude = {
            _storage_key(t) for module in exclude for t in [*module.parameters(), *module.buffers()]
        }
        self._storages: dict[int, int] = {}
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        key = _storage_key(t)
        if key not in self._exclude and key not in self._storages:
            self._storages[key] = t.untyped_storage().nbytes()
        return t

    @staticmethod
    def _unpack(t: torch.Tensor) -> torch.Tensor:
        return t

    @property
    def saved_bytes(self) -> int:
        return sum(self._storages.values())

    def __enter__(self) -> SavedTensorMeter:
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)


def param_bytes(module: nn.Module | None) -> int:
    """Bytes of the parameters of ``module`` (0 for ``None``)."""
    if module is None:
        return 0
    return sum(p.numel() * p.element_size() for p in module.parameters())


def buffer_bytes(module: nn.Module | None) -> int:
    """Bytes of the buffers (batch-norm running statistics) of ``module`` (0 for ``None``)."""
    if module is None:
        return 0
    return sum(b.numel() * b.element_size() for b in module.buffers())


@dataclass
class PartCounts:
    """What one counting pass measures at one split point, for the whole batch."""

    edge_fwd: Tally = field(default_factory=Tally)
    edge_bwd: Tally = field(default_factory=Tally)
    exit_fwd: Tally = field(default_factory=Tally)
    exit_bwd: Tally = field(default_factory=Tally)
    cloud_fwd: Tally = field(default_factory=Tally)
    cloud_bwd_sl: Tally = field(default_factory=Tally)
    cloud_bwd_ht: Tally = field(default_factory=Tally)
    edge_saved_bytes: int = 0
    exit_saved_bytes: int = 0
    cloud_saved_bytes: int = 0

    def tallies(self) -> dict[str, Tally]:
        return {
            "edge_fwd": self.edge_fwd,
            "edge_bwd": self.edge_bwd,
            "exit_fwd": self.exit_fwd,
            "exit_bwd": self.exit_bwd,
            "cloud_fwd": self.cloud_fwd,
            "cloud_bwd_sl": self.cloud_bwd_sl,
            "cloud_bwd_ht": self.cloud_bwd_ht,
        }


def _grad_like(t: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(t)


def count_split(
    edge: nn.Module,
    exit_head: nn.Module | None,
    cloud: nn.Module,
    input_shape: Sequence[int],
    cut_shape: Sequence[int],
    batch_size: int,
    device: str | torch.device = "meta",
    count_flops: bool = True,
    count_cloud: bool = True,
) -> PartCounts:
    """Runs one split point part by part, as the schemes do, and counts each part.

    ``edge``/``cloud`` are empty ``nn.Sequential`` at split 0/n. ``input_shape`` and
    ``cut_shape`` are per-sample shapes of the raw input and of the tensor at the cut.
    With ``count_flops=False`` only the saved-tensor bytes are measured (forward passes only).
    """
    counts = PartCounts()
    has_edge = len(list(edge.children())) > 0
    has_cloud = len(list(cloud.children())) > 0
    parts = [m for m in (edge, exit_head, cloud) if m is not None]

    def region() -> Any:
        return counting() if count_flops else _no_count()

    x = torch.empty(batch_size, *input_shape, device=device)
    with SavedTensorMeter(exclude=parts) as meter:
        cut = x
        if has_edge:
            with region() as counts.edge_fwd:
                cut = edge(x)
        counts.edge_saved_bytes = meter.saved_bytes
        exit_out = exit_input = None
        if exit_head is not None:
            exit_input = cut.detach().requires_grad_(True)
            with region() as counts.exit_fwd:
                exit_out = exit_head(exit_input)
        counts.exit_saved_bytes = meter.saved_bytes - counts.edge_saved_bytes
    if count_flops and exit_out is not None and exit_input is not None:
        with counting() as counts.exit_bwd:
            exit_out.backward(_grad_like(exit_out))
    if count_flops and has_edge:
        grad = exit_input.grad if exit_input is not None else None
        with counting() as counts.edge_bwd:
            cut.backward(grad if grad is not None else _grad_like(cut))
    if not has_cloud or not count_cloud:
        return counts
    for variant in ("sl", "ht"):
        if variant == "ht" and not count_flops:
            break
        needs_input_grad = variant == "sl" and has_edge
        cloud_input = torch.empty(batch_size, *cut_shape, device=device)
        cloud_input.requires_grad_(needs_input_grad)
        with SavedTensorMeter(exclude=parts) as meter, region() as fwd:
            out = cloud(cloud_input)
        if variant == "sl":
            counts.cloud_fwd = fwd
            counts.cloud_saved_bytes = meter.saved_bytes
        if count_flops:
            with counting() as bwd:
                out.backward(_grad_like(out))
            setattr(counts, f"cloud_bwd_{variant}", bwd)
    return counts


@contextmanager
def _no_count() -> Iterator[Tally]:
    yield Tally()


def _per_sample(total: int, batch_size: int, what: str) -> int:
    if total % batch_size:
        raise RuntimeError(f"{what}: {total} is not a multiple of the batch size {batch_size}")
    return total // batch_size


def fvcore_forward_macs(
    model: str,
    input_name: str,
    width: float,
    head: HeadConfig | None,
) -> tuple[list[int], list[int]]:
    """fvcore's forward multiply–adds per sample: of each block, and of the exit after each split.

    Convolutions and linear layers only (:data:`FVCORE_MATMUL_OPS`). Traces real CPU modules at
    batch 1 in eval mode. The exit list has one entry per split 0 … n (0 where there is no exit).
    """
    from fvcore.nn import FlopCountAnalysis

    spec = input_spec(input_name)
    shapes = feature_shapes(model, input_name, width)
    blocks = build_blocks(model, input_name, width, seed=0)

    def macs(module: nn.Module, shape: Sequence[int]) -> dict[str, int]:
        analysis = FlopCountAnalysis(module.eval(), (torch.zeros(1, *shape),))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = analysis.by_module_and_operator()
        return {
            name: sum(v for op, v in ops.items() if op in FVCORE_MATMUL_OPS)
            for name, ops in table.items()
        }

    with torch.no_grad():
        by_module = macs(sequential(blocks), spec.shape)
        block_macs = [by_module.get(name, 0) for name, _ in blocks]
        exit_macs = [0] * len(shapes)
        for split in range(1, len(shapes) - 1):
            exit_head = build_exit_head(shapes[split][0], spec.num_classes, width, head)
            exit_macs[split] = macs(exit_head, shapes[split])[""]
    return block_macs, exit_macs


@dataclass(frozen=True)
class CountingInfo:
    """What a profile run saw, for the metadata file."""

    batch_size: int
    memory_batch_sizes: tuple[int, int]
    other_ops: dict[str, int]
    fast_meta_ops: tuple[str, ...]


def profile_model(
    model: str,
    input_name: str,
    width: float = 1.0,
    head: HeadConfig | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    shape_only: bool = True,
    fvcore: bool = True,
) -> tuple[pd.DataFrame, CountingInfo]:
    """The profile of ``model`` on ``input_name``: one row per split point 0 … n.

    Columns: :data:`REQUIRED_COLUMNS` then :data:`EXTRA_COLUMNS`. ``shape_only`` enables
    :class:`ShapeOnlyMode` (same counts, faster); ``fvcore=False`` leaves the fvcore columns
    empty (faster; the cross-check then cannot run).
    """
    from tqdm import tqdm

    check_model(model)
    spec = input_spec(input_name)
    width = check_width(width)
    if batch_size < 2:
        raise ValueError(f"batch_size must be >= 2 (batch norm needs it), got {batch_size}")
    shapes = feature_shapes(model, input_name, width)
    n = len(shapes) - 1
    with torch.device("meta"):
        blocks = build_blocks(model, input_name, width)
        heads: list[nn.Module | None] = [None] * (n + 1)
        for split in range(1, n):
            heads[split] = build_exit_head(shapes[split][0], spec.num_classes, width, head)
    block_macs, exit_macs = (
        fvcore_forward_macs(model, input_name, width, head) if fvcore else ([], [])
    )
    other_ops: Counter[str] = Counter()
    rows: list[dict[str, Any]] = []
    mode = ShapeOnlyMode() if shape_only else None
    splits = tqdm(
        range(n + 1), desc=f"{model}_{input_name}", unit="split", disable=not progress, leave=False
    )
    for split in splits:
        edge = sequential(blocks[:split])
        cloud = sequential(blocks[split:])
        exit_head = heads[split]
        with mode if mode is not None else _null():
            main = count_split(edge, exit_head, cloud, spec.shape, shapes[split], batch_size)
            double = count_split(
                edge,
                exit_head,
                cloud,
                spec.shape,
                shapes[split],
                2 * batch_size,
                count_flops=False,
            )
        row = _row(
            split=split,
            split_name=INPUT_SPLIT_NAME if split == 0 else blocks[split - 1][0],
            main=main,
            double=double,
            batch_size=batch_size,
            input_shape=spec.shape,
            cut_shape=shapes[split],
            edge=edge,
            exit_head=exit_head,
            cloud=cloud,
        )
        if fvcore:
            row["edge_fvcore_fwd_macs"] = sum(block_macs[:split])
            row["exit_fvcore_fwd_macs"] = exit_macs[split]
            row["cloud_fvcore_fwd_macs"] = sum(block_macs[split:])
        rows.append(row)
        for tally in main.tallies().values():
            other_ops.update(tally.ops)
    frame = pd.DataFrame(rows, columns=[*REQUIRED_COLUMNS, *EXTRA_COLUMNS])
    info = CountingInfo(
        batch_size=batch_size,
        memory_batch_sizes=(batch_size, 2 * batch_size),
        other_ops=dict(sorted(other_ops.items())),
        fast_meta_ops=tuple(sorted(str(op) for op in _SHAPE_ONLY)) if shape_only else (),
    )
    return frame, info


@contextmanager
def _null() -> Iterator[None]:
    yield None


def _flops_column(part: str, other: bool = False) -> str:
    """Column of a part's FLOPs: ``cloud_bwd_sl`` → ``cloud_bwd_flops_sl`` (design.md names)."""
    side, direction, *variant = part.split("_")
    middle = f"{side}_other" if other else side
    return "_".join([middle, direction, "flops", *variant])


def _row(
    *,
    split: int,
    split_name: str,
    main: PartCounts,
    double: PartCounts,
    batch_size: int,
    input_shape: Sequence[int],
    cut_shape: Sequence[int],
    edge: nn.Module,
    exit_head: nn.Module | None,
    cloud: nn.Module,
) -> dict[str, Any]:
    def per_sample(total: int, what: str) -> int:
        return _per_sample(total, batch_size, f"split {split} {what}")

    input_bytes = prod(input_shape)  # uint8 image: one byte per value
    activation_bytes = input_bytes if split == 0 else prod(cut_shape) * BYTES_PER_FP32
    row: dict[str, Any] = {
        "split": split,
        "split_name": split_name,
        "activation_bytes": activation_bytes,
        "input_bytes": input_bytes,
        "label_bytes": BYTES_PER_INT64,
        "activation_shape": "x".join(str(d) for d in cut_shape),
    }
    for part, tally in main.tallies().items():
        row[_flops_column(part)] = per_sample(tally.flops, part)
        row[_flops_column(part, other=True)] = per_sample(tally.other_flops, f"{part} other")
    saved = {
        "edge": (main.edge_saved_bytes, double.edge_saved_bytes),
        "exit": (main.exit_saved_bytes, double.exit_saved_bytes),
        "cloud": (main.cloud_saved_bytes, double.cloud_saved_bytes),
    }
    for part, (small, large) in saved.items():
        row[f"{part}_train_bytes_per_sample"] = per_sample(large - small, f"{part} memory")
    for part, module in (("edge", edge), ("exit", exit_head), ("cloud", cloud)):
        params = param_bytes(module)
        buffers = buffer_bytes(module)
        row[f"{part}_param_bytes"] = params
        row[f"{part}_buffer_bytes"] = buffers
        row[f"{part}_train_fixed_bytes_sgd_momentum"] = SGD_MOMENTUM_COPIES * params + buffers
        row[f"{part}_train_fixed_bytes_adam"] = ADAM_COPIES * params + buffers
    return row


# ----------------------------------------------------------------------------------------------
# Timing on this CPU


@dataclass(frozen=True)
class TimingSettings:
    """How :func:`time_parts` times: batch size, warm-up and timed repeats (median taken)."""

    batch_size: int = 16
    warmup: int = 1
    repeats: int = 3

    def __post_init__(self) -> None:
        if self.batch_size < 2 or self.warmup < 0 or self.repeats < 1:
            raise ValueError(f"bad timing settings: {self}")


def time_parts(
    model: str,
    input_name: str,
    width: float = 1.0,
    head: HeadConfig | None = None,
    settings: TimingSettings | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Measured seconds per sample of each part at each split point on this CPU.

    Real fp32 modules in training mode, random inputs, seed 0. For every split point, every
    repeat runs the parts in the order of a training step — edge forward, exit forward and
    backward, edge backward, cloud forward, cloud backward without the input gradient (HT),
    cloud backward with it (SL, from the same forward) — and times each separately with
    ``time.perf_counter``. The first ``warmup`` repeats are discarded; the value is the median of
    the others divided by the batch size. Columns: ``split`` and :data:`TIME_COLUMNS`. Threads
    are whatever ``torch.get_num_threads()`` is; the caller fixes and records them.
    """
    from tqdm import tqdm

    settings = settings or TimingSettings()
    spec = input_spec(input_name)
    width = check_width(width)
    shapes = feature_shapes(model, input_name, width)
    n = len(shapes) - 1
    blocks = build_blocks(model, input_name, width, seed=0)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(settings.batch_size, *spec.shape, generator=generator)
    rows = []
    splits = tqdm(
        range(n + 1),
        desc=f"time {model}_{input_name}",
        unit="split",
        disable=not progress,
        leave=False,
    )
    for split in splits:
        edge = sequential(blocks[:split])
        cloud = sequential(blocks[split:])
        exit_head = None
        if 0 < split < n:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(split)
                exit_head = build_exit_head(shapes[split][0], spec.num_classes, width, head)
        samples: dict[str, list[float]] = {name: [] for name in TIME_COLUMNS}
        for repeat in range(settings.warmup + settings.repeats):
            times = _time_step(edge, exit_head, cloud, x, has_edge=split > 0, has_cloud=split < n)
            if repeat >= settings.warmup:
                for name, seconds in times.items():
                    samples[name].append(seconds)
        row: dict[str, Any] = {"split": split}
        for name in TIME_COLUMNS:
            row[name] = statistics.median(samples[name]) / settings.batch_size
        rows.append(row)
    return pd.DataFrame(rows, columns=["split", *TIME_COLUMNS])


def _time_step(
    edge: nn.Module,
    exit_head: nn.Module | None,
    cloud: nn.Module,
    x: torch.Tensor,
    has_edge: bool,
    has_cloud: bool,
) -> dict[str, float]:
    times = dict.fromkeys(TIME_COLUMNS, 0.0)
    clock = time.perf_counter
    for module in (edge, exit_head):
        for param in module.parameters() if module is not None else ():
            param.grad = None  # as optimizer.zero_grad(set_to_none=True) before each step
    cut = x
    if has_edge:
        start = clock()
        cut = edge(x)
        times["edge_fwd_s"] = clock() - start
    grad = torch.ones_like(cut)
    if exit_head is not None:
        exit_input = cut.detach().requires_grad_(True)
        start = clock()
        exit_out = exit_head(exit_input)
        times["exit_fwd_s"] = clock() - start
        exit_grad = torch.ones_like(exit_out)
        start = clock()
        exit_out.backward(exit_grad)
        times["exit_bwd_s"] = clock() - start
        assert exit_input.grad is not None
        grad = exit_input.grad
    if has_edge:
        start = clock()
        cut.backward(grad)
        times["edge_bwd_s"] = clock() - start
    if not has_cloud:
        return times
    # One cloud forward serves both backward passes: autograd computes only the gradients asked
    # for, so asking for the parameters alone skips the input gradient (HT), asking for the
    # input too computes it (SL). The counted FLOPs of both ways agree (checked by a test).
    cloud_input = cut.detach().requires_grad_(has_edge)
    params = [p for p in cloud.parameters() if p.requires_grad]
    start = clock()
    out = cloud(cloud_input)
    times["cloud_fwd_s"] = clock() - start
    out_grad = torch.ones_like(out)
    start = clock()
    torch.autograd.grad(out, params, out_grad, retain_graph=True)
    times["cloud_bwd_ht_s"] = clock() - start
    start = clock()
    torch.autograd.grad(out, [*params, cloud_input] if has_edge else params, out_grad)
    times["cloud_bwd_sl_s"] = clock() - start
    return times
