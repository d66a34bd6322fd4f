"""Pure cost functions: FLOPs, bytes, devices and channel → seconds and bytes.

Nothing here knows about SimPy or time ordering; the engine and the closed form both take their
numbers from these functions (design.md §5). Conventions, per batch of ``b`` samples:

* A device's ``step_overhead_s`` is paid once per batch by each side that holds layers at the split
  point, and is counted in that side's forward span.
* Split 0 sends the raw input (``input_bytes``, as stored: uint8 images are not widened); other
  split points send the cut tensor at ``activation_bits`` per element (profiles hold fp32 bytes).
* At the last split point the edge holds every layer and computes the loss itself: nothing is
  sent, so split learning and hierarchical training both reduce to edge-only training there.
* Split learning sends the gradient of the cut tensor down, except at split 0 (no edge layers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from simulator.profile import SplitCosts
from simulator.scenario import Channel, Device, Scenario, SchemeName
from simulator.units import BITS_PER_BYTE, BYTES_PER_FP32

OPTIMIZER_STATE_COPIES = {"sgd": 0, "sgd_momentum": 1, "adam": 2}
"""Extra tensors of parameter size kept by each optimizer (momentum; Adam's two moments)."""


@dataclass(frozen=True)
class BatchCosts:
    """Stage times and message sizes of one batch of one scheme.

    ``up_bytes`` and ``down_bytes`` are payloads; :func:`serialization_s` adds packet headers.
    """

    samples: int
    edge_fwd_s: float = 0.0
    exit_s: float = 0.0
    edge_bwd_s: float = 0.0
    cloud_fwd_s: float = 0.0
    cloud_bwd_s: float = 0.0
    up_bytes: float = 0.0
    down_bytes: float = 0.0

    @property
    def edge_s(self) -> float:
        """Edge compute of the batch: forward, early exit and backward."""
        return self.edge_fwd_s + self.exit_s + self.edge_bwd_s

    @property
    def cloud_s(self) -> float:
        return self.cloud_fwd_s + self.cloud_bwd_s


def compute_s(flops: float, flops_per_s: float) -> float:
    """Seconds to execute ``flops`` at an effective throughput of ``flops_per_s``."""
    return flops / flops_per_s


def wire_bytes(payload_bytes: float, channel: Channel) -> float:
    """Bytes on the wire for one message: payload plus a header per packet."""
    if payload_bytes <= 0:
        return 0.0
    packets = math.ceil(payload_bytes / channel.packet_payload_bytes)
    return payload_bytes + packets * channel.packet_overhead_bytes


def serialization_s(payload_bytes: float, rate_bps: float, channel: Channel) -> float:
    """Seconds a message of ``payload_bytes`` occupies a link of ``rate_bps``."""
    return wire_bytes(payload_bytes, channel) * BITS_PER_BYTE / rate_bps


def cut_bytes_per_sample(costs: SplitCosts, activation_bits: int) -> float:
    """Bytes per sample of the tensor that crosses the cut, as sent."""
    if costs.split == 0:
        return costs.input_bytes
    return costs.activation_bytes * activation_bits / (BYTES_PER_FP32 * BITS_PER_BYTE)


def _step(device: Device, has_layers: bool) -> float:
    return device.step_overhead_s if has_layers else 0.0


def _split_batch(costs: SplitCosts, samples: int, edge: Device, cloud: Device,
                 activation_bits: int, last: int, hierarchical: bool) -> BatchCosts:
    """One batch of SL or HT at the split of ``costs`` (``last`` = split n).

    HT adds the early exit on the edge, trains the cloud on a detached input (no input
    gradient) and sends nothing down; SL sends the cut tensor's gradient down.
    """
    b = samples
    sends = costs.split < last
    cut = cut_bytes_per_sample(costs, activation_bits)
    exit_s = (compute_s(b * costs.exit_fwd_flops, edge.fwd_flops_per_s)
              + compute_s(b * costs.exit_bwd_flops, edge.backward_flops_per_s))
    cloud_bwd_flops = costs.cloud_bwd_flops_ht if hierarchical else costs.cloud_bwd_flops_sl
    gets_gradient = not hierarchical and sends and costs.split > 0
    return BatchCosts(
        samples=b,
        edge_fwd_s=_step(edge, costs.split > 0) + compute_s(b * costs.edge_fwd_flops,
                                                            edge.fwd_flops_per_s),
        exit_s=exit_s if hierarchical else 0.0,
        edge_bwd_s=compute_s(b * costs.edge_bwd_flops, edge.backward_flops_per_s),
        cloud_fwd_s=_step(cloud, sends) + compute_s(b * costs.cloud_fwd_flops,
                                                    cloud.fwd_flops_per_s),
        cloud_bwd_s=compute_s(b * cloud_bwd_flops, cloud.backward_flops_per_s),
        up_bytes=b * (cut + costs.label_bytes) if sends else 0.0,
        down_bytes=b * cut if gets_gradient else 0.0,
    )


def split_learning_batch(
    costs: SplitCosts, samples: int, edge: Device, cloud: Device, activation_bits: int, last: int
) -> BatchCosts:
    """One batch of sequential split learning at the split of ``costs`` (``last`` = split n)."""
    return _split_batch(costs, samples, edge, cloud, activation_bits, last, hierarchical=False)


def hierarchical_batch(
    costs: SplitCosts, samples: int, edge: Device, cloud: Device, activation_bits: int, last: int
) -> BatchCosts:
    """One batch of early-exit hierarchical training: exit head on the edge, no downlink."""
    return _split_batch(costs, samples, edge, cloud, activation_bits, last, hierarchical=True)


def cloud_only_batch(whole: SplitCosts, samples: int, cloud: Device, upload: bool) -> BatchCosts:
    """One batch trained wholly in the cloud (``whole``: split-0 row; ``upload``: streamed)."""
    b = samples
    return BatchCosts(
        samples=b,
        cloud_fwd_s=cloud.step_overhead_s + compute_s(b * whole.cloud_fwd_flops,
                                                      cloud.fwd_flops_per_s),
        cloud_bwd_s=compute_s(b * whole.cloud_bwd_flops_ht, cloud.backward_flops_per_s),
        up_bytes=b * (whole.input_bytes + whole.label_bytes) if upload else 0.0,
    )


def edge_only_batch(whole: SplitCosts, samples: int, edge: Device) -> BatchCosts:
    """One batch trained wholly on the edge (``whole`` is the split-n row)."""
    b = samples
    return BatchCosts(
        samples=b,
        edge_fwd_s=edge.step_overhead_s + compute_s(b * whole.edge_fwd_flops,
                                                    edge.fwd_flops_per_s),
        edge_bwd_s=compute_s(b * whole.edge_bwd_flops, edge.backward_flops_per_s),
    )


def batch_sizes(samples_per_epoch: int, batch_size: int) -> tuple[int, int, int]:
    """``(full_batches, batch_size, last_batch_samples)`` of one epoch; the last may be partial.

    ``last_batch_samples`` is 0 when the epoch divides evenly.
    """
    full, rest = divmod(samples_per_epoch, batch_size)
    return full, batch_size, rest


def edge_device(scenario: Scenario, device: int) -> Device:
    """Edge device number ``device`` of the fleet (its FLOP/s scaled by its speed factor)."""
    factor = scenario.fleet.speed_factor(device)
    if factor == 1.0:
        return scenario.edge
    edge = scenario.edge
    return replace(edge, fwd_flops_per_s=edge.fwd_flops_per_s * factor,
                   bwd_flops_per_s=edge.backward_flops_per_s * factor)


def scheme_batch(scenario: Scenario, scheme: SchemeName, samples: int,
                 device: int = 0) -> BatchCosts:
    """Costs of one batch of ``samples`` for ``scheme`` on edge device ``device``."""
    profile = scenario.profile
    costs = profile.splits[scenario.split_index]
    w = scenario.workload
    edge = edge_device(scenario, device)
    if scheme == "sl":
        return split_learning_batch(costs, samples, edge, scenario.cloud,
                                    w.activation_bits, profile.last_split)
    if scheme == "ht":
        return hierarchical_batch(costs, samples, edge, scenario.cloud,
                                  w.activation_bits, profile.last_split)
    if scheme == "cloud_only":
        return cloud_only_batch(profile.splits[0], samples, scenario.cloud,
                                upload=scenario.cloud_only.upload == "per_batch")
    if scheme == "edge_only":
        return edge_only_batch(profile.splits[-1], samples, edge)
    raise ValueError(f"unknown scheme {scheme!r}")


def dataset_upload_bytes(scenario: Scenario) -> float:
    """Payload of the cloud-only baseline's one-off upload of the whole training set."""
    whole = scenario.profile.splits[0]
    return scenario.workload.samples_per_epoch * (whole.input_bytes + whole.label_bytes)


@dataclass(frozen=True)
class MemoryNeed:
    """Training memory of one side: fixed (weights, gradients, optimizer state) + per batch."""

    fixed_bytes: float
    per_batch_bytes: float

    @property
    def total_bytes(self) -> float:
        return self.fixed_bytes + self.per_batch_bytes


def training_memory(param_bytes: float, per_sample_bytes: float, batch_size: int,
                    optimizer: str) -> MemoryNeed:
    """Weights, their gradients and optimizer state, plus saved activations of a batch."""
    copies = 2 + OPTIMIZER_STATE_COPIES[optimizer]
    return MemoryNeed(param_bytes * copies, per_sample_bytes * batch_size)


def edge_memory(scenario: Scenario, scheme: SchemeName) -> MemoryNeed:
    """Edge training memory of ``scheme`` (zero when the edge trains nothing)."""
    w = scenario.workload
    costs = scenario.profile.splits[scenario.split_index]
    if scheme == "cloud_only":
        return MemoryNeed(0.0, 0.0)
    if scheme == "edge_only":
        costs = scenario.profile.splits[-1]
    params = costs.edge_param_bytes
    per_sample = costs.edge_train_bytes_per_sample
    if scheme == "ht":
        params += costs.exit_param_bytes
        per_sample += costs.exit_train_bytes_per_sample
    return training_memory(params, per_sample, w.batch_size, w.optimizer)


def cloud_memory(scenario: Scenario, scheme: SchemeName) -> MemoryNeed:
    """Cloud memory of ``scheme``: weights, gradients, optimizer state and saved activations.

    Profiles without ``cloud_train_bytes_per_sample`` count no activations (a lower bound).
    """
    w = scenario.workload
    if scheme == "edge_only":
        return MemoryNeed(0.0, 0.0)
    costs = scenario.profile.splits[0 if scheme == "cloud_only" else scenario.split_index]
    return training_memory(costs.cloud_param_bytes, costs.cloud_train_bytes_per_sample,
                           w.batch_size, w.optimizer)
