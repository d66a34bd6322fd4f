"""``python -m simulator calibrate``: fit each side's effective FLOP/s from timed segments.

Times the training steps of the scenario's model on this machine — an edge process and a cloud
process, one thread each on their own CPU, both busy at once (as in a measured run) — at every
split point with layers on both sides (or ``--splits``), fits forward and backward FLOP/s and a
per-step overhead per side (:mod:`simulator.torchkit.calibration`), and writes a TOML file whose
``[edge]`` and ``[cloud]`` tables a scenario takes (``measure --calibration FILE``,
``validate``). Exit status 0, or 2 for a bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``calibrate`` options to ``parser``."""
    parser.description = ("Calibrate the edge and cloud processes' effective FLOP/s and step "
                          "overhead from timed segments of the scenario's model.")
    parser.add_argument("scenario", type=Path, help="scenario TOML (model via its profile's "
                        ".meta.json; batch size)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a scenario value (repeatable)")
    parser.add_argument("--out", type=Path, default=Path("calibration.toml"),
                        help="calibration TOML to write (default calibration.toml)")
    parser.add_argument("--splits", default=None,
                        help="comma-separated split indices (default: all with layers on both "
                        "sides)")
    parser.add_argument("--repeats", type=int, default=6, help="timed batches per segment")
    parser.add_argument("--warmup", type=int, default=2, help="untimed batches per segment")
    parser.add_argument("--concurrency", choices=("both", "solo"), default="both",
                        help="both sides busy at once (default, as in measured runs) or alone")


def run(args: argparse.Namespace) -> int:
    """Runs the ``calibrate`` command; returns the exit status."""
    from simulator.errors import InputError

    try:
        import torch  # noqa: F401
    except ImportError:
        print("error: calibrate needs torch: pip install -e '.[torch]'", file=sys.stderr)
        return EXIT_USAGE
    from simulator.scenario import load_scenario
    from simulator.torchkit.calibration import calibrate, calibration_toml, write_calibration

    try:
        scenario = load_scenario(args.scenario, args.overrides)
        splits = None
        if args.splits:
            try:
                splits = [int(s) for s in args.splits.split(",")]
            except ValueError:
                raise InputError(
                    f"--splits: comma-separated integers, got {args.splits!r}") from None
        if args.repeats < 1 or args.warmup < 0:
            raise InputError("--repeats must be >= 1 and --warmup >= 0")
        count = len(splits) if splits else scenario.profile.last_split - 1
        print(f"timing {count} split points x 2 schemes x {args.warmup} + {args.repeats} batches "
              f"per side ({args.concurrency}) ...", file=sys.stderr, flush=True)
        calibration = calibrate(scenario, splits, args.repeats, args.warmup, args.concurrency)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    segments = write_calibration(calibration, args.out)
    print(calibration_toml(calibration), end="")
    print(f"wrote {args.out} and {segments}")
    return 0
