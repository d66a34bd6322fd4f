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

    plot = commands.add_parser("plot", help="draw a figure from result CSV files")
    plot.add_argument("figure", choices=("saving",),
                      help="saving: HT-vs-SL saving against uplink bit rate, one line per split")
    plot.add_argument("results", type=Path, help="results.csv written by sweep")
    plot.add_argument("--out", type=Path, required=True, help="image file (.png or .svg)")
    plot.add_argument("--title", help="figure title")

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

    from tqdm import tqdm

    from simulator.scenario import load_scenario
    from simulator.sweep import grid_points, parse_grid, run_sweep

    axes = [parse_grid(text) for text in args.grid]
    base = load_scenario(args.scenario, args.overrides)
    out = args.out or Path("results") / f"sweep-{base.name}"
    _write_scenario(out, base)
    (out / "grid.json").write_text(json.dumps(
        {"grid": {a.key: list(a.values) for a in axes}, "overrides": args.overrides,
         "method": args.method}, indent=2))
    points = len(grid_points(axes))

    def progress(iterator, total):  # type: ignore[no-untyped-def]
        return tqdm(iterator, total=total, desc="sweep", unit="point", file=sys.stderr,
                    disable=None)

    frame = run_sweep(args.scenario, axes, out / "results.csv", args.overrides, args.method,
                      progress)
    print(f"{points} points x {len(base.schemes)} schemes: {len(frame)} rows in "
          f"{out / 'results.csv'}")
    return 0


def _run_plot(args: argparse.Namespace) -> int:
    import pandas as pd

    from simulator.plots import saving_vs_bitrate

    if not args.results.is_file():
        raise InputError(f"{args.results}: results file not found")
    frame = pd.read_csv(args.results)
    figure = saving_vs_bitrate(frame, title=args.title)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=150)
    print(f"wrote {args.out}")
    return 0


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
