"""``simulate``: run every scheme of a scenario and return records (no printing, no files)."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from simulator import closed_form
from simulator.costs import cloud_memory, dataset_upload_bytes, edge_memory, wire_bytes
from simulator.engine import EpochModel
from simulator.records import RESOURCES, RunResult, SchemeResult
from simulator.scenario import Scenario, SchemeName
from simulator.schedule import EpochWork, epoch_work
from simulator.units import format_bytes

Method = Literal["des", "closed_form", "auto"]
METHODS: tuple[str, ...] = ("des", "closed_form", "auto")


def is_deterministic(scenario: Scenario) -> bool:
    """True when nothing in the scenario is random, so the closed form is exact."""
    del scenario  # every feature of the current model is deterministic
    return True


def _fit_problem(scenario: Scenario, scheme: SchemeName) -> str:
    """Why ``scheme`` does not fit the devices' memory, or ``""`` when it fits."""
    edge = edge_memory(scenario, scheme)
    if edge.total_bytes > scenario.edge.memory_bytes:
        return (f"edge needs {format_bytes(edge.total_bytes)} (fixed "
                f"{format_bytes(edge.fixed_bytes)} + batch {format_bytes(edge.per_batch_bytes)})"
                f" > {format_bytes(scenario.edge.memory_bytes)}")
    cloud = cloud_memory(scenario, scheme)
    if cloud.total_bytes > scenario.cloud.memory_bytes:
        return (f"cloud needs {format_bytes(cloud.total_bytes)} > "
                f"{format_bytes(scenario.cloud.memory_bytes)}")
    return ""


def _traffic(scenario: Scenario, work: EpochWork) -> dict[str, float]:
    """Payload and wire bytes up and down over the whole run."""
    channel, epochs = scenario.channel, scenario.workload.epochs
    if work.scheme == "cloud_only" and not work.pipelined:
        up = dataset_upload_bytes(scenario)
        return {"up": up, "up_wire": wire_bytes(up, channel), "down": 0.0, "down_wire": 0.0}
    return {
        "up": work.total(lambda b: b.up_bytes) * epochs,
        "up_wire": work.total(lambda b: wire_bytes(b.up_bytes, channel)) * epochs,
        "down": work.total(lambda b: b.down_bytes) * epochs,
        "down_wire": work.total(lambda b: wire_bytes(b.down_bytes, channel)) * epochs,
    }


def simulate_scheme(scenario: Scenario, scheme: SchemeName, method: Method = "des",
                    keep_spans: bool = True) -> SchemeResult:
    """One scheme of a loaded scenario, by the DES or the closed form."""
    use: str = method
    if method == "auto":
        use = "closed_form" if is_deterministic(scenario) else "des"
    edge_need = edge_memory(scenario, scheme).total_bytes
    problem = _fit_problem(scenario, scheme)
    if problem:
        return SchemeResult(scheme, "does_not_fit", use, reason=problem,
                            edge_memory_bytes=edge_need)
    work = epoch_work(scenario, scheme)
    traffic = _traffic(scenario, work)
    base = SchemeResult(
        scheme, "ok", use,
        up_payload_bytes=traffic["up"], up_wire_bytes=traffic["up_wire"],
        down_payload_bytes=traffic["down"], down_wire_bytes=traffic["down_wire"],
        batches=work.count * scenario.workload.epochs, edge_memory_bytes=edge_need,
    )
    if use == "closed_form":
        times = closed_form.epoch_times(scenario, work)
        return replace(base, total_s=sum(times.epoch_s), epoch_s=times.epoch_s,
                       busy_s=times.busy_s)
    model = EpochModel(scenario, work, keep_spans)
    epoch_s = model.run()
    return replace(
        base, total_s=sum(epoch_s), epoch_s=tuple(epoch_s),
        busy_s={r: model.recorder.busy_s.get(r, 0.0) for r in RESOURCES},
        peak_batches_in_flight=float(model.peak_in_flight),
        peak_uplink_queue=float(model.uplink.peak_queued),
        spans=tuple(model.recorder.spans),
    )


def simulate(scenario: Scenario, method: Method = "des", keep_spans: bool = True) -> RunResult:
    """Every scheme of ``scenario`` (loaded with its profile); returns records, prints nothing."""
    if scenario.profile is None:
        scenario = scenario.with_profile()
    results: dict[str, SchemeResult] = {
        s: simulate_scheme(scenario, s, method, keep_spans) for s in scenario.schemes
    }
    return RunResult(scenario.name, scenario.seed, results)

