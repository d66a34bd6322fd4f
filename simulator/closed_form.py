"""Closed form of every deterministic scenario: the fast path for sweeps and a cross-check.

It models exactly what :mod:`simulator.engine` simulates, with formulas instead of events, so the
two agree to floating-point precision when nothing is random (a test holds them to 1e-9).

Sequential schemes are sums over batches. A pipelined scheme (hierarchical training, streamed
cloud-only) is a max-plus system; per batch k, with S_k the hand-over to the uplink, U_k the end of
its serialisation and A_k the end of its cloud step::

    S_k = max(S_{k-1} + [s] + post + pre,  A_{k-K} + L)     [s]: only if the edge transmits itself
    U_k = max(S_k, U_{k-1}) + s
    A_k = max(U_k + L, A_{k-1}) + c

Times are longest paths through this graph. With identical batches each path is a choice of w
uses of the in-flight window loop (each advances K batches and costs D = s + c + 2L) and single
steps at the slowest resource (cost λ = max(edge cycle, s, c)); the best w is 0, 1 or its maximum
(the cost is linear in w). A partial last batch is one more step of the recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.costs import dataset_upload_bytes, serialization_s
from simulator.scenario import Scenario
from simulator.schedule import EpochWork, edge_pre_post_s


@dataclass(frozen=True)
class EpochTimes:
    """Closed-form duration and resource use of each epoch."""

    epoch_s: tuple[float, ...]
    busy_s: dict[str, float]


@dataclass(frozen=True)
class _Pipeline:
    """Stage times of one pipelined batch; ``edge_cycle_s`` is S_{k-1} → S_k when unblocked."""

    pre_s: float
    post_s: float
    send_s: float
    cloud_s: float
    edge_sends: bool

    @property
    def edge_cycle_s(self) -> float:
        return self.pre_s + self.post_s + (self.send_s if self.edge_sends else 0.0)


class _LongestPaths:
    """Longest-path times S_k, U_k, A_k of batch k (1-based) when every batch is identical."""

    def __init__(self, p: _Pipeline, latency_s: float, window: int) -> None:
        self.p, self.latency_s, self.window = p, latency_s, window
        self.rate_s = max(p.edge_cycle_s, p.send_s, p.cloud_s)
        self.loop_s = p.send_s + p.cloud_s + 2 * latency_s

    def _via_window(self, k: int) -> float:
        uses = (k - 1) // self.window
        if uses < 1:
            return -math.inf
        return max(w * self.loop_s + (k - 1 - w * self.window) * self.rate_s for w in (1, uses))

    def handed_over(self, k: int) -> float:
        return self.p.pre_s + max((k - 1) * self.p.edge_cycle_s, self._via_window(k))

    def serialised(self, k: int) -> float:
        steps = (k - 1) * max(self.p.edge_cycle_s, self.p.send_s)
        return self.p.pre_s + self.p.send_s + max(steps, self._via_window(k))

    def trained(self, k: int) -> float:
        first = self.p.pre_s + self.p.send_s + self.latency_s + self.p.cloud_s
        return first + max((k - 1) * self.rate_s, self._via_window(k))


def _pipeline_stage(scenario: Scenario, work: EpochWork, last: bool) -> _Pipeline:
    batch = work.last if last and work.last is not None else work.full
    pre_s, post_s = edge_pre_post_s(batch, scenario.hierarchical.send_after)
    channel = scenario.channel
    return _Pipeline(
        pre_s=pre_s,
        post_s=post_s,
        send_s=serialization_s(batch.up_bytes, channel.up_bps, channel),
        cloud_s=batch.cloud_s,
        edge_sends=not scenario.hierarchical.edge_computes_while_sending,
    )


def pipeline_epoch_s(scenario: Scenario, work: EpochWork) -> float:
    """Duration of one epoch of a pipelined scheme: the later of edge and cloud finishing."""
    latency_s = scenario.channel.latency_s
    window = scenario.hierarchical.max_batches_in_flight
    full = _pipeline_stage(scenario, work, last=False)
    paths = _LongestPaths(full, latency_s, window)
    n_full = work.full_count
    if work.last is None:
        edge_end = paths.handed_over(n_full) + (full.send_s if full.edge_sends else 0.0)
        return max(edge_end + full.post_s, paths.trained(n_full))
    last = _pipeline_stage(scenario, work, last=True)
    n = n_full + 1
    if n_full == 0:
        handed, serialised_prev, trained_prev = last.pre_s, -math.inf, -math.inf
    else:
        edge_free = paths.handed_over(n_full) + (full.send_s if full.edge_sends else 0.0)
        handed = edge_free + full.post_s + last.pre_s
        serialised_prev, trained_prev = paths.serialised(n_full), paths.trained(n_full)
    if n > window:
        handed = max(handed, paths.trained(n - window) + latency_s)
    serialised = max(handed, serialised_prev) + last.send_s
    trained = max(serialised + latency_s, trained_prev) + last.cloud_s
    edge_end = handed + (last.send_s if last.edge_sends else 0.0) + last.post_s
    return max(edge_end, trained)


def epoch_times(scenario: Scenario, work: EpochWork) -> EpochTimes:
    """Closed-form epoch durations and busy time of each resource for one scheme."""
    channel = scenario.channel
    epochs = scenario.workload.epochs
    up_s = work.total(lambda b: serialization_s(b.up_bytes, channel.up_bps, channel))
    down_s = work.total(lambda b: serialization_s(b.down_bytes, channel.down_bps, channel))
    edge_s = work.total(lambda b: b.edge_s)
    cloud_s = work.total(lambda b: b.cloud_s)
    latency_s = channel.latency_s
    busy = {"edge": edge_s, "cloud": cloud_s, "uplink": up_s, "downlink": down_s}
    if work.local:
        per_epoch = edge_s
        busy["cloud"] = busy["uplink"] = busy["downlink"] = 0.0
        epoch_s = (per_epoch,) * epochs
    elif work.scheme == "sl":
        per_epoch = edge_s + up_s + cloud_s + down_s + 2 * latency_s * work.count
        epoch_s = (per_epoch,) * epochs
    elif work.pipelined:
        per_epoch = pipeline_epoch_s(scenario, work)
        if not scenario.hierarchical.edge_computes_while_sending:
            busy["edge"] = edge_s + up_s
        epoch_s = (per_epoch,) * epochs
    else:
        upload_s = serialization_s(dataset_upload_bytes(scenario), channel.up_bps, channel)
        busy["uplink"] = upload_s / epochs
        epoch_s = (upload_s + latency_s + cloud_s,) + (cloud_s,) * (epochs - 1)
    return EpochTimes(epoch_s, {k: v * epochs for k, v in busy.items()})
