"""``python -m simulator tta``: time to a target accuracy per scheme, split point and bit rate.

Example::

    python -m simulator tta scenarios/vgg16.toml --accuracy profiles/accuracy/vgg16_cifar10.csv \\
        --target 0.6 --grid channel.uplink_bps=250e3,1e6,4e6 --out results/tta-vgg16

Prints one line per scheme × split × bit rate and writes ``<out>/time_to_accuracy.csv`` (that
table), ``<out>/accuracy_timeline.csv`` (accuracy and simulated time per epoch),
``<out>/accuracy_vs_time.png`` and ``<out>/scenario.toml`` (the resolved base scenario). The
scenario's profile must be of the same model as the accuracy table; see
:mod:`simulator.time_to_accuracy` for what is assumed. Torch-free.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from simulator.errors import InputError
from simulator.units import PERCENT, format_bps

GRID_KEYS: tuple[str, ...] = ("channel.uplink_bps", "workload.split")


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``tta`` options to ``parser``."""
    parser.description = (
        "Join accuracy per epoch (from real training) with simulated time per epoch: simulated "
        "wall time to a target test accuracy for each scheme, split point and uplink bit rate.")
    parser.add_argument("scenario", type=Path, help="scenario TOML file (its profile: the model)")
    parser.add_argument("--accuracy", type=Path, required=True,
                        help="accuracy CSV written by 'train' (e.g. profiles/accuracy/"
                             "vgg16_cifar10.csv)")
    parser.add_argument("--target", type=float, required=True,
                        help="target test accuracy of the final exit, a fraction (e.g. 0.6)")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                        help="channel.uplink_bps=V1,V2 or =log:START:STOP:COUNT, and/or "
                             "workload.split=NAME1,NAME2 (default: the scenario's rate, the "
                             "table's HT split points)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a scenario key (repeatable)")
    parser.add_argument("--model", help="model of the accuracy table to use (if it has several)")
    parser.add_argument("--schemes", default=None,
                        help="comma-separated: sl, ht (default: those in the table)")
    parser.add_argument("--keep-workload", action="store_true",
                        help="keep the scenario's samples_per_epoch and batch_size instead of "
                             "the accuracy table's train_samples and batch_size")
    parser.add_argument("--out", type=Path, help="output folder (default results/tta-<name>)")


def _grid(texts: list[str]) -> tuple[list[float] | None, list[str] | None]:
    from simulator.sweep import parse_grid

    rates: list[float] | None = None
    splits: list[str] | None = None
    for text in texts:
        axis = parse_grid(text)
        if axis.key == "channel.uplink_bps":
            try:
                rates = [float(v) for v in axis.values]
            except (TypeError, ValueError):
                raise InputError(f"--grid {text!r}: bit rates must be numbers") from None
            if any(not (r > 0 and math.isfinite(r)) for r in rates):
                raise InputError(f"--grid {text!r}: bit rates must be numbers > 0")
        elif axis.key == "workload.split":
            splits = [str(v) for v in axis.values]
        else:
            raise InputError(f"--grid {axis.key}: tta grids over {' and '.join(GRID_KEYS)}; "
                             "use --set for other keys")
    return rates, splits


def _duration(seconds: float) -> str:
    if math.isnan(seconds):
        return "not reached"
    if seconds >= 3600:
        return f"{seconds / 3600:.2f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def summary_text(summary: pd.DataFrame) -> str:
    """The time-to-accuracy table as printed."""
    shown = pd.DataFrame({
        "uplink": [format_bps(v) for v in summary["uplink_bps"]],
        "split": [f"{s} {n}" for s, n in zip(summary["split"], summary["split_name"],
                                              strict=True)],
        "scheme": summary["scheme"],
        "time to target": [_duration(v) for v in summary["time_to_accuracy_s"]],
        "epochs": ["" if math.isnan(v) else f"{int(v)}" for v in summary["epochs_to_target"]],
        "final acc %": [f"{v * PERCENT:.1f}" for v in summary["final_accuracy"]],
        "HT saving": ["" if math.isnan(v) else f"{v * PERCENT:+.1f}%"
                      for v in summary["saving_vs_sl"]],
    })
    return shown.to_string(index=False)


def run(args: argparse.Namespace) -> int:
    """Runs the ``tta`` command; returns 0 (bad input raises :class:`InputError`)."""
    from simulator.scenario import load_scenario, scenario_to_dict, to_toml
    from simulator.time_to_accuracy import (
        accuracy_timeline,
        accuracy_vs_time,
        load_accuracy_table,
        time_to_accuracy,
    )

    if not 0 < args.target <= 1:
        raise InputError(f"--target must be a fraction in (0, 1], e.g. 0.6; got {args.target}")
    rates, splits = _grid(args.grid)
    schemes = [s.strip() for s in args.schemes.split(",")] if args.schemes else None
    scenario = load_scenario(args.scenario, args.overrides)
    table = load_accuracy_table(args.accuracy)
    timeline = accuracy_timeline(table, scenario, uplink_bps=rates, splits=splits,
                                 schemes=schemes, model=args.model,
                                 match_workload=not args.keep_workload)
    summary = time_to_accuracy(timeline, args.target)
    first = timeline.iloc[0]
    low, high = int(timeline["seeds"].min()), int(timeline["seeds"].max())
    seeds = f"{low}" if low == high else f"{low}-{high}"
    print(f"scenario {scenario.name}, accuracy {args.accuracy} ({first['model']}, width "
          f"{first['accuracy_width']:g}), {first['samples_per_epoch']} samples x batch "
          f"{first['batch_size']} per epoch, target {args.target * PERCENT:g}% (final exit, mean "
          f"over {seeds} seeds), closed-form simulated time")
    width = float(first["accuracy_width"])
    if not math.isnan(width) and width != 1.0:
        print(f"note: accuracy was measured at width {width:g}; time comes from the scenario's "
              f"profile ({scenario.profile.path.name}) as it is: accuracy per epoch is assumed "
              "to carry over to the profiled model")
    print(summary_text(summary))
    out: Path = args.out or Path("results") / f"tta-{scenario.name}"
    out.mkdir(parents=True, exist_ok=True)
    summary.to_csv(out / "time_to_accuracy.csv", index=False)
    timeline.to_csv(out / "accuracy_timeline.csv", index=False)
    (out / "scenario.toml").write_text("# Resolved base scenario (split and rate vary per row)."
                                       "\n" + to_toml(scenario_to_dict(scenario)))
    figure = accuracy_vs_time(
        timeline, target=args.target,
        title=f"{first['model']}: accuracy vs simulated time ({scenario.name})")
    figure.savefig(out / "accuracy_vs_time.png", dpi=150)
    print(f"wrote {out / 'time_to_accuracy.csv'}, accuracy_timeline.csv, accuracy_vs_time.png, "
          "scenario.toml")
    return 0
