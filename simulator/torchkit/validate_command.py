"""``python -m simulator validate``: measured runs versus simulator predictions, as tables.

Calibrates each model of the matrix on this machine (or reuses ``--calibrations DIR``), measures
every point (split point × bit rate × scheme) ``--repeats`` times with real edge and cloud
processes, predicts each with the simulator, and writes under ``--out``: ``runs.csv`` (measured,
predicted, error), ``savings.csv`` (HT-vs-SL saving, measured and predicted), ``stages.csv``
(per-stage seconds per batch, measured and simulated), ``table.md`` (all three with a summary and
the machine's load) and the calibration files. See :mod:`simulator.torchkit.validation`.
Exit status 0 (also when the targets are missed: this is a benchmark), 2 for a bad input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path

EXIT_USAGE = 2
TARGETS = {"median_abs_error_pct": 5.0, "max_abs_error_pct": 10.0, "saving_gap_pp": 5.0}
"""Targets of the issue (a benchmark, not a test)."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``validate`` options to ``parser``."""
    parser.description = ("Measured runs of a matrix of split points, bit rates and both "
                          "schemes, predicted by the simulator from calibrated devices.")
    parser.add_argument("--models", default="resnet18,vgg16",
                        help="comma-separated models of the matrix (default resnet18,vgg16)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per point (default 3)")
    parser.add_argument("--emulation", choices=("auto", "tc", "pacer"), default="auto",
                        help="channel emulation (default auto: tc when root, else pacer)")
    parser.add_argument("--out", type=Path, default=Path("results") / "validation",
                        help="output folder (default results/validation)")
    parser.add_argument("--calibrations", type=Path, default=None,
                        help="folder with calibration_<model>.toml to reuse instead of "
                        "calibrating")
    parser.add_argument("--splits", default=None,
                        help="override the matrix's split points (comma-separated names)")
    parser.add_argument("--rates", default=None,
                        help="override the matrix's bit rates (comma-separated, bit/s)")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="do not measure: read the runs of an earlier validation in --out "
                        "(with its calibrations) and predict them again")


def run(args: argparse.Namespace) -> int:
    """Runs the ``validate`` command; returns the exit status."""
    from simulator.errors import InputError

    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: validate needs torch: pip install -e '.[torch]'", file=sys.stderr)
        return EXIT_USAGE
    try:
        return _run(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    import dataclasses

    import pandas as pd

    from simulator.errors import InputError
    from simulator.scenario import load_scenario
    from simulator.torchkit import validation
    from simulator.torchkit.calibration import (
        calibrate,
        calibration_overrides,
        write_calibration,
    )
    from simulator.torchkit.measured import resolve_emulation
    from simulator.units import GFLOP

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in validation.MATRIX]
    if unknown or not models:
        raise InputError(f"--models: unknown {unknown} (allowed: "
                         f"{', '.join(validation.MATRIX)})")
    if args.repeats < 1:
        raise InputError("--repeats must be >= 1")
    matrix = {m: validation.MATRIX[m] for m in models}
    if args.splits:
        splits = tuple(s.strip() for s in args.splits.split(","))
        matrix = {m: dataclasses.replace(p, splits=splits) for m, p in matrix.items()}
    if args.rates:
        try:
            rates = tuple(float(r) for r in args.rates.split(","))
        except ValueError:
            raise InputError(f"--rates: comma-separated numbers, got {args.rates!r}") from None
        matrix = {m: dataclasses.replace(p, rates_bps=rates) for m, p in matrix.items()}
    out: Path = args.out
    if args.reuse_runs:
        summary_path = out / "summary.json"
        if not summary_path.is_file():
            raise InputError(f"--reuse-runs: {summary_path} not found (no earlier validation)")
        earlier = json.loads(summary_path.read_text())["environment"]
        emulation, args.repeats = earlier["emulation"], earlier["repeats"]
        args.calibrations = out
    else:
        emulation = resolve_emulation(args.emulation)
    out.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    previous = (json.loads((out / "summary.json").read_text())["environment"]
                if args.reuse_runs else None)
    calibrations: dict[str, Sequence[str]] = {}
    segments: dict[str, pd.DataFrame] = {}
    for model, part in matrix.items():
        path = out / f"calibration_{model}.toml"
        reuse = args.calibrations / f"calibration_{model}.toml" if args.calibrations else None
        if reuse is not None and reuse.is_file():
            if reuse.resolve() != path.resolve():
                path.write_text(reuse.read_text())
            print(f"{model}: calibration from {reuse}", flush=True)
        else:
            print(f"{model}: calibrating (timed segments, both sides busy) ...", flush=True)
            calibration = calibrate(load_scenario(part.scenario))
            write_calibration(calibration, path)
            edge, cloud = calibration.edge, calibration.cloud
            print(f"{model}: edge {edge.fwd_flops_per_s / GFLOP:.2f} / "
                  f"{edge.bwd_flops_per_s / GFLOP:.2f} GFLOP/s, cloud "
                  f"{cloud.fwd_flops_per_s / GFLOP:.2f} / {cloud.bwd_flops_per_s / GFLOP:.2f} "
                  "GFLOP/s (fwd / bwd)", flush=True)
        calibrations[model] = calibration_overrides(path)
        segments_path = path.with_name(path.stem + "_segments.csv")
        if not segments_path.is_file() and reuse is not None:
            source = reuse.with_name(reuse.stem + "_segments.csv")
            segments_path.write_text(source.read_text())
        segments[model] = pd.read_csv(segments_path)
    points = validation.plan_points(matrix, calibrations, emulation)
    measurements = validation.measure_points(
        points, args.repeats, emulation, out,
        progress=lambda line: print(line, flush=True),
        variants={**validation.VARIANTS,
                  "per_split": validation.per_split_calibration(segments)},
        reuse=args.reuse_runs)
    runs = validation.run_table(measurements, emulation)
    savings = validation.saving_table(runs)
    stages = validation.stage_table(measurements)
    runs.to_csv(out / "runs.csv", index=False, float_format="%.6g")
    savings.to_csv(out / "savings.csv", index=False, float_format="%.6g")
    stages.to_csv(out / "stages.csv", index=False, float_format="%.6g")
    summary = validation.summarize(runs, savings)
    environment = previous or {
        "machine": platform.machine(), "cpus": os.cpu_count(), "python": platform.python_version(),
        "torch": __import__("torch").__version__, "emulation": emulation,
        "repeats": args.repeats, "load_1min_before": round(load_before[0], 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (out / "summary.json").write_text(json.dumps(
        {**dataclasses.asdict(summary), "targets": TARGETS, "environment": environment},
        indent=2) + "\n")
    (out / "table.md").write_text(_table_md(summary, environment, runs, savings, stages))
    print(summary.line())
    print(f"wrote {out / 'table.md'}, runs.csv, savings.csv, stages.csv")
    return 0


def _table_md(summary: object, environment: dict[str, object], runs: object, savings: object,
              stages: object) -> str:
    import pandas as pd

    from simulator.torchkit.validation import Summary, markdown, summarize_variant

    assert isinstance(summary, Summary)
    assert isinstance(runs, pd.DataFrame) and isinstance(savings, pd.DataFrame)
    assert isinstance(stages, pd.DataFrame)
    variants = [c.removesuffix("_error_pct") for c in runs.columns
                if c.endswith("_error_pct") and c != "error_pct"]
    shown_runs = runs[["model", "split", "rate_mbit_s", "scheme", "batches", "channel_share",
                       "measured_s", "spread_pct", "predicted_s", "error_pct",
                       *[f"{v}_error_pct" for v in variants]]]
    shown_savings = savings[["model", "split", "rate_mbit_s", "measured_saving_pct",
                             "predicted_saving_pct", "saving_gap_pp",
                             *[f"{v}_saving_gap_pp" for v in variants]]]
    pivot = stages.pivot_table(index=["model", "scheme", "stage"], values="error_pct",
                               aggfunc=["median", "min", "max"]).reset_index()
    pivot.columns = ["model", "scheme", "stage", "median_error_pct", "min_error_pct",
                     "max_error_pct"]
    lines = [
        "# Measured runs versus the simulator",
        "",
        f"Summary: {summary.line()}.",
        "Targets: median |error| <= 5 %, max <= 10 %, saving gap <= 5 pp.",
        "",
    ]
    for variant in variants:
        lines.append(f"- variant `{variant}`: {summarize_variant(runs, savings, variant)}")
    lines += [
        "",
        "Environment: " + ", ".join(f"{k} {v}" for k, v in environment.items()) + ".",
        "",
        "error % = (predicted - measured) / measured; measured = median of the repeats; spread = "
        "(max - min) / median of the repeats; channel_share = the channel's share of the "
        "predicted SL busy time. Variants: `no_sl_downlink` = a deliberately wrong simulator "
        "(SL without the gradient's downlink; the negative control); `per_split` = an ablation "
        "with devices fitted to the point's own split point only.",
        "",
        "## Runs",
        "",
        markdown(shown_runs),
        "",
        "## HT-vs-SL saving (%)",
        "",
        markdown(shown_savings),
        "",
        "## Stage errors (per-batch seconds, simulated vs measured), over all points",
        "",
        markdown(pivot),
        "",
    ]
    return "\n".join(lines)
