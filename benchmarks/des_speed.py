"""Speed of the discrete-event model and of the closed form (issue 3's targets).

Prints:
* DES wall time for one epoch of 50,000 samples at batch 32, one edge device, SL and HT
  (target: under 50 ms each);
* the time per point of a 1,000-point sweep (20 bit rates × 50 repeats over the split points)
  with the DES and with the closed form, and their ratio (target: closed form ≥ 100× faster).

Run: ``python benchmarks/des_speed.py [--scenario scenarios/default.toml]``. Figures are best of
several repeats; this machine is shared and noisy, so read the ratio rather than the absolutes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from simulator.scenario import load_scenario
from simulator.simulate import simulate_scheme

REPO = Path(__file__).resolve().parents[1]


def best_of(repeats: int, run: object) -> float:
    """Smallest wall time of ``repeats`` calls of ``run`` (seconds)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, default=REPO / "scenarios" / "default.toml")
    parser.add_argument("--sweep-samples", type=int, default=50_000,
                        help="samples per epoch of each sweep point (keeps the DES sweep short)")
    args = parser.parse_args()

    epoch = load_scenario(args.scenario, ["workload.samples_per_epoch=50000",
                                          "workload.batch_size=32", "workload.epochs=1",
                                          "fleet.devices=1"])
    print(f"scenario {args.scenario.name}, profile {epoch.profile.name}, "
          f"split {epoch.split_index}")
    for scheme in ("sl", "ht"):
        for keep_spans in (False, True):
            seconds = best_of(5, lambda s=scheme, k=keep_spans: simulate_scheme(
                epoch, s, "des", keep_spans=k))
            print(f"DES, one epoch of 50,000 samples (1,563 batches), {scheme}, "
                  f"spans {'kept' if keep_spans else 'off'}: {seconds * 1e3:6.1f} ms "
                  f"(target < 50 ms)")

    rates_bps = np.geomspace(1e5, 1e10, 20)
    splits = range(epoch.profile.last_split + 1)
    points = [(float(r), s) for r in rates_bps for s in splits]
    points = (points * (1000 // len(points) + 1))[:1000]
    scenarios = [load_scenario(args.scenario, [f"channel.uplink_bps={r}", f"workload.split={s}",
                                               f"workload.samples_per_epoch={args.sweep_samples}",
                                               "workload.epochs=1", "fleet.devices=1"])
                 for r, s in points]
    per_point = {}
    for method in ("des", "closed_form"):
        start = time.perf_counter()
        for scenario in scenarios:
            for scheme in ("sl", "ht"):
                simulate_scheme(scenario, scheme, method, keep_spans=False)  # type: ignore[arg-type]
        per_point[method] = (time.perf_counter() - start) / len(scenarios)
        print(f"1,000-point sweep ({args.sweep_samples} samples/point, SL+HT), {method}: "
              f"{per_point[method] * 1e3:.3f} ms per point")
    print(f"closed form is {per_point['des'] / per_point['closed_form']:.0f}x faster than the "
          "DES per point (target >= 100x)")


if __name__ == "__main__":
    main()
