"""``simulate``: run every scheme of a scenario and return records (no printing, no files)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Literal

from simulator import closed_form
from simulator.costs import cloud_memory, dataset_upload_bytes, edge_memory, wire_bytes
from simulator.engine import Model
from simulator.errors import InputError
from simulator.records import RESOURCES, RunResult, SchemeResult
from simulator.scenario import Scenario, SchemeName
from simulator.schedule import EpochWork, epoch_work
from simulator.units import BITS_PER_BYTE, format_bytes

Method = Literal["des", "closed_form", "auto"]
METHODS: tuple[str, ...] = ("des", "closed_form", "auto")


def closed_form_applies(scenario: Scenario) -> bool:
    """True when the closed form is exact: one edge device, nothing random or time-varying."""
    channel = scenario.channel
    return scenario.fleet.devices == 1 and not channel.random and not channel.time_varying


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
    """Payload and wire bytes up and down of one device over the whole run (no loss)."""
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


def edge_energy_j(scenario: Scenario, total_s: float, edge_busy_s: list[float],
                  up_wire_bytes: list[float], down_wire_bytes: list[float]) -> float:
    """Edge energy of all devices: busy and idle power over the run, radio energy per bit."""
    edge = scenario.edge
    if edge.busy_power_w is None:
        return math.nan
    energy = 0.0
    for busy, up, down in zip(edge_busy_s, up_wire_bytes, down_wire_bytes, strict=True):
        energy += edge.busy_power_w * busy + edge.idle_power_w * max(0.0, total_s - busy)
        energy += (edge.radio_tx_j_per_bit * up + edge.radio_rx_j_per_bit * down) * BITS_PER_BYTE
    return energy


def _instances(scenario: Scenario) -> dict[str, int]:
    devices = scenario.fleet.devices
    return {"edge": devices, "uplink": 1 if scenario.fleet.shared_uplink else devices,
            "downlink": devices, "cloud": 1}


def _without_outages(scenario: Scenario) -> Scenario:
    channel = replace(scenario.channel, outage_windows_s=(), outage_mean_interval_s=None,
                      outage_mean_duration_s=None)
    return replace(scenario, channel=channel)


def simulate_scheme(scenario: Scenario, scheme: SchemeName, method: Method = "des",
                    keep_spans: bool = True) -> SchemeResult:
    """One scheme of a loaded scenario, by the DES or the closed form.

    ``method="auto"`` takes the closed form where it is exact (:func:`closed_form_applies`),
    else the DES; asking for the closed form where it is not exact is an :class:`InputError`.
    """
    use: str = method
    if method == "auto":
        use = "closed_form" if closed_form_applies(scenario) else "des"
    elif method == "closed_form" and not closed_form_applies(scenario):
        raise InputError(f"{scenario.source}: --method closed_form needs one edge device and a "
                         "constant channel without jitter, loss or outages; use des or auto")
    edge_need = edge_memory(scenario, scheme).total_bytes
    problem = _fit_problem(scenario, scheme)
    if problem:
        return SchemeResult(scheme, "does_not_fit", use, reason=problem,
                            edge_memory_bytes=edge_need)
    works = [epoch_work(scenario, scheme, d) for d in range(scenario.fleet.devices)]
    base = SchemeResult(scheme, "ok", use, instances=_instances(scenario),
                        batches=sum(w.count for w in works) * scenario.workload.epochs,
                        edge_memory_bytes=edge_need)
    if use == "closed_form":
        traffic = _traffic(scenario, works[0])
        times = closed_form.epoch_times(scenario, works[0])
        total_s = sum(times.epoch_s)
        return replace(
            base, total_s=total_s, epoch_s=times.epoch_s, busy_s=times.busy_s,
            device_s=(total_s,),
            up_payload_bytes=traffic["up"], up_wire_bytes=traffic["up_wire"],
            down_payload_bytes=traffic["down"], down_wire_bytes=traffic["down_wire"],
            edge_energy_j=edge_energy_j(scenario, total_s, [times.busy_s["edge"]],
                                        [traffic["up_wire"]], [traffic["down_wire"]]),
        )
    model = Model(scenario, works, keep_spans)
    epoch_s = model.run()
    total_s = sum(epoch_s)
    devices = range(scenario.fleet.devices)
    busy = model.recorder.busy_s
    up_wire = [sum(link.wire_bytes.get(d, 0.0) for link in set(model.uplinks)) for d in devices]
    down_wire = [model.downlinks[d].wire_bytes.get(d, 0.0) for d in devices]
    lost_s = 0.0
    if scenario.channel.outage_windows_s or scenario.channel.outage_mean_interval_s:
        lost_s = total_s - simulate_scheme(_without_outages(scenario), scheme, "des",
                                           keep_spans=False).total_s
    return replace(
        base, total_s=total_s, epoch_s=tuple(epoch_s),
        busy_s={r: model.recorder.total_busy_s(r) for r in RESOURCES},
        device_s=tuple(model.recorder.last_end_s),
        up_payload_bytes=sum(sum(link.payload_bytes.values()) for link in set(model.uplinks)),
        up_wire_bytes=sum(up_wire),
        down_payload_bytes=sum(sum(link.payload_bytes.values()) for link in model.downlinks),
        down_wire_bytes=sum(down_wire),
        peak_batches_in_flight=float(model.peak_in_flight),
        peak_uplink_queue=float(model.peak_uplink_queue),
        edge_energy_j=edge_energy_j(scenario, total_s,
                                    [busy.get(("edge", d), 0.0) for d in devices],
                                    up_wire, down_wire),
        outage_lost_s=lost_s,
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
