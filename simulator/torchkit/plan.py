"""What a measured run does, decided before any process starts (this module needs no torch).

:func:`make_plan` checks that a scenario can be measured — one edge device, a constant channel,
fp32 activations, a split point with layers on both sides, a profile made by the profiler (its
``.meta.json`` names the torch model) — and returns the :class:`RunPlan` both role processes
follow. Spans of measured runs are stored as CSV with the columns of
:class:`simulator.records.Span` (:func:`write_spans`, :func:`read_spans`).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from simulator.errors import InputError
from simulator.records import Span
from simulator.scenario import Channel, Scenario

EMULATIONS: tuple[str, ...] = ("tc", "pacer", "none")
"""How the channel is emulated: kernel ``tbf`` shaping between namespaces (latency in-process),
the in-process pacer (rate and latency), or not at all (two real machines)."""

SPAN_COLUMNS: tuple[str, ...] = Span._fields

DEFAULT_NICE = -10
"""Scheduling priority (process and autogroup nice) of measured runs and calibration on one
machine where allowed (root): other users' work (tests, training jobs in their own sessions) then
gets a few per cent of a CPU one of our processes wants instead of half of it. On the 2-core
development machines, time slicing with such jobs — not the edge's and the cloud's own
concurrency — is what slowed training steps down about 2× when both sides computed."""


@dataclass(frozen=True)
class ModelSpec:
    """The torch model behind a profile, from the profile's ``.meta.json``."""

    model: str
    input_name: str
    width: float
    head_channels: int
    head_kernel_size: int


def model_spec(profile_path: Path) -> ModelSpec:
    """Read the model behind ``profile_path`` from ``<stem>.meta.json`` beside it."""
    meta_path = profile_path.with_name(profile_path.stem + ".meta.json")
    if not meta_path.is_file():
        raise InputError(f"{profile_path}: no {meta_path.name} beside it: measured runs need a "
                         "profile made by `python -m simulator profile` (it names the model)")
    try:
        meta = json.loads(meta_path.read_text())
        return ModelSpec(meta["model"], meta["input"], float(meta["width"]),
                         int(meta["head"]["conv_channels"]), int(meta["head"]["kernel_size"]))
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"{meta_path}: not a profile metadata file ({exc})") from None


@dataclass(frozen=True)
class RunPlan:
    """Everything both roles need, derived from a scenario and the command line."""

    scheme: str
    batches: int
    batch_size: int
    split: int
    spec: ModelSpec
    optimizer: str
    emulation: str
    uplink_bps: float
    downlink_bps: float
    latency_s: float
    channel: Channel
    window: int
    send_after: str
    warmup_batches: int
    stall_timeout_s: float
    seed: int
    activation_bytes: float

    @property
    def adds_latency(self) -> bool:
        return self.emulation != "none"


def make_plan(scenario: Scenario, scheme: str, batches: int, emulation: str,
              warmup_batches: int, stall_timeout_s: float) -> RunPlan:
    """Check that the scenario can be measured and return the plan (:class:`InputError`)."""
    where = scenario.source
    if scheme not in ("sl", "ht"):
        raise InputError(f"measured runs train sl or ht, not {scheme!r}")
    if emulation not in EMULATIONS:
        raise InputError(f"unknown emulation {emulation!r} (allowed: {', '.join(EMULATIONS)})")
    if batches < 1 or warmup_batches < 0 or not stall_timeout_s > 0:
        raise InputError("--batches must be >= 1, --warmup >= 0 and --timeout > 0")
    channel = scenario.channel
    if channel.random or channel.time_varying:
        raise InputError(f"{where}: measured runs emulate a constant channel: remove jitter, "
                         "loss, outages and rate traces")
    if scenario.fleet.devices != 1:
        raise InputError(f"{where}: measured runs have one edge device (fleet.devices = 1)")
    if scenario.workload.activation_bits != 32:
        raise InputError(f"{where}: measured runs send fp32 activations (activation_bits = 32)")
    if scheme == "ht" and not scenario.hierarchical.edge_computes_while_sending:
        raise InputError(f"{where}: measured HT runs send from a separate thread: "
                         "hierarchical.edge_computes_while_sending must be true")
    profile = scenario.profile
    split = scenario.split_index
    if not 0 < split < profile.last_split:
        raise InputError(f"{where}: measured runs need layers on both sides: split 1.."
                         f"{profile.last_split - 1}, not {split}")
    spec = model_spec(scenario.workload.profile)
    return RunPlan(
        scheme=scheme, batches=batches, batch_size=scenario.workload.batch_size, split=split,
        spec=spec, optimizer=scenario.workload.optimizer, emulation=emulation,
        uplink_bps=channel.up_bps, downlink_bps=channel.down_bps, latency_s=channel.latency_s,
        channel=channel, window=scenario.hierarchical.max_batches_in_flight,
        send_after=scenario.hierarchical.send_after, warmup_batches=warmup_batches,
        stall_timeout_s=stall_timeout_s, seed=scenario.seed,
        activation_bytes=profile.splits[split].activation_bytes,
    )




def write_spans(path: Path, spans: list[Span]) -> None:
    """Spans as CSV with the columns of :class:`~simulator.records.Span`."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(SPAN_COLUMNS)
        writer.writerows(spans)


def read_spans(path: Path) -> list[Span]:
    """Spans written by :func:`write_spans` or :class:`SpanLog` (an absent file: none)."""
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return [Span(r["resource"], r["kind"], int(r["epoch"]), int(r["batch"]),
                     float(r["start_s"]), float(r["end_s"]), int(r["device"]))
                for r in csv.DictReader(handle)]


def summary(plan: RunPlan, spans: list[Span]) -> dict[str, Any]:
    """Totals of a complete run: the run ends with its last span (as the simulator's epoch)."""
    total_s = max((s.end_s for s in spans), default=math.nan)
    busy: dict[str, float] = {}
    for s in spans:
        busy[s.resource] = busy.get(s.resource, 0.0) + s.duration_s
    return {"total_s": total_s, "busy_s": busy, "batches": plan.batches, "scheme": plan.scheme}


def plan_dict(plan: RunPlan) -> dict[str, Any]:
    """The plan as JSON-ready values."""
    data = asdict(plan)
    data["channel"] = {k: str(v) if isinstance(v, Path) else v
                       for k, v in asdict(plan.channel).items()}
    return data


def plan_from_dict(data: dict[str, Any]) -> RunPlan:
    """The inverse of :func:`plan_dict`."""
    values = dict(data)
    values["spec"] = ModelSpec(**values["spec"])
    channel = dict(values["channel"])
    for key in ("uplink_trace", "downlink_trace"):
        if channel.get(key) is not None:
            channel[key] = Path(channel[key])
    channel["outage_windows_s"] = tuple(tuple(w) for w in channel["outage_windows_s"])
    values["channel"] = Channel(**channel)
    return RunPlan(**values)
