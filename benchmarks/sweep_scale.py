"""Benchmark: a 10,000-point closed-form sweep, and the DES throughput in batches per second.

    .venv/bin/python benchmarks/sweep_scale.py [--points 10000] [--workers N] [--des-samples N]

The sweep is bit rate × split point × scheme × model over the profiles in ``profiles/``
(every split point of each, ``workload.split=*``). While fewer than five model profiles exist,
copies of ``tiny_cnn_cifar10.csv`` stand in (five models × 4 split points × 4 schemes × 125 bit
rates = 10,000 points). The bit-rate axis is sized so the grid has at least ``--points`` points.
Results go to a temporary folder. Target (issue 7): under 30 s on the project's 2-core machine.

The DES throughput is simulated batches (of every edge device) per second of wall time, per
scheme, on the tiny CNN with a constant channel and with jitter and packet loss.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time
from pathlib import Path

from simulator.scenario import SCHEME_NAMES, load_scenario, scenario_from_dict, to_toml
from simulator.simulate import simulate
from simulator.sweep import GridAxis, plan_sweep, run_sweep

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "profiles" / "tiny_cnn_cifar10.csv"
MIN_MODELS = 5


def _scenario(profile: Path) -> dict[str, object]:
    return {
        "name": "sweep_scale",
        "seed": 0,
        "schemes": list(SCHEME_NAMES),
        "workload": {"profile": str(profile), "split": 0, "batch_size": 32,
                     "samples_per_epoch": 50_000, "epochs": 10},
        "edge": {"fwd_flops_per_s": 2e9, "bwd_flops_per_s": 1e9, "memory_bytes": 4e9},
        "cloud": {"fwd_flops_per_s": 1e13, "step_overhead_s": 0.001},
        "channel": {"uplink_bps": 1e6, "downlink_bps": 5e6, "latency_s": 0.02},
    }


def model_profiles(scratch: Path) -> list[Path]:
    """Every profile in ``profiles/``, topped up with copies of the tiny CNN to five models."""
    profiles = sorted((REPO / "profiles").glob("*.csv"))
    for i in range(MIN_MODELS - len(profiles)):
        copy = scratch / f"tiny_cnn_copy{i}_cifar10.csv"
        shutil.copyfile(TINY, copy)
        profiles.append(copy)
    return profiles


def sweep_benchmark(points: int, workers: int, scratch: Path) -> None:
    profiles = model_profiles(scratch)
    scenario_path = scratch / "sweep_scale.toml"
    scenario_path.write_text(to_toml(_scenario(profiles[0])))
    model_axis = GridAxis("workload.profile", tuple(str(p) for p in profiles))
    split_axis = GridAxis("workload.split", ("*",))
    scheme_axis = GridAxis("schemes", SCHEME_NAMES)
    per_rate = len(plan_sweep(scenario_path, [model_axis, split_axis, scheme_axis]).tasks)
    rates = math.ceil(points / per_rate)
    rate_axis = GridAxis("channel.uplink_bps",
                         tuple(1e5 * (1e4 ** (i / max(1, rates - 1))) for i in range(rates)))
    axes = [rate_axis, model_axis, split_axis, scheme_axis]
    out = scratch / "results.csv"
    started = time.perf_counter()
    frame = run_sweep(scenario_path, axes, out, workers=workers)
    wall_s = time.perf_counter() - started
    total = rates * per_rate
    methods = {str(k): int(v) for k, v in frame["method"].value_counts().items()}
    print(f"sweep: {total} points ({rates} bit rates x {len(profiles)} models x split points x "
          f"{len(SCHEME_NAMES)} schemes), {len(frame)} rows, methods {methods}")
    print(f"sweep: {wall_s:.2f} s wall with {workers} workers, {total / wall_s:.0f} points/s "
          f"({'within' if wall_s < 30 else 'OVER'} the 30 s target)")


def des_benchmark(samples: int) -> None:
    data = _scenario(TINY)
    data["workload"] = {**data["workload"], "split": "block1",  # type: ignore[dict-item]
                        "samples_per_epoch": samples, "epochs": 1}
    data["schemes"] = ["sl", "ht"]
    cases = {
        "constant channel": {},
        "jitter + 1% loss": {"jitter_s": 0.005, "loss_rate": 0.01},
    }
    for label, channel in cases.items():
        case = {**data, "channel": {**data["channel"], **channel}}  # type: ignore[dict-item]
        scenario = scenario_from_dict(case, "benchmark", REPO)
        for scheme in ("sl", "ht"):
            one = scenario_from_dict({**case, "schemes": [scheme]}, "benchmark", REPO)
            started = time.perf_counter()
            run = simulate(one, method="des", keep_spans=False)
            wall_s = time.perf_counter() - started
            batches = run.schemes[scheme].batches
            print(f"DES {label:17s} {scheme}: {batches} batches in {wall_s:.2f} s = "
                  f"{batches / wall_s:,.0f} simulated batches/s")
        del scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000, help="at least this many points")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="local worker processes (default: CPU count)")
    parser.add_argument("--des-samples", type=int, default=320_000,
                        help="samples of the DES run (32 per batch)")
    options = parser.parse_args(argv)
    load_scenario(REPO / "scenarios" / "tiny_cnn.toml")  # fail early if the checkout is broken
    with tempfile.TemporaryDirectory() as scratch:
        sweep_benchmark(options.points, options.workers, Path(scratch))
    des_benchmark(options.des_samples)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
