"""Real training of a split model: sequential split learning (SL) or early-exit hierarchical (HT).

One model (:mod:`simulator.torchkit.models`) is cut at a split point into the edge part, the
early-exit head and the cloud part, exactly as the profiler cuts it. The step functions are
written as the two halves of a real split system, exchanging tensors; the measured-runs code
calls the same functions in two processes.

Sequential split learning, per batch (:func:`sl_step`)::

    edge:  cut = edge_forward(edge, x)                     send cut.detach() and labels up
    cloud: reply = cloud_step(cloud, opt_c, cut, labels)   forward, backward, update;
                                                           send reply.grad (d loss / d cut) down
    edge:  edge_backward(cut, reply.grad, opt_e)           backward from the cut, update

The edge's parameter gradients are exactly those of end-to-end training of the whole model on the
same batch (the chain rule cut at one tensor; a test checks every parameter), so SL's accuracy is
that of end-to-end training, at every split point.

Hierarchical training, per batch (:func:`ht_step`)::

    edge:  sent = edge_step(edge, exit_head, opt_e, x, labels)   forward, early-exit loss,
                                                                 backward, update; send
                                                                 sent.activations and labels up
    cloud: cloud_step_detached(cloud, opt_c, sent.activations, sent.labels)
                                                                 forward, backward, update; the
                                                                 input is a constant

The edge layers and the exit head learn only from the early exit's loss; the cloud learns on the
detached cut tensor, and no gradient goes down. Edge (+ exit) and cloud have separate optimizers
in both schemes (for SL this equals one optimizer over all parameters: SGD and Adam act on each
parameter alone).

:func:`train` runs whole epochs from a :class:`TrainConfig`: seeded batch order and augmentation
(:mod:`simulator.torchkit.data`), a learning rate set every step from the schedule, a test pass
after every epoch, one tidy row per epoch appended to ``accuracy.csv`` and a checkpoint after
every completed epoch, from which an interrupted run resumes.

Determinism: the initial weights come from ``torch.manual_seed(seed)`` (inside
:func:`~simulator.torchkit.models.split_model`, without touching the global generator), the batch
order and augmentation from numpy generators derived from the seed and the epoch, and nothing else
in training is random. The same config, data and thread count give bit-identical rows (apart from
wall times) and weights, resumed or not. Known nondeterminism: another ``threads`` value or
another CPU may change the last bits of convolution results (a different split of the sums over
threads / other vector kernels), and so the numbers after a few epochs.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from simulator.errors import InputError
from simulator.torchkit.data import (
    AUGMENT_STREAM,
    ORDER_STREAM,
    ImageData,
    batch_count,
    batches,
    channel_stats,
    epoch_generator,
)
from simulator.torchkit.heads import HeadConfig
from simulator.torchkit.models import (
    MODELS,
    SplitModel,
    check_model,
    input_spec,
    resolve_split,
    split_model,
    split_names,
)
from simulator.torchkit.width import check_width

Scheme = Literal["sl", "ht"]
SCHEMES: tuple[str, ...] = ("sl", "ht")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SCHEDULES: tuple[str, ...] = ("cosine", "constant")

CHECKPOINT_NAME = "checkpoint.pt"
ROWS_NAME = "accuracy.csv"
CONFIG_NAME = "config.json"

KEY_COLUMNS: tuple[str, ...] = (
    "model",
    "input",
    "split",
    "split_name",
    "scheme",
    "seed",
    "epoch",
    "width",
)
"""Columns that identify a row, in the order the simulator's result rows use them."""

METRIC_COLUMNS: tuple[str, ...] = (
    "train_loss",
    "train_accuracy",
    "train_exit_loss",
    "train_exit_accuracy",
    "test_accuracy",
    "test_exit_accuracy",
    "lr_end",
    "train_wall_s",
    "eval_wall_s",
    "elapsed_wall_s",
)
"""Per-epoch measurements. ``train_*``: mean over the epoch's training batches (cross-entropy in
nats, accuracy as a fraction). ``test_accuracy``: final (cloud) exit on the test set;
``test_exit_accuracy``: the early exit (HT only; empty for SL). ``*_wall_s``: seconds of wall
time on this machine (not simulated time); ``elapsed_wall_s`` adds up all epochs so far."""

SETTING_COLUMNS: tuple[str, ...] = (
    "epochs",
    "batch_size",
    "train_samples",
    "test_samples",
    "data",
    "optimizer",
    "lr",
    "momentum",
    "weight_decay",
    "schedule",
    "crop_padding_px",
    "flip",
    "head_channels",
    "head_kernel_size",
    "threads",
    "torch_version",
)
"""The run's settings, repeated on every row so each row stands alone. ``train_samples`` is the
training-set size: a scenario's ``samples_per_epoch`` must equal it for time to accuracy."""

ROW_COLUMNS: tuple[str, ...] = KEY_COLUMNS + METRIC_COLUMNS + SETTING_COLUMNS


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run's numbers (and ``threads``, which should not).

    ``split``: index or name of the split point (see ``split_names``). ``width``: channel
    multiplier of the model and default head. ``head_channels``: the early exit's convolution
    channels (``None``: ``round(128 × width)``; 0: pool → linear only). ``lr``: peak learning
    rate; ``schedule="cosine"`` decays it to 0 over all steps, per step. ``momentum``: SGD momentum
    or Adam's β1. ``weight_decay``: L2 coefficient. ``crop_padding_px`` = 0 and ``flip`` = False
    turn augmentation off. ``train_samples`` / ``test_samples``: use only the leading rows of the
    data (``None``: all). ``threads``: torch CPU threads (``None``: leave torch's setting).
    """

    model: str
    split: int | str
    scheme: Scheme = "sl"
    input_name: str = "cifar10"
    width: float = 0.25
    head_channels: int | None = None
    head_kernel_size: int = 3
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: Literal["cosine", "constant"] = "cosine"
    batch_size: int = 64
    epochs: int = 10
    seed: int = 0
    crop_padding_px: int = 4
    flip: bool = True
    train_samples: int | None = None
    test_samples: int | None = None
    threads: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        try:
            check_model(self.model)
            input_spec(self.input_name)
            check_width(self.width)
            self.head()
        except ValueError as exc:
            raise InputError(str(exc)) from None
        choices = (("scheme", SCHEMES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES))
        for name, allowed in choices:
            if getattr(self, name) not in allowed:
                raise InputError(
                    f"unknown {name} {getattr(self, name)!r} (allowed: {', '.join(allowed)})"
                )
        for name in ("batch_size", "epochs"):
            _require(name, getattr(self, name), lambda v: v >= 1, "an integer >= 1")
        for name in ("seed", "crop_padding_px"):
            _require(name, getattr(self, name), lambda v: v >= 0, "an integer >= 0")
        for name in ("train_samples", "test_samples", "threads"):
            if getattr(self, name) is not None:
                _require(name, getattr(self, name), lambda v: v >= 1, "an integer >= 1")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise InputError(f"lr must be a number > 0, got {self.lr!r}")
        if not (0 <= self.momentum < 1 and self.weight_decay >= 0):
            raise InputError(
                f"momentum must be in [0, 1) and weight_decay >= 0, got "
                f"{self.momentum!r}, {self.weight_decay!r}"
            )
        names = split_names(self.model, self.input_name)
        try:
            resolve_split(self.split, names, f"{self.model} on {self.input_name}")
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def head(self) -> HeadConfig:
        """The early-exit head's configuration."""
        return HeadConfig(conv_channels=self.head_channels, kernel_size=self.head_kernel_size)

    def split_index(self) -> int:
        """The split point as an index 0 … n."""
        names = split_names(self.model, self.input_name)
        return resolve_split(self.split, names, f"{self.model} on {self.input_name}")

    def identity(self) -> dict[str, Any]:
        """The settings a checkpoint must share to be resumed (all but ``threads``), split as
        an index."""
        data = dataclasses.asdict(self)
        del data["threads"]
        data["split"] = self.split_index()
        return data


def _require(name: str, value: Any, ok: Callable[[int], bool], what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not ok(value):
        raise InputError(f"{name} must be {what}, got {value!r}")


# --------------------------------------------------------------------------------------------
# The step functions: the edge and cloud halves of one batch


@dataclass(frozen=True)
class CloudReply:
    """What the cloud's SL step yields: its loss (mean cross-entropy, nats), the number of
    correct predictions, and ``grad``, d loss / d cut tensor, to be sent down to the edge."""

    loss: float
    correct: int
    grad: torch.Tensor


@dataclass(frozen=True)
class EdgeMessage:
    """What the edge's HT step sends up: the detached cut tensor and the labels that travel with
    it; plus the early exit's loss (nats; NaN when the edge trains nothing) and correct count."""

    activations: torch.Tensor
    labels: torch.Tensor
    exit_loss: float
    exit_correct: int


def _correct(logits: torch.Tensor, labels: torch.Tensor) -> int:
    return int((logits.argmax(dim=1) == labels).sum())


def edge_forward(edge: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """SL edge forward: the cut tensor, still attached to the edge's autograd graph.

    Send ``cut.detach()`` (and the labels) to the cloud; keep ``cut`` for :func:`edge_backward`.
    """
    cut: torch.Tensor = edge(x)
    return cut


def cloud_step(
    cloud: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    activations: torch.Tensor,
    labels: torch.Tensor,
) -> CloudReply:
    """SL cloud step: forward, loss, backward (down to its input), update.

    ``activations`` is the received cut tensor; the cloud makes it a leaf of its own graph so the
    backward pass ends with the gradient to send down. ``optimizer=None`` leaves the gradients in
    ``.grad`` without zeroing or stepping (tests; a cloud with no parameters at split n).
    """
    inputs = activations.detach().requires_grad_(True)
    logits = cloud(inputs)
    loss = F.cross_entropy(logits, labels)
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if optimizer is not None:
        optimizer.step()
    assert inputs.grad is not None
    return CloudReply(float(loss.item()), _correct(logits, labels), inputs.grad)


def edge_backward(
    cut: torch.Tensor, grad: torch.Tensor, optimizer: torch.optim.Optimizer | None
) -> None:
    """SL edge backward: back-propagate the received ``grad`` from the cut tensor, then update.

    Nothing to do when the edge holds no parameters (split 0). ``optimizer=None`` leaves the
    gradients in ``.grad`` (tests).
    """
    if not cut.requires_grad:
        return
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
    cut.backward(grad)
    if optimizer is not None:
        optimizer.step()


def edge_step(
    edge: nn.Module,
    exit_head: nn.Module | None,
    optimizer: torch.optim.Optimizer | None,
    x: torch.Tensor,
    labels: torch.Tensor,
) -> EdgeMessage:
    """HT edge step: forward, early-exit loss, backward, update; returns the message to send.

    The activations sent are the cut tensor of this forward pass (before the update), detached.
    ``exit_head=None`` with an ``optimizer``: the edge output itself is the exit's logits
    (split n, everything on the edge). ``optimizer=None``: the edge trains nothing (split 0, or
    a test), it only computes the cut tensor.
    """
    if optimizer is None:
        with torch.no_grad():
            cut = edge(x)
        return EdgeMessage(cut, labels, math.nan, 0)
    cut = edge(x)
    logits = exit_head(cut) if exit_head is not None else cut
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return EdgeMessage(cut.detach(), labels, float(loss.item()), _correct(logits, labels))


def cloud_step_detached(
    cloud: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    activations: torch.Tensor,
    labels: torch.Tensor,
) -> tuple[float, int]:
    """HT cloud step on a received, detached cut tensor: forward, loss, backward, update.

    Returns (loss in nats, correct predictions). Raises ``ValueError`` if ``activations`` is still
    attached to a graph: HT must not send gradients down. ``optimizer=None``: forward and loss
    only (a cloud with no parameters at split n).
    """
    if activations.requires_grad:
        raise ValueError("HT cloud step: the cut tensor must be detached (no gradient goes down)")
    logits = cloud(activations)
    loss = F.cross_entropy(logits, labels)
    if optimizer is not None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return float(loss.item()), _correct(logits, labels)


# --------------------------------------------------------------------------------------------
# Training state, one batch, one epoch


@dataclass
class TrainState:
    """The model parts, their optimizers and how far training has got."""

    config: TrainConfig
    parts: SplitModel
    edge_optimizer: torch.optim.Optimizer | None
    cloud_optimizer: torch.optim.Optimizer | None
    epochs_done: int = 0
    elapsed_wall_s: float = 0.0


@dataclass
class _Tally:
    """Running sums over an epoch's batches."""

    loss_sum: float = 0.0
    correct: int = 0
    samples: int = 0

    def add(self, loss: float, correct: int, samples: int) -> None:
        self.loss_sum += loss * samples
        self.correct += correct
        self.samples += samples

    def loss(self) -> float:
        return self.loss_sum / self.samples if self.samples else math.nan

    def accuracy(self) -> float:
        return self.correct / self.samples if self.samples else math.nan


def make_optimizer(params: list[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer | None:
    """The configured optimizer over ``params``; ``None`` when there are none."""
    if not params:
        return None
    if config.optimizer == "adam":
        return torch.optim.Adam(
            params, lr=config.lr, betas=(config.momentum, 0.999), weight_decay=config.weight_decay
        )
    return torch.optim.SGD(
        params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
    )


def learning_rate(config: TrainConfig, step: int, total_steps: int) -> float:
    """Learning rate of step ``step`` (0-based) of ``total_steps``: constant, or cosine decay from
    ``lr`` towards 0 (``lr · ½(1 + cos(π·step/total_steps))``)."""
    if config.schedule == "constant":
        return config.lr
    return config.lr * 0.5 * (1.0 + math.cos(math.pi * step / total_steps))


def build_state(config: TrainConfig) -> TrainState:
    """Fresh model parts (weights from ``config.seed``) and optimizers.

    Edge optimizer: edge layers (+ exit head for HT). Cloud optimizer: cloud layers.
    """
    parts = split_model(
        config.model, config.input_name, config.split, config.width, config.head(), seed=config.seed
    )
    edge_params = list(parts.edge.parameters())
    if config.scheme == "ht" and parts.exit_head is not None and edge_params:
        edge_params += list(parts.exit_head.parameters())
    return TrainState(
        config,
        parts,
        make_optimizer(edge_params, config),
        make_optimizer(list(parts.cloud.parameters()), config),
    )


def sl_step(state: TrainState, x: torch.Tensor, labels: torch.Tensor) -> CloudReply:
    """One SL batch: edge forward → cloud step → gradient down → edge backward."""
    cut = edge_forward(state.parts.edge, x)
    reply = cloud_step(state.parts.cloud, state.cloud_optimizer, cut.detach(), labels)
    edge_backward(cut, reply.grad, state.edge_optimizer)
    return reply


def ht_step(
    state: TrainState, x: torch.Tensor, labels: torch.Tensor
) -> tuple[EdgeMessage, tuple[float, int]]:
    """One HT batch: edge step (early exit) → message up → cloud step on the detached tensor."""
    message = edge_step(state.parts.edge, state.parts.exit_head, state.edge_optimizer, x, labels)
    cloud = cloud_step_detached(
        state.parts.cloud, state.cloud_optimizer, message.activations, message.labels
    )
    return message, cloud


def _set_mode(parts: SplitModel, training: bool) -> None:
    for module in (parts.edge, parts.exit_head, parts.cloud):
        if module is not None:
            module.train(training)


@torch.no_grad()
def evaluate(
    parts: SplitModel, x: torch.Tensor, labels: torch.Tensor, batch_size: int, with_exit: bool
) -> tuple[float, float]:
    """Test accuracy (fraction) of the final exit and of the early exit (NaN unless
    ``with_exit`` and the split has an exit head), in eval mode (batch-norm running stats)."""
    _set_mode(parts, training=False)
    final = early = 0
    has_exit = with_exit and parts.exit_head is not None
    for xb, yb in batches(x, labels, batch_size):
        cut = parts.edge(xb)
        final += _correct(parts.cloud(cut), yb)
        if has_exit:
            assert parts.exit_head is not None
            early += _correct(parts.exit_head(cut), yb)
    _set_mode(parts, training=True)
    count = len(labels)
    return final / count, (early / count if has_exit else math.nan)


@dataclass(frozen=True)
class PreparedData:
    """Normalised tensors of one data set (normalised with the training images' statistics)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @staticmethod
    def from_images(data: ImageData, config: TrainConfig) -> PreparedData:
        spec = input_spec(config.input_name)
        if data.shape != spec.shape or data.num_classes != spec.num_classes:
            raise InputError(
                f"data {data.name} has images {data.shape} and "
                f"{data.num_classes} classes; input {spec.name} needs {spec.shape} "
                f"and {spec.num_classes}"
            )
        data = data.head(config.train_samples, config.test_samples)
        norm = channel_stats(data.x_train)
        return PreparedData(
            data.name,
            norm.apply(data.x_train),
            torch.from_numpy(data.y_train),
            norm.apply(data.x_test),
            torch.from_numpy(data.y_test),
        )


ProgressFactory = Callable[[Iterator[Any], int, str], Iterator[Any]]
"""``progress(iterator, total, description)`` wraps the batches of an epoch (e.g. tqdm)."""


def train_epoch(
    state: TrainState, data: PreparedData, progress: ProgressFactory | None = None
) -> dict[str, Any]:
    """Train one epoch (the next one), test, and return its row (see :data:`ROW_COLUMNS`)."""
    config, parts = state.config, state.parts
    epoch = state.epochs_done + 1
    steps = batch_count(len(data.y_train), config.batch_size)
    total_steps = steps * config.epochs
    augmenting = config.crop_padding_px > 0 or config.flip
    iterator: Iterator[tuple[torch.Tensor, torch.Tensor]] = batches(
        data.x_train,
        data.y_train,
        config.batch_size,
        order_rng=epoch_generator(config.seed, epoch, ORDER_STREAM),
        augment_rng=epoch_generator(config.seed, epoch, AUGMENT_STREAM) if augmenting else None,
        crop_padding_px=config.crop_padding_px,
        flip=config.flip,
    )
    if progress is not None:
        iterator = progress(iterator, steps, f"epoch {epoch}/{config.epochs}")
    final, early = _Tally(), _Tally()
    lr = config.lr
    _set_mode(parts, training=True)
    start_s = time.perf_counter()
    for step, (xb, yb) in enumerate(iterator):
        lr = learning_rate(config, (epoch - 1) * steps + step, total_steps)
        for optimizer in (state.edge_optimizer, state.cloud_optimizer):
            if optimizer is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr
        if config.scheme == "sl":
            reply = sl_step(state, xb, yb)
            final.add(reply.loss, reply.correct, len(yb))
        else:
            message, (loss, correct) = ht_step(state, xb, yb)
            final.add(loss, correct, len(yb))
            if not math.isnan(message.exit_loss):
                early.add(message.exit_loss, message.exit_correct, len(yb))
    train_wall_s = time.perf_counter() - start_s
    start_s = time.perf_counter()
    test_accuracy, test_exit_accuracy = evaluate(
        parts, data.x_test, data.y_test, config.batch_size, config.scheme == "ht"
    )
    eval_wall_s = time.perf_counter() - start_s
    state.epochs_done = epoch
    state.elapsed_wall_s += train_wall_s + eval_wall_s
    has_exit = config.scheme == "ht" and parts.exit_head is not None
    return {
        "model": config.model,
        "input": config.input_name,
        "split": parts.split,
        "split_name": parts.split_name,
        "scheme": config.scheme,
        "seed": config.seed,
        "epoch": epoch,
        "width": config.width,
        "train_loss": final.loss(),
        "train_accuracy": final.accuracy(),
        "train_exit_loss": early.loss() if has_exit else math.nan,
        "train_exit_accuracy": early.accuracy() if has_exit else math.nan,
        "test_accuracy": test_accuracy,
        "test_exit_accuracy": test_exit_accuracy,
        "lr_end": lr,
        "train_wall_s": train_wall_s,
        "eval_wall_s": eval_wall_s,
        "elapsed_wall_s": state.elapsed_wall_s,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "train_samples": len(data.y_train),
        "test_samples": len(data.y_test),
        "data": data.name,
        "optimizer": config.optimizer,
        "lr": config.lr,
        "momentum": config.momentum,
        "weight_decay": config.weight_decay,
        "schedule": config.schedule,
        "crop_padding_px": config.crop_padding_px,
        "flip": config.flip,
        "head_channels": config.head().channels(config.width),
        "head_kernel_size": config.head_kernel_size,
        "threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }


# --------------------------------------------------------------------------------------------
# Checkpoints and rows on disk


def save_checkpoint(path: Path, state: TrainState) -> None:
    """Write the state atomically (a temporary file, then a rename)."""
    payload = {
        "config": state.config.identity(),
        "epochs_done": state.epochs_done,
        "elapsed_wall_s": state.elapsed_wall_s,
        "edge": state.parts.edge.state_dict(),
        "exit_head": state.parts.exit_head.state_dict() if state.parts.exit_head else None,
        "cloud": state.parts.cloud.state_dict(),
        "edge_optimizer": state.edge_optimizer.state_dict() if state.edge_optimizer else None,
        "cloud_optimizer": state.cloud_optimizer.state_dict() if state.cloud_optimizer else None,
    }
    temporary = path.with_name(path.name + ".tmp")
    torch.save(payload, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path, config: TrainConfig) -> TrainState:
    """The state saved at ``path``; :class:`InputError` if it was made with other settings."""
    try:
        payload = torch.load(path, weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which, in one line
        raise InputError(
            f"{path}: unreadable checkpoint ({type(exc).__name__}); remove it or use --restart"
        ) from None
    saved, wanted = payload["config"], config.identity()
    differ = sorted(k for k in set(saved) | set(wanted) if saved.get(k) != wanted.get(k))
    if differ:
        shown = ", ".join(f"{k}={saved.get(k)!r} (now {wanted.get(k)!r})" for k in differ)
        raise InputError(
            f"{path}: checkpoint made with other settings: {shown}; use another --out or --restart"
        )
    state = build_state(config)
    state.parts.edge.load_state_dict(payload["edge"])
    if state.parts.exit_head is not None and payload["exit_head"] is not None:
        state.parts.exit_head.load_state_dict(payload["exit_head"])
    state.parts.cloud.load_state_dict(payload["cloud"])
    if state.edge_optimizer is not None:
        state.edge_optimizer.load_state_dict(payload["edge_optimizer"])
    if state.cloud_optimizer is not None:
        state.cloud_optimizer.load_state_dict(payload["cloud_optimizer"])
    state.epochs_done = int(payload["epochs_done"])
    state.elapsed_wall_s = float(payload["elapsed_wall_s"])
    return state


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one row to the CSV at ``path`` (header first when the file is new)."""
    new = not path.is_file() or path.stat().st_size == 0
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROW_COLUMNS))
        if new:
            writer.writeheader()
        writer.writerow(
            {k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        )


def keep_rows_up_to(path: Path, epochs_done: int) -> None:
    """Drop rows of epochs after ``epochs_done`` (written before a crash, not checkpointed);
    the kept rows are rewritten unchanged, character for character."""
    if not path.is_file():
        return
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    kept = [r for r in rows if int(r["epoch"]) <= epochs_done]
    if len(kept) == len(rows):
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ROW_COLUMNS))
        writer.writeheader()
        writer.writerows(kept)


def describe(state: TrainState, data: PreparedData) -> list[str]:
    """Derived quantities worth printing before training starts (nanoGPT style)."""
    config, parts = state.config, state.parts

    def count(module: nn.Module | None) -> int:
        return sum(p.numel() for p in module.parameters()) if module is not None else 0

    steps = batch_count(len(data.y_train), config.batch_size)
    exit_used = config.scheme == "ht" and parts.exit_head is not None
    return [
        f"{config.model} on {config.input_name} at width {config.width:g}, split {parts.split} "
        f"({parts.split_name}), scheme {config.scheme}, seed {config.seed}",
        f"parameters: edge {count(parts.edge):,}, early exit "
        f"{count(parts.exit_head) if exit_used else 0:,}, cloud {count(parts.cloud):,}",
        f"data {data.name}: {len(data.y_train)} training / {len(data.y_test)} test images; "
        f"{steps} steps of {config.batch_size} per epoch, {config.epochs} epochs",
        f"optimizer {config.optimizer} (lr {config.lr:g}, {config.schedule}, momentum "
        f"{config.momentum:g}, weight decay {config.weight_decay:g}); augmentation: crop pad "
        f"{config.crop_padding_px} px, flip {config.flip}; torch threads "
        f"{torch.get_num_threads()}",
    ]


def train(
    config: TrainConfig,
    data: ImageData,
    out: Path | None = None,
    *,
    resume: bool = True,
    max_new_epochs: int | None = None,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Train until ``config.epochs`` are done; return one row per epoch (all epochs so far).

    With ``out``: writes ``config.json``, appends each epoch's row to ``accuracy.csv`` and then
    saves ``checkpoint.pt``. A folder that already holds a checkpoint is resumed from its last
    completed epoch when ``resume`` (its settings must match), and started afresh otherwise.
    ``max_new_epochs`` stops after that many epochs in this call (an interruption on purpose).
    ``log`` receives one-line messages (the description, resume notes).
    """
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    say = log or (lambda _: None)
    prepared = PreparedData.from_images(data, config)
    state: TrainState | None = None
    rows: list[dict[str, Any]] = []
    rows_path = checkpoint_path = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        rows_path, checkpoint_path = out / ROWS_NAME, out / CHECKPOINT_NAME
        if checkpoint_path.is_file() and resume:
            state = load_checkpoint(checkpoint_path, config)
            keep_rows_up_to(rows_path, state.epochs_done)
            say(f"resuming {out} after epoch {state.epochs_done} of {config.epochs}")
        else:
            for stale in (checkpoint_path, rows_path):
                with contextlib.suppress(FileNotFoundError):
                    stale.unlink()
        (out / CONFIG_NAME).write_text(
            json.dumps(
                {
                    **dataclasses.asdict(config),
                    "split_index": config.split_index(),
                    "data": prepared.name,
                },
                indent=2,
            )
            + "\n"
        )
    if state is None:
        state = build_state(config)
    for line in describe(state, prepared):
        say(line)
    new_epochs = 0
    while state.epochs_done < config.epochs:
        if max_new_epochs is not None and new_epochs >= max_new_epochs:
            break
        row = train_epoch(state, prepared, progress)
        new_epochs += 1
        rows.append(row)
        if rows_path is not None and checkpoint_path is not None:
            append_row(rows_path, row)  # row first: a crash before the checkpoint repeats it
            save_checkpoint(checkpoint_path, state)
        say(
            f"epoch {row['epoch']}: train loss {row['train_loss']:.4f}, test accuracy "
            f"{row['test_accuracy']:.4f}"
            + (
                f", early exit {row['test_exit_accuracy']:.4f}"
                if not math.isnan(row["test_exit_accuracy"])
                else ""
            )
            + f" ({row['train_wall_s'] + row['eval_wall_s']:.1f} s)"
        )
    if rows_path is not None and rows_path.is_file():
        return pd.read_csv(rows_path)
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


__all__ = [
    "MODELS",
    "ROW_COLUMNS",
    "SCHEMES",
    "CloudReply",
    "EdgeMessage",
    "TrainConfig",
    "TrainState",
    "build_state",
    "cloud_step",
    "cloud_step_detached",
    "edge_backward",
    "edge_forward",
    "edge_step",
    "evaluate",
    "ht_step",
    "learning_rate",
    "load_checkpoint",
    "save_checkpoint",
    "sl_step",
    "train",
    "train_epoch",
]
