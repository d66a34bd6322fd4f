"""How one epoch of each scheme is cut into batches and stages.

Shared by the discrete-event engine and the closed form, so both see exactly the same work:
``EpochWork`` lists the batches of one epoch and, for pipelined schemes, how the edge's compute is
divided around the moment it hands a batch to the uplink.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.costs import BatchCosts, batch_sizes, scheme_batch
from simulator.scenario import Scenario, SchemeName


@dataclass(frozen=True)
class EpochWork:
    """The batches of one epoch of one scheme.

    ``full`` is repeated ``full_count`` times, then ``last`` (a partial batch) if not None.
    ``pipelined``: the edge streams batches to the cloud without waiting (HT, streamed cloud-only);
    otherwise each batch is a sequential round trip (SL) or stays on one side.
    ``local``: no messages at all (edge-only, or a split point with every layer on the edge).
    """

    scheme: SchemeName
    full: BatchCosts
    full_count: int
    last: BatchCosts | None
    pipelined: bool
    local: bool

    @property
    def count(self) -> int:
        return self.full_count + (self.last is not None)

    def total(self, cost: Callable[[BatchCosts], float]) -> float:
        """Sum of ``cost`` over the batches of the epoch (without listing them)."""
        last = cost(self.last) if self.last is not None else 0.0
        return cost(self.full) * self.full_count + last

    def batches(self) -> list[BatchCosts]:
        """Every batch of the epoch, in order."""
        return [self.full] * self.full_count + ([self.last] if self.last is not None else [])


def epoch_work(scenario: Scenario, scheme: SchemeName, device: int = 0) -> EpochWork:
    """Batches and stage costs of one epoch of ``scheme`` on edge device ``device``."""
    full_count, size, rest = batch_sizes(scenario.workload.samples_per_epoch,
                                         scenario.workload.batch_size)
    full = scheme_batch(scenario, scheme, size, device)
    last = scheme_batch(scenario, scheme, rest, device) if rest else None
    at_last_split = scenario.split_index == scenario.profile.last_split
    local = scheme == "edge_only" or (scheme in ("sl", "ht") and at_last_split)
    pipelined = not local and (
        scheme == "ht" or (scheme == "cloud_only" and scenario.cloud_only.upload == "per_batch")
    )
    return EpochWork(scheme, full, full_count, last, pipelined, local)


def edge_parts(
    batch: BatchCosts, send_after: str
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Edge compute ``(kind, seconds)`` before and after the batch is handed to the uplink.

    ``send_after="forward"``: the cut tensor leaves after the edge forward, and the early exit and
    the edge backward overlap its transfer; ``"update"``: it leaves after the edge update.
    """
    forward = [("fwd", batch.edge_fwd_s)]
    rest = [("exit", batch.exit_s), ("bwd", batch.edge_bwd_s)]
    if send_after == "forward":
        return forward, rest
    return forward + rest, []


def edge_pre_post_s(batch: BatchCosts, send_after: str) -> tuple[float, float]:
    """Seconds of edge compute before and after the hand-over to the uplink."""
    pre, post = edge_parts(batch, send_after)
    return sum(d for _, d in pre), sum(d for _, d in post)
