"""Split training: SL's gradients are end-to-end gradients, HT's edge never hears from the cloud,
a tiny run learns, and a resumed run equals an uninterrupted one. Tiny widths and synthetic data:
the CIFAR-10 subset is never needed."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from simulator.errors import InputError
from simulator.torchkit.data import (
    ImageData,
    augment,
    batches,
    epoch_generator,
    load_cifar10_subset,
    synthetic_images,
)
from simulator.torchkit.models import build_blocks, sequential, split_names
from simulator.torchkit.training import (
    CHECKPOINT_NAME,
    ROWS_NAME,
    TrainConfig,
    build_state,
    cloud_step,
    cloud_step_detached,
    edge_backward,
    edge_forward,
    edge_step,
    learning_rate,
    load_checkpoint,
    train,
)

pytestmark = pytest.mark.torch

WIDTH = 0.125
"""Small enough for milliseconds per batch, wide enough that every layer has several channels."""

WALL_COLUMNS = ["train_wall_s", "eval_wall_s", "elapsed_wall_s"]


@pytest.fixture(scope="module")
def tiny_data() -> ImageData:
    return synthetic_images(train_samples=48, test_samples=16, seed=3)


def _named(name: str) -> Callable[[str], str]:
    """An ``assert_close`` message that names the parameter."""
    return lambda message: f"{name}: {message}"


def _batch(seed: int = 0, size: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(size, 3, 32, 32, generator=generator),
        torch.randint(0, 10, (size,), generator=generator),
    )


@pytest.mark.parametrize(("model", "split"), [("vgg16", "conv3_3_pool"), ("resnet18", "layer2_1")])
def test_split_learning_gradients_equal_end_to_end(model: str, split: str) -> None:
    """Every parameter's gradient from the two SL halves equals ordinary backprop's."""
    names = split_names(model, "cifar10")
    assert 0 < names.index(split) < len(names) - 1  # a middle split: both sides hold layers
    config = TrainConfig(model=model, split=split, scheme="sl", width=WIDTH, seed=7)
    state = build_state(config)
    whole = sequential(build_blocks(model, "cifar10", WIDTH, seed=7))  # built independently
    x, y = _batch()

    # Split learning, as two halves exchanging tensors (optimizer None: keep .grad, no step).
    cut = edge_forward(state.parts.edge, x)
    sent_up = cut.detach()
    reply = cloud_step(state.parts.cloud, None, sent_up, y)
    edge_backward(cut, reply.grad, None)

    # Ordinary end-to-end training of the whole model on the same batch.
    loss = F.cross_entropy(whole(x), y)
    loss.backward()

    assert reply.loss == pytest.approx(loss.item(), rel=1e-6)
    split_grads = dict(state.parts.edge.named_parameters())
    split_grads.update(state.parts.cloud.named_parameters())
    whole_params = dict(whole.named_parameters())
    assert split_grads.keys() == whole_params.keys()
    for name, param in whole_params.items():
        assert param.grad is not None and split_grads[name].grad is not None, name
        torch.testing.assert_close(
            split_grads[name].grad,
            param.grad,
            rtol=1e-5,
            atol=1e-7,
            msg=_named(name),
        )
    # The gradient sent down has the cut tensor's shape and is not all zeros.
    assert reply.grad.shape == cut.shape and reply.grad.abs().sum() > 0


def test_hierarchical_edge_gets_no_gradient_from_the_cloud() -> None:
    config = TrainConfig(model="vgg16", split="conv2_2_pool", scheme="ht", width=WIDTH, seed=1)
    state = build_state(config)
    parts = state.parts
    assert parts.exit_head is not None
    x, y = _batch(seed=2)

    message = edge_step(parts.edge, parts.exit_head, state.edge_optimizer, x, y)
    assert not message.activations.requires_grad and message.activations.grad_fn is None
    assert message.labels is y  # labels travel with the activations
    edge_grads = {n: p.grad.clone() for n, p in parts.edge.named_parameters() if p.grad is not None}
    assert len(edge_grads) == len(list(parts.edge.parameters()))  # the exit loss reached them all
    edge_weights = {n: p.detach().clone() for n, p in parts.edge.named_parameters()}

    # The edge's gradients are those of the early exit's loss alone, at the weights before the
    # update: recompute them from a fresh copy with the same seed.
    fresh = build_state(config).parts
    assert fresh.exit_head is not None
    exit_loss = F.cross_entropy(fresh.exit_head(fresh.edge(x)), y)
    expected = torch.autograd.grad(exit_loss, list(fresh.edge.parameters()))
    for (name, _), grad in zip(fresh.edge.named_parameters(), expected, strict=True):
        torch.testing.assert_close(edge_grads[name], grad, rtol=1e-5, atol=1e-7)

    cloud_step_detached(parts.cloud, state.cloud_optimizer, message.activations, message.labels)
    for name, param in parts.edge.named_parameters():  # the cloud step touched nothing here
        assert param.grad is not None and torch.equal(param.grad, edge_grads[name]), name
        assert torch.equal(param.detach(), edge_weights[name]), name
    assert all(p.grad is not None for p in parts.cloud.parameters())

    attached = parts.edge(x)
    with pytest.raises(ValueError, match="detached"):
        cloud_step_detached(parts.cloud, state.cloud_optimizer, attached, y)


def test_tiny_training_reduces_the_loss(tiny_data: ImageData) -> None:
    config = TrainConfig(
        model="vgg16",
        split="conv2_2_pool",
        scheme="ht",
        width=WIDTH,
        epochs=3,
        batch_size=16,
        lr=0.05,
        seed=0,
    )
    rows = train(config, tiny_data)
    assert list(rows["epoch"]) == [1, 2, 3]
    assert rows["train_loss"].iloc[-1] < rows["train_loss"].iloc[0]
    assert rows["train_exit_loss"].iloc[-1] < rows["train_exit_loss"].iloc[0]
    assert rows["train_loss"].iloc[-1] < math.log(10)  # better than guessing among 10 classes
    assert rows["test_exit_accuracy"].notna().all()
    assert set(rows["scheme"]) == {"ht"} and set(rows["split_name"]) == {"conv2_2_pool"}


def test_resume_reproduces_the_uninterrupted_run(tmp_path: Path, tiny_data: ImageData) -> None:
    config = TrainConfig(
        model="resnet18",
        split="layer1_1",
        scheme="ht",
        width=WIDTH,
        epochs=2,
        batch_size=16,
        seed=5,
        train_samples=32,
    )
    whole = train(config, tiny_data, tmp_path / "whole")
    first = train(config, tiny_data, tmp_path / "resumed", max_new_epochs=1)
    assert list(first["epoch"]) == [1]
    resumed = train(config, tiny_data, tmp_path / "resumed")
    assert list(resumed["epoch"]) == [1, 2]
    pd.testing.assert_frame_equal(
        whole.drop(columns=WALL_COLUMNS), resumed.drop(columns=WALL_COLUMNS)
    )
    a = load_checkpoint(tmp_path / "whole" / CHECKPOINT_NAME, config).parts
    b = load_checkpoint(tmp_path / "resumed" / CHECKPOINT_NAME, config).parts
    for left, right in ((a.edge, b.edge), (a.cloud, b.cloud), (a.exit_head, b.exit_head)):
        assert left is not None and right is not None
        for (name, u), (_, v) in zip(
            left.state_dict().items(), right.state_dict().items(), strict=True
        ):
            assert torch.equal(u, v), name
    # A finished run resumes to nothing new; a row written after the last checkpoint is dropped.
    rows_path = tmp_path / "resumed" / ROWS_NAME
    lines = rows_path.read_text().splitlines()
    rows_path.write_text("\n".join([*lines, lines[-1].replace(",2,", ",3,", 1)]) + "\n")
    again = train(config, tiny_data, tmp_path / "resumed")
    assert list(again["epoch"]) == [1, 2]
    # Other settings: one line, no silent mix of runs.
    with pytest.raises(InputError, match="other settings: seed"):
        train(TrainConfig(**{**config.__dict__, "seed": 6}), tiny_data, tmp_path / "resumed")


def test_split_learning_is_the_same_run_at_every_split(tiny_data: ImageData) -> None:
    """SL's numbers do not depend on the split point: bit for bit, for one short epoch."""
    rows = [
        train(
            TrainConfig(
                model="vgg16",
                split=split,
                scheme="sl",
                width=WIDTH,
                epochs=1,
                batch_size=16,
                seed=2,
            ),
            tiny_data,
        )
        for split in ("conv1_2_pool", "conv4_3_pool")
    ]
    columns = ["train_loss", "train_accuracy", "test_accuracy"]
    pd.testing.assert_frame_equal(rows[0][columns], rows[1][columns])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "vgg17"}, "unknown model 'vgg17'"),
        ({"split": "conv9"}, "unknown split 'conv9'"),
        ({"scheme": "fl"}, "unknown scheme 'fl'"),
        ({"optimizer": "rmsprop"}, "unknown optimizer"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"lr": -1.0}, "lr must be a number > 0"),
    ],
)
def test_bad_settings_are_one_line(changes: dict[str, object], message: str) -> None:
    settings: dict[str, object] = {"model": "vgg16", "split": 3, **changes}
    with pytest.raises(InputError, match=message) as info:
        TrainConfig(**settings)  # type: ignore[arg-type]
    assert "\n" not in str(info.value)


def test_cosine_schedule_by_hand() -> None:
    config = TrainConfig(model="vgg16", split=3, lr=0.1, schedule="cosine")
    assert learning_rate(config, 0, 10) == pytest.approx(0.1)
    assert learning_rate(config, 5, 10) == pytest.approx(0.05)  # half way: cos(π/2) = 0
    assert learning_rate(config, 10, 10) == pytest.approx(0.0)
    constant = TrainConfig(model="vgg16", split=3, lr=0.1, schedule="constant")
    assert learning_rate(constant, 7, 10) == 0.1


def test_batches_and_augmentation_are_seeded() -> None:
    x = torch.arange(5 * 3 * 4 * 4, dtype=torch.float32).view(5, 3, 4, 4)
    y = torch.arange(5)
    first = list(batches(x, y, 2, epoch_generator(0, 1, 0), epoch_generator(0, 1, 1), 1, True))
    again = list(batches(x, y, 2, epoch_generator(0, 1, 0), epoch_generator(0, 1, 1), 1, True))
    assert [len(b[1]) for b in first] == [2, 2, 1]  # the last batch is partial, nothing dropped
    assert sorted(torch.cat([b[1] for b in first]).tolist()) == [0, 1, 2, 3, 4]
    for (xa, ya), (xb, yb) in zip(first, again, strict=True):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    # Zero padding 0 and no flip change nothing; shape is kept with padding.
    plain = augment(x, epoch_generator(0, 1, 1), 0, False)
    assert torch.equal(plain, x)
    assert augment(x, epoch_generator(0, 1, 1), 4, True).shape == x.shape


def test_missing_subset_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="CIFAR-10 subset not found") as info:
        load_cifar10_subset(tmp_path / "absent.npz")
    assert "\n" not in str(info.value)
