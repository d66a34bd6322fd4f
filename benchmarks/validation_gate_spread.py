"""How much do the CI gate's errors vary from one gate run to the next? (tolerance evidence)

Repeats the gate of ``tests/torchkit/test_measured_gate.py`` ``--repeats`` times — each time a
fresh calibration and the same four measured runs — and prints every run's error and saving gap
with the load average, then the largest |error| and |gap| seen. The tolerances in
``tests/torchkit/measured_tolerances.toml`` are set from this spread.

    .venv/bin/python benchmarks/validation_gate_spread.py --repeats 5 --out results/gate_spread
"""

from __future__ import annotations

import argparse
import importlib.util
import os
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    from simulator.scenario import load_scenario
    from simulator.torchkit import validation
    from simulator.torchkit.calibration import calibrate
    from simulator.torchkit.measured import resolve_emulation

    spec = importlib.util.spec_from_file_location(
        "gate", REPO / "tests" / "torchkit" / "test_measured_gate.py")
    assert spec is not None and spec.loader is not None
    gate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gate)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--emulation", default="auto")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "gate_spread")
    args = parser.parse_args()
    emulation = resolve_emulation(args.emulation)
    frames = []
    for repeat in range(args.repeats):
        load = os.getloadavg()[0]
        calibration = calibrate(load_scenario(gate.SCENARIO), gate.CALIBRATION_SPLITS,
                                repeats=4, warmup=1)
        matrix = {"resnet18": validation.ModelMatrix(gate.SCENARIO, (gate.SPLIT,),
                                                     gate.RATES_BPS)}
        points = validation.plan_points(matrix, {"resnet18": calibration.overrides()},
                                        emulation, batches=gate.BATCHES)
        measurements = validation.measure_points(points, 1, emulation, args.out / str(repeat),
                                                 progress=lambda line: None)
        runs = validation.run_table(measurements, emulation)
        savings = validation.saving_table(runs)
        merged = runs.merge(savings, on=["model", "split", "rate_mbit_s"])
        merged["repeat"], merged["load_1min"] = repeat, load
        frames.append(merged)
        print(merged[["repeat", "load_1min", "rate_mbit_s", "scheme", "measured_s", "predicted_s",
                      "error_pct", "saving_gap_pp"]].round(3).to_string(header=repeat == 0),
              flush=True)
    data = pd.concat(frames)
    args.out.mkdir(parents=True, exist_ok=True)
    data.to_csv(args.out / "gate_spread.csv", index=False)
    print(f"largest |error| {data['error_pct'].abs().max():.2f} %, largest |saving gap| "
          f"{data['saving_gap_pp'].abs().max():.2f} pp over {args.repeats} gate runs; "
          f"{emulation}")
    print(data.groupby(["rate_mbit_s", "scheme"])["error_pct"].agg(["mean", "std", "min", "max"])
          .round(2).to_string())


if __name__ == "__main__":
    main()
