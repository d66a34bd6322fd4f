"""Cost functions against formulas written out by hand (no SimPy involved)."""

from __future__ import annotations

import math

import pytest

from simulator.costs import (
    cut_bytes_per_sample,
    hierarchical_batch,
    serialization_s,
    split_learning_batch,
    training_memory,
    wire_bytes,
)
from simulator.profile import load_profile
from simulator.scenario import Channel, Device

from .conftest import TINY_PROFILE


def test_wire_bytes_adds_one_header_per_started_packet() -> None:
    channel = Channel(uplink_bps=1e6, packet_payload_bytes=1448, packet_overhead_bytes=52)
    assert wire_bytes(0, channel) == 0
    assert wire_bytes(1, channel) == 1 + 52
    assert wire_bytes(1448, channel) == 1448 + 52
    assert wire_bytes(1449, channel) == 1449 + 2 * 52
    assert wire_bytes(3000, channel) == 3000 + 3 * 52


def test_serialization_is_wire_bits_over_rate() -> None:
    channel = Channel(uplink_bps=1e6, packet_payload_bytes=1448, packet_overhead_bytes=52)
    assert serialization_s(3000, 1e6, channel) == pytest.approx((3000 + 3 * 52) * 8 / 1e6)
    assert serialization_s(3000, 2e6, channel) == pytest.approx((3000 + 3 * 52) * 8 / 2e6)


def test_tiny_cnn_split1_batch_by_hand() -> None:
    """Split 1 of the hand-derived CNN, batch 32, edge 2/1 GFLOP/s, cloud 1 TFLOP/s + 1 ms."""
    costs = load_profile(TINY_PROFILE).splits[1]
    edge = Device(fwd_flops_per_s=2e9, bwd_flops_per_s=1e9)
    cloud = Device(fwd_flops_per_s=1e12, step_overhead_s=0.001)
    sl = split_learning_batch(costs, 32, edge, cloud, activation_bits=32, last=3)
    assert sl.edge_fwd_s == pytest.approx(32 * 884_736 / 2e9)
    assert sl.edge_bwd_s == pytest.approx(32 * 884_736 / 1e9)
    assert sl.cloud_fwd_s == pytest.approx(0.001 + 32 * 2_400_256 / 1e12)
    assert sl.cloud_bwd_s == pytest.approx(32 * 4_800_512 / 1e12)
    assert sl.up_bytes == 32 * (16_384 + 8)
    assert sl.down_bytes == 32 * 16_384
    assert sl.exit_s == 0
    ht = hierarchical_batch(costs, 32, edge, cloud, activation_bits=32, last=3)
    assert ht.exit_s == pytest.approx(32 * 320 / 2e9 + 32 * 640 / 1e9)
    assert ht.cloud_bwd_s == pytest.approx(32 * 2_441_216 / 1e12)
    assert ht.down_bytes == 0


def test_fp16_activations_halve_the_cut_but_not_the_raw_input() -> None:
    profile = load_profile(TINY_PROFILE)
    assert cut_bytes_per_sample(profile.splits[1], 16) == 16_384 / 2
    assert cut_bytes_per_sample(profile.splits[0], 16) == 3_072


def test_last_split_sends_nothing_and_split0_gets_no_gradient() -> None:
    profile = load_profile(TINY_PROFILE)
    edge, cloud = Device(fwd_flops_per_s=1e9), Device(fwd_flops_per_s=1e12, step_overhead_s=1.0)
    last = split_learning_batch(profile.splits[3], 4, edge, cloud, 32, last=3)
    assert (last.up_bytes, last.down_bytes, last.cloud_s) == (0, 0, 0)
    first = split_learning_batch(profile.splits[0], 4, edge, cloud, 32, last=3)
    assert first.up_bytes == 4 * (3_072 + 8)
    assert first.down_bytes == 0
    assert first.edge_s == 0


@pytest.mark.parametrize(("optimizer", "copies"), [("sgd", 2), ("sgd_momentum", 3), ("adam", 4)])
def test_training_memory(optimizer: str, copies: int) -> None:
    need = training_memory(param_bytes=1000, per_sample_bytes=50, batch_size=8,
                           optimizer=optimizer)
    assert need.fixed_bytes == 1000 * copies
    assert need.per_batch_bytes == 400
    assert need.total_bytes == 1000 * copies + 400
    assert not math.isnan(need.total_bytes)
