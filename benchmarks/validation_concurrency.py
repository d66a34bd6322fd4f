"""Does one side's compute slow the other down on this machine? Solo versus both-busy segments.

Times the calibration segments of a validation model twice, interleaved ``--rounds`` times: each
side alone (the other process idle) and both sides in lockstep (as in calibration and in HT's
overlap), and prints, per side and stage, the median both-busy / solo time ratio with the load
average. A ratio near 1 means the emulated devices are independent, as the simulator assumes;
a ratio well above 1 means a measured run's stage times depend on what the other side is doing.

    .venv/bin/python benchmarks/validation_concurrency.py --model resnet18 --splits 3,5,7
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd


def main() -> None:
    from simulator.scenario import load_scenario
    from simulator.torchkit.calibration import calibration_plans, stage_medians, time_segments
    from simulator.torchkit.measured import DEFAULT_NICE, default_cpus
    from simulator.torchkit.validation import MATRIX

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18", choices=sorted(MATRIX))
    parser.add_argument("--splits", default="3,5,7")
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="CSV of every segment")
    args = parser.parse_args()
    scenario = load_scenario(MATRIX[args.model].scenario)
    plans = calibration_plans(scenario, [int(s) for s in args.splits.split(",")])
    frames = []
    for round_ in range(args.rounds):
        for concurrency in ("solo", "both"):
            load = os.getloadavg()[0]
            segments = time_segments(plans, args.repeats, 2, concurrency, default_cpus(),
                                     DEFAULT_NICE)
            segments["concurrency"] = concurrency
            segments["round"] = round_
            frames.append(segments)
            print(f"round {round_} {concurrency}: load {load:.2f}", flush=True)
    data = pd.concat(frames)
    if args.out is not None:
        data.to_csv(args.out, index=False)
    medians = {c: stage_medians(data[data["concurrency"] == c]).set_index(
        ["side", "split", "scheme", "stage"])["median_s"] for c in ("solo", "both")}
    table = pd.DataFrame({"solo_s": medians["solo"], "both_s": medians["both"]})
    table["ratio"] = table["both_s"] / table["solo_s"]
    print(table.round(4).to_string())
    print(table.groupby(level="side")["ratio"].median().round(3).to_string())


if __name__ == "__main__":
    main()
