"""Command line: ``python -m simulator COMMAND ...``.

Built-in commands (no torch): ``simulate``, ``sweep``, ``plot``. The other commands live in their
own modules (:data:`MODULE_COMMANDS`), imported only when called; those in
:mod:`simulator.torchkit` need torch, so ``simulate`` never loads it. Every bad input is one line
on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.errors import InputError

MODULE_COMMANDS: dict[str, tuple[str, str]] = {
    "tta": ("simulator.tta_command",
            "time to a target accuracy per scheme, split point and bit rate"),
    "advise": ("simulator.advise_command",
               "which split point and scheme to choose for given devices and channel"),
    "profile": ("simulator.torchkit.profile_command",
                "write split-point profiles (FLOPs, bytes, memory) of a PyTorch model"),
    "train": ("simulator.torchkit.train_command",
              "train a split model (SL or HT) for accuracy per epoch"),
    "measure": ("simulator.torchkit.measure_command",
                "measured run: real edge and cloud processes over an emulated channel"),
    "calibrate": ("simulator.torchkit.calibrate_command",
                  "fit effective FLOP/s of this machine from timed segments"),
    "validate": ("simulator.torchkit.validate_command",
                 "measured runs vs simulator predictions, as a table"),
}
"""Subcommands in their own modules: name → (module, one-line help). Each module has
``configure(parser)`` and ``run(args) -> int``; those under ``simulator.torchkit`` need torch."""


def _add_scenario_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a scenario key, e.g. channel.uplink_bps=2e6 (repeatable)")
    parser.add_argument("--out", type=Path, help="folder for results and the resolved scenario")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Simulate edge-cloud training: sequential split learning vs early-exit "
                    "hierarchical training, plus cloud-only and edge-only baselines.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    simulate = commands.add_parser("simulate", help="compare the schemes of one scenario")
    _add_scenario_args(simulate)
    simulate.add_argument("--method", choices=("des", "closed_form", "auto"), default="des",
                          help="discrete-event model (default) or closed form")
    simulate.add_argument("--trace", type=Path,
                          help="write the timeline as a Chrome trace (JSON) to this file")

    sweep = commands.add_parser("sweep", help="cartesian sweep over scenario keys, tidy CSV")
    _add_scenario_args(sweep)
    sweep.add_argument("--grid", action="append", default=[], required=True,
                       metavar="KEY=V1,V2,...",
                       help="swept key and values, or KEY=log:START:STOP:COUNT (repeatable)")
    sweep.add_argument("--method", choices=("des", "closed_form", "auto"), default="auto",
                       help="auto (default): closed form where nothing is random, else DES")
    sweep.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: CPU count; 1: in this process)")
    sweep.add_argument("--executor", choices=("process", "dask"), default="process",
                       help="process (default): local process pool; dask: a Dask cluster")
    sweep.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler address for --executor dask, e.g. tcp://host:8786")
    sweep.add_argument("--chunk-points", type=int, default=None, metavar="N",
                       help="points per worker task (default: automatic, at most 64)")

    plot = commands.add_parser("plot", help="draw a figure (written as PNG and SVG)")
    figures = plot.add_subparsers(dest="figure", required=True, metavar="FIGURE")
    for name, help_text in (("saving", "HT-vs-SL saving against uplink bit rate, per split"),
                            ("heatmap", "HT-vs-SL saving over split point x bit rate")):
        figure = figures.add_parser(name, help=help_text)
        figure.add_argument("results", type=Path, help="results.csv written by sweep")
    timeline = figures.add_parser("timeline", help="first batches of SL and HT on each resource")
    timeline.add_argument("scenario", type=Path, help="scenario TOML file")
    timeline.add_argument("--set", dest="overrides", action="append", default=[],
                          metavar="KEY=VALUE", help="override a scenario key (repeatable)")
    timeline.add_argument("--batches", type=int, default=6, help="batches to show (6)")
    validation = figures.add_parser(
        "validation", help="predicted vs measured time of validation runs, with y = x")
    validation.add_argument("table", type=Path,
                            help="runs.csv written by validate (measured_s, predicted_s, scheme)")
    tta = figures.add_parser("tta", help="test accuracy vs simulated wall time, SL and HT")
    tta.add_argument("accuracy", type=Path, help="accuracy CSV written by train")
    tta.add_argument("scenario", type=Path, help="scenario TOML file (its profile: the model)")
    tta.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="KEY=VALUE", help="override a scenario key (repeatable)")
    tta.add_argument("--rates", metavar="BPS,BPS,...",
                     help="uplink bit rates, one panel each (default: the scenario's)")
    tta.add_argument("--target", type=float, metavar="ACC",
                     help="draw this target accuracy (a fraction, e.g. 0.6)")
    tta.add_argument("--model", help="model of the accuracy table (if it has several)")
    for figure in figures.choices.values():
        figure.add_argument("--out", type=Path, required=True,
                            help="image path; written as .png and .svg")
        figure.add_argument("--title", help="figure title")

    for name, (module, help_text) in MODULE_COMMANDS.items():
        needs = " (needs the torch extra)" if module.startswith("simulator.torchkit") else ""
        commands.add_parser(name, help=help_text + needs, add_help=False)
    return parser


def _run_simulate(args: argparse.Namespace) -> int:
    from simulator.report import comparison_table, result_rows
    from simulator.scenario import load_scenario
    from simulator.simulate import simulate

    scenario = load_scenario(args.scenario, args.overrides)
    run = simulate(scenario, method=args.method, keep_spans=args.trace is not None)
    costs = scenario.profile.splits[scenario.split_index]
    w = scenario.workload
    print(f"scenario {scenario.name}: profile {scenario.profile.name}, split {costs.split} "
          f"({costs.split_name}), batch {w.batch_size}, {w.samples_per_epoch} samples x "
          f"{w.epochs} epochs, seed {scenario.seed}, method {args.method}")
    print(comparison_table(run))
    if args.out:
        import pandas as pd

        _write_scenario(args.out, scenario)
        pd.DataFrame(result_rows(scenario, run)).to_csv(args.out / "results.csv", index=False)
        print(f"wrote {args.out / 'results.csv'} and {args.out / 'scenario.toml'}")
    if args.trace:
        from simulator.trace import write_chrome_trace

        write_chrome_trace(args.trace, {s: r.spans for s, r in run.schemes.items()})
        print(f"wrote {args.trace} (open in https://ui.perfetto.dev or chrome://tracing)")
    return 0


def _write_scenario(folder: Path, scenario: object) -> None:
    from simulator.scenario import Scenario, scenario_to_dict, to_toml

    assert isinstance(scenario, Scenario)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.toml").write_text(
        "# Resolved scenario: every key, with overrides applied.\n"
        + to_toml(scenario_to_dict(scenario)))


def _run_sweep(args: argparse.Namespace) -> int:
    import json
    import time

    from tqdm import tqdm

    from simulator.scenario import load_scenario
    from simulator.sweep import parse_grid, plan_sweep, run_sweep

    if args.executor == "dask" and not args.scheduler:
        raise InputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    axes = [parse_grid(text) for text in args.grid]
    base = load_scenario(args.scenario, args.overrides)
    out = args.out or Path("results") / f"sweep-{base.name}"
    plan = plan_sweep(args.scenario, axes, args.overrides, args.method)  # fails before writing
    _write_scenario(out, base)
    (out / "grid.json").write_text(json.dumps(
        {"grid": {a.key: list(a.values) for a in axes}, "overrides": args.overrides,
         "method": args.method}, indent=2))
    started = time.perf_counter()
    with tqdm(total=len(plan.tasks), desc="sweep", unit="point", file=sys.stderr,
              disable=None) as bar:
        frame = run_sweep(args.scenario, axes, out / "results.csv", args.overrides, args.method,
                          workers=args.workers, executor=args.executor,
                          scheduler=args.scheduler, chunk_points=args.chunk_points,
                          progress=bar.update, plan=plan)
    methods = ", ".join(f"{m} {n}" for m, n in frame["method"].value_counts().sort_index().items())
    print(f"{len(plan.tasks)} points: {len(frame)} rows ({methods}) in {out / 'results.csv'}, "
          f"{time.perf_counter() - started:.1f} s")
    return 0


def _read_csv(path: Path) -> Any:
    from simulator.tables import read_csv_table

    return read_csv_table(path, "results")


def _run_plot(args: argparse.Namespace) -> int:
    from simulator import plots

    if args.figure == "saving":
        figure = plots.saving_vs_bitrate(_read_csv(args.results), title=args.title)
    elif args.figure == "heatmap":
        figure = plots.saving_heatmap(_read_csv(args.results), title=args.title)
    elif args.figure == "validation":
        figure = plots.predicted_vs_measured(_read_csv(args.table), title=args.title)
    elif args.figure == "tta":
        figure = _tta_figure(args)
    else:
        from simulator.scenario import load_scenario
        from simulator.simulate import simulate

        if args.batches < 1:
            raise InputError(f"--batches: expected an integer >= 1, got {args.batches}")
        scenario = load_scenario(args.scenario, [*args.overrides, 'schemes=["sl", "ht"]'])
        run = simulate(scenario, method="des")
        figure = plots.timeline({s: r.spans for s, r in run.schemes.items()}, args.batches,
                                title=args.title)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    written = [args.out.with_suffix(suffix) for suffix in (".png", ".svg")]
    for path in written:
        figure.savefig(path, dpi=150)
    print("wrote " + " and ".join(str(p) for p in written))
    return 0


def _tta_figure(args: argparse.Namespace) -> Any:
    """Accuracy (from training) against closed-form simulated time, per uplink bit rate."""
    from simulator.scenario import load_scenario
    from simulator.time_to_accuracy import (
        accuracy_timeline,
        accuracy_vs_time,
        load_accuracy_table,
    )

    rates = None
    if args.rates:
        try:
            rates = [float(r) for r in args.rates.split(",") if r.strip()]
        except ValueError:
            raise InputError(f"--rates: comma-separated bit rates in bit/s, got {args.rates!r}"
                             ) from None
        if not rates or any(not 0 < r < float("inf") for r in rates):
            raise InputError(f"--rates: bit rates must be numbers > 0, got {args.rates!r}")
    if args.target is not None and not 0 < args.target <= 1:
        raise InputError(f"--target must be a fraction in (0, 1], e.g. 0.6; got {args.target}")
    table = load_accuracy_table(args.accuracy)
    scenario = load_scenario(args.scenario, args.overrides)
    frame = accuracy_timeline(table, scenario, uplink_bps=rates, model=args.model)
    model = str(frame["model"].iloc[0])
    where = "" if scenario.name == model else f" ({scenario.name})"
    title = args.title or f"{model}: test accuracy vs simulated time{where}"
    return accuracy_vs_time(frame, target=args.target, title=title)


def _run_module_command(name: str, argv: Sequence[str]) -> int:
    module_name, help_text = MODULE_COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("torch", "fvcore"):
            raise InputError(f"'{name}' needs the torch extra: pip install -e '.[torch]' "
                             f"({exc.name} is not installed)") from None
        raise
    parser = argparse.ArgumentParser(prog=f"python -m simulator {name}", description=help_text)
    module.configure(parser)
    return int(module.run(parser.parse_args(list(argv))))


COMMANDS = {"simulate": _run_simulate, "sweep": _run_sweep, "plot": _run_plot}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in MODULE_COMMANDS:
            return _run_module_command(argv[0], argv[1:])
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results written so far are kept", file=sys.stderr)
        return 130
