"""Tidy result rows and the comparison table printed by ``simulate``."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from simulator.records import RESOURCES, RunResult
from simulator.scenario import Scenario, flatten, scenario_to_dict
from simulator.units import J_PER_KJ, MIB, MS_PER_S, PERCENT, S_PER_H, S_PER_MIN

SCHEME_LABELS = {
    "sl": "split learning (sequential)",
    "ht": "hierarchical (early exit)",
    "cloud_only": "cloud-only",
    "edge_only": "edge-only",
}


def result_rows(scenario: Scenario, run: RunResult) -> list[dict[str, Any]]:
    """One row per scheme: metrics, then the resolved scenario parameters and the seed."""
    sl = run.schemes.get("sl")
    sl_total = sl.total_s if sl is not None and sl.ok else math.nan
    params = flatten(scenario_to_dict(scenario))
    rows = []
    for name, result in run.schemes.items():
        row: dict[str, Any] = {
            "scenario": run.scenario_name,
            "seed": run.seed,
            "scheme": name,
            "status": result.status,
            "reason": result.reason,
            "method": result.method,
            "split_index": scenario.split_index,
            "split_name": scenario.profile.splits[scenario.split_index].split_name,
            "total_s": result.total_s,
            "epoch_mean_s": sum(result.epoch_s) / len(result.epoch_s) if result.epoch_s
            else math.nan,
            "saving_vs_sl": (sl_total - result.total_s) / sl_total,
            "batches": result.batches,
            "up_payload_bytes": result.up_payload_bytes,
            "up_wire_bytes": result.up_wire_bytes,
            "down_payload_bytes": result.down_payload_bytes,
            "down_wire_bytes": result.down_wire_bytes,
            "edge_memory_bytes": result.edge_memory_bytes,
            "peak_batches_in_flight": result.peak_batches_in_flight,
            "peak_uplink_queue": result.peak_uplink_queue,
            "edge_energy_j": result.edge_energy_j,
            "outage_lost_s": result.outage_lost_s,
            "device_s": json.dumps(list(result.device_s)),
        }
        for resource in RESOURCES:
            row[f"busy_fraction_{resource}"] = result.busy_fraction(resource)
        row.update(params)
        rows.append(row)
    return rows


def comparison_table(run: RunResult) -> str:
    """The schemes side by side, as printed by ``simulate``."""
    sl = run.schemes.get("sl")
    lines = []
    records = []
    for name, r in run.schemes.items():
        if not r.ok:
            records.append({"scheme": SCHEME_LABELS[name], "total": "does not fit",
                            "per epoch": "", "vs SL": "", "busy edge/up/cloud/down": r.reason,
                            "up MiB": "", "down MiB": ""})
            continue
        saving = ""
        if sl is not None and sl.ok and name != "sl":
            saving = f"{(sl.total_s - r.total_s) / sl.total_s * PERCENT:+.1f}%"
        busy = "/".join(f"{r.busy_fraction(res) * PERCENT:.0f}" for res in RESOURCES)
        record = {
            "scheme": SCHEME_LABELS[name],
            "total": _duration(r.total_s),
            "per epoch": _duration(sum(r.epoch_s) / len(r.epoch_s)),
            "vs SL": saving,
            "busy edge/up/cloud/down": busy + " %",
            "up MiB": f"{r.up_payload_bytes / MIB:.1f}",
            "down MiB": f"{r.down_payload_bytes / MIB:.1f}",
        }
        if not math.isnan(r.edge_energy_j):
            record["edge energy"] = f"{r.edge_energy_j / J_PER_KJ:.2f} kJ"
        if r.outage_lost_s:
            record["lost to outages"] = _duration(r.outage_lost_s)
        if len(r.device_s) > 1:
            record["slowest device"] = _duration(max(r.device_s))
        records.append(record)
    lines.append(pd.DataFrame(records).fillna("").to_string(index=False))
    ht_saving = run.saving_ht_vs_sl()
    if not math.isnan(ht_saving):
        verdict = (f"saves {ht_saving * PERCENT:.1f}% of" if ht_saving >= 0
                   else f"takes {-ht_saving * PERCENT:.1f}% longer than")
        lines.append(f"hierarchical training {verdict} the sequential split-learning time.")
    return "\n".join(lines)


def _duration(seconds: float) -> str:
    if seconds >= S_PER_H:
        return f"{seconds / S_PER_H:.2f} h"
    if seconds >= S_PER_MIN:
        return f"{seconds / S_PER_MIN:.2f} min"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * MS_PER_S:.2f} ms"
