"""``python -m simulator advise SCENARIO``: which split point and scheme to choose.

Evaluates every split point × scheme of the scenario's devices and channel (closed form where it
is exact, else the DES), drops what does not fit memory or uploads raw data, ranks the rest by
the objective and prints the top candidates and one line per losing group. See
:mod:`simulator.advisor`.
"""

from __future__ import annotations

import argparse
import math
from collections import Counter
from pathlib import Path

import pandas as pd

from simulator.advisor import (
    OBJECTIVES,
    Advice,
    Candidate,
    advise,
    format_duration,
    format_energy,
    load_accuracy,
)
from simulator.scenario import Scenario, load_scenario
from simulator.simulate import METHODS
from simulator.units import GFLOP, MIB, MS_PER_S, format_bps, format_bytes

OBJECTIVE_TITLES = {
    "time": "total training time",
    "time_to_accuracy": "time to the target accuracy",
    "edge_energy": "edge energy",
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``advise``."""
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a scenario key (repeatable)")
    parser.add_argument("--objective", choices=OBJECTIVES, default="time",
                        help="what to minimise (default: time)")
    parser.add_argument("--accuracy", type=Path, metavar="CSV",
                        help="accuracy table (model,input,split_name,scheme,seed,epoch,"
                             "test_accuracy) for --objective time_to_accuracy")
    parser.add_argument("--target", type=float, metavar="ACC",
                        help="target final-exit accuracy, a fraction (e.g. 0.85)")
    parser.add_argument("--top", type=int, default=5, metavar="N",
                        help="candidates to show (default 5)")
    parser.add_argument("--method", choices=METHODS, default="auto",
                        help="auto (default): closed form where exact, else DES")
    parser.add_argument("--allow-raw-upload", action="store_true",
                        help="rank cloud-only and split 0 too (they upload raw data)")


def _row(rank: int, c: Candidate, advice: Advice) -> dict[str, object]:
    row: dict[str, object] = {
        "rank": rank,
        "scheme": c.label.split(" @ ")[0],
        "split": "-" if c.split is None else f"{c.split} ({c.split_name})",
        "total": format_duration(c.total_s),
        "per epoch": format_duration(c.epoch_s),
        "up MiB/epoch": f"{c.up_bytes_per_epoch / MIB:.1f}",
        "edge memory": format_bytes(c.result.edge_memory_bytes),
    }
    if not math.isnan(c.edge_energy_j):
        row["edge energy"] = format_energy(c.edge_energy_j)
    if advice.objective == "time_to_accuracy":
        row[f"to {advice.target:g}"] = format_duration(c.time_to_accuracy_s)
        row["epochs"] = f"{c.epochs_to_target:.0f}"
    row["method"] = c.result.method
    return row


def _header(scenario: Scenario, advice: Advice) -> str:
    edge, cloud, channel = scenario.edge, scenario.cloud, scenario.channel
    every = list(advice.ranked) + list(advice.excluded)
    methods = Counter(c.result.method for c in every)
    method_text = ", ".join(f"{m} {n}" for m, n in sorted(methods.items()))
    return (f"scenario {scenario.name}: profile {scenario.profile.name} "
            f"({len(scenario.profile.splits)} split points); edge "
            f"{edge.fwd_flops_per_s / GFLOP:.3g} GFLOP/s fwd, {format_bytes(edge.memory_bytes)};"
            f" cloud {cloud.fwd_flops_per_s / GFLOP:.3g} GFLOP/s; uplink "
            f"{format_bps(channel.up_bps)}, downlink {format_bps(channel.down_bps)}, "
            f"latency {channel.latency_s * MS_PER_S:g} ms\n"
            f"{len(every)} candidates ({method_text}); objective: "
            f"{OBJECTIVE_TITLES[advice.objective]}")


def run(args: argparse.Namespace) -> int:
    """Print the advice; exit status 1 when no candidate satisfies the constraints."""
    scenario = load_scenario(args.scenario, args.overrides)
    accuracy = load_accuracy(args.accuracy) if args.accuracy is not None else None
    advice = advise(scenario, args.objective, accuracy, args.target, args.method,
                    args.allow_raw_upload)
    print(_header(scenario, advice))
    if advice.ranked:
        shown = advice.ranked[: max(1, args.top)]
        table = pd.DataFrame([_row(i + 1, c, advice) for i, c in enumerate(shown)])
        print(f"\ntop {len(shown)} of {len(advice.ranked)} eligible candidates:")
        print(table.to_string(index=False))
    if advice.reasons:
        print("\nwhy the others lose:")
        for line in advice.reasons:
            print(f"  - {line}")
    best = advice.best
    if best is None:
        print("\nno split point and scheme satisfies the constraints (see above)")
        return 1
    print(f"\nchoose {best.label}: {OBJECTIVE_TITLES[advice.objective]} "
          + (format_energy(best.edge_energy_j) if advice.objective == "edge_energy"
             else format_duration(best.score(advice.objective))))
    return 0
