"""What a simulation returns: spans of each resource and per-scheme summaries.

``simulate`` returns these records and never prints; the CLI and notebooks turn them into tables,
CSV files, plots and Chrome traces.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

RESOURCES: tuple[str, ...] = ("edge", "uplink", "cloud", "downlink")


class Span(NamedTuple):
    """A timed interval during which one resource worked on one batch.

    ``kind`` is one of: ``fwd``, ``exit``, ``bwd`` (edge or cloud compute), ``send`` (a message
    occupying a link, or the edge while its radio transmits). ``batch`` is -1 for messages that
    belong to no batch (a data set upload, edge weights). ``device`` is the edge device the work
    belongs to (0 with a single device). A named tuple: runs create one per stage and batch.
    """

    resource: str
    kind: str
    epoch: int
    batch: int
    start_s: float
    end_s: float
    device: int = 0

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class SchemeResult:
    """Outcome of one training scheme in one scenario.

    ``status`` is ``"ok"`` or ``"does_not_fit"`` (then ``reason`` says why and the times are NaN).
    ``method`` says which model produced the numbers: ``"des"`` (SimPy) or ``"closed_form"``.
    Queue statistics (``peak_*``) come from the DES only and are NaN for the closed form.
    ``busy_s`` sums over instances of a resource (e.g. over edge devices); ``instances`` counts
    them, so busy fractions are averages per instance. ``device_s`` is when each edge device's
    work (its batches at the cloud included) was last busy. ``edge_energy_j`` (all devices,
    compute and radio) is NaN when the edge device has no ``busy_power_w``.
    ``outage_lost_s`` is the run time minus that of the same run without outages.
    """

    scheme: str
    status: str
    method: str
    reason: str = ""
    total_s: float = math.nan
    epoch_s: tuple[float, ...] = ()
    busy_s: dict[str, float] = field(default_factory=dict)
    instances: dict[str, int] = field(default_factory=dict)
    device_s: tuple[float, ...] = ()
    edge_energy_j: float = math.nan
    outage_lost_s: float = 0.0
    up_payload_bytes: float = 0.0
    up_wire_bytes: float = 0.0
    down_payload_bytes: float = 0.0
    down_wire_bytes: float = 0.0
    batches: int = 0
    edge_memory_bytes: float = 0.0
    peak_batches_in_flight: float = math.nan
    peak_uplink_queue: float = math.nan
    spans: tuple[Span, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def busy_fraction(self, resource: str) -> float:
        """Share of the run during which ``resource`` was busy (0 … 1)."""
        if not self.ok or self.total_s <= 0:
            return math.nan
        return self.busy_s.get(resource, 0.0) / (self.total_s * self.instances.get(resource, 1))


@dataclass(frozen=True)
class RunResult:
    """All schemes of one scenario."""

    scenario_name: str
    seed: int
    schemes: dict[str, SchemeResult]

    def saving_ht_vs_sl(self) -> float:
        """Runtime saving of hierarchical versus sequential training, as a fraction of SL time."""
        sl, ht = self.schemes.get("sl"), self.schemes.get("ht")
        if sl is None or ht is None or not (sl.ok and ht.ok):
            return math.nan
        return (sl.total_s - ht.total_s) / sl.total_s
