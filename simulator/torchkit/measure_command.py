"""``python -m simulator measure``: a measured run with real edge and cloud processes.

Without ``--role`` it runs both sides on this machine over an emulated channel (kernel shaping
when root with iproute2, else the in-process pacer; ``--emulation`` chooses), writes
``spans.csv`` (both sides, the simulator's span schema), ``measured.json``, each side's log and
partial files under ``--out``, and prints the measured time next to the simulator's prediction.
With ``--role edge|cloud --master-addr HOST:PORT`` it runs one side only, e.g. on an edge board
and a server (``--emulation none``: the real network; the cloud listens on PORT).

Exit status: 0 done; 2 bad input; 3 the peer or the link failed (spans so far are kept).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_USAGE = 2
EXIT_FAILED = 3


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``measure`` options to ``parser``."""
    parser.description = (
        "Measured run: train the scenario's split model with real edge and cloud processes "
        "(torch.distributed, gloo over TCP) over an emulated channel, timing every stage."
    )
    parser.add_argument("scenario", type=Path, help="scenario TOML (its profile needs a "
                        ".meta.json from `python -m simulator profile`)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="override a scenario value (repeatable)")
    parser.add_argument("--scheme", choices=("sl", "ht"), default="ht",
                        help="sl: sequential split learning; ht: hierarchical (default)")
    parser.add_argument("--batches", type=int, default=20, help="batches to train (default 20)")
    parser.add_argument("--emulation", choices=("auto", "tc", "pacer", "none"), default=None,
                        help="channel emulation: auto (tc if root with iproute2, else pacer; "
                        "the default on one machine), tc, pacer, or none (real network; the "
                        "default with --role)")
    parser.add_argument("--role", choices=("edge", "cloud"),
                        help="run one side only (two machines)")
    parser.add_argument("--master-addr", metavar="HOST:PORT",
                        help="with --role: the cloud's address and port")
    parser.add_argument("--out", type=Path, help="output folder (default results/measured/...)")
    parser.add_argument("--trace", type=Path, help="also write a Chrome trace of the measured "
                        "and the simulated timeline")
    parser.add_argument("--calibration", type=Path,
                        help="calibration TOML ([edge], [cloud]) to predict with")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed warm-up steps on each side (default 2)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds without a message before a side gives up (default: "
                        "60 or 3x the predicted SL batch, whichever is longer)")
    parser.add_argument("--cpu", type=int, default=None,
                        help="with --role: pin this side to one CPU")
    parser.add_argument("--same-host", action="store_true",
                        help="with --role: both sides share this machine's clock (no sync)")
    parser.add_argument("--serve", action="store_true",
                        help="with --role: run jobs read from stdin (used by the launcher)")
    parser.add_argument("--nice", type=int, default=None,
                        help="scheduling priority of the edge and cloud processes where "
                        "allowed (default -10 on one machine, unchanged with --role)")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    """Runs the ``measure`` command; returns the exit status."""
    from simulator.errors import InputError

    try:
        import torch  # noqa: F401
    except ImportError:
        return _fail("measure needs torch: pip install -e '.[torch]'")
    try:
        if args.role is not None:
            return _run_role(args)
        return _run_local(args)
    except InputError as exc:
        return _fail(str(exc))


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from simulator.scenario import load_scenario
    from simulator.torchkit.calibration import calibration_overrides

    overrides = list(args.overrides)
    if args.calibration is not None:
        overrides = calibration_overrides(args.calibration) + overrides
    return load_scenario(args.scenario, overrides)


def _run_role(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from simulator.errors import InputError
    from simulator.torchkit.plan import make_plan
    from simulator.torchkit.runtime import Job, RoleResult, serve

    if not args.master_addr or ":" not in args.master_addr:
        raise InputError("--role needs --master-addr HOST:PORT (the cloud's address)")
    timeout_s = args.timeout if args.timeout is not None else 60.0

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    if args.serve:  # the launcher's persistent process: jobs on stdin, results on stdout
        def report(result: RoleResult) -> None:
            print(json.dumps(asdict(result)), flush=True)

        jobs = (Job.from_json(line) for line in sys.stdin if line.strip())
        ok = serve(args.role, args.master_addr, jobs, timeout_s, report, args.same_host,
                   args.cpu, say, nice=args.nice)
    else:
        emulation = args.emulation or "none"
        if emulation == "auto":
            raise InputError("--role needs an explicit --emulation: none, pacer or tc")
        scenario = _load(args)
        plan = make_plan(scenario, args.scheme, args.batches, emulation, args.warmup, timeout_s)
        out = args.out or Path("results") / "measured" / f"{scenario.name}_{args.scheme}"
        results: list[RoleResult] = []
        ok = serve(args.role, args.master_addr, [Job(plan, out)], timeout_s, results.append,
                   args.same_host, args.cpu, say, nice=args.nice)
        if ok and args.role == "edge":
            print(f"measure (edge): {plan.scheme}, {plan.batches} batches: wrote {out}")
    sys.stdout.flush()
    sys.stderr.flush()
    # Leave at once: every file is written and closed; gloo's teardown can block on a dead peer
    # and the interpreter's shutdown with torch loaded takes seconds.
    os._exit(0 if ok else EXIT_FAILED)


def _run_local(args: argparse.Namespace) -> int:
    from simulator.torchkit.measured import measure, predict
    from simulator.units import PERCENT

    scenario = _load(args)
    run = measure(scenario, args.scheme, args.batches, args.emulation or "auto", args.out,
                  warmup_batches=args.warmup, stall_timeout_s=args.timeout,
                  nice=args.nice)
    predicted_s, simulated = predict(scenario, args.scheme, args.batches, run.emulation,
                                     keep_spans=args.trace is not None)
    if args.trace is not None:
        from simulator.trace import write_chrome_trace

        write_chrome_trace(args.trace, {"measured": run.spans, "simulated": simulated})
    if not run.ok:
        print(f"measure: {args.scheme} failed: {run.message}; {len(run.spans)} spans kept in "
              f"{run.out}", file=sys.stderr)
        return EXIT_FAILED
    error = (predicted_s - run.total_s) / run.total_s * PERCENT
    note = "" if args.calibration else " (devices as in the scenario: calibrate for a fair check)"
    print(f"measure: {args.scheme}, {args.batches} batches, emulation {run.emulation}: measured "
          f"{run.total_s:.3f} s, simulator {predicted_s:.3f} s ({error:+.1f} %){note}")
    print(f"wrote {run.out / 'spans.csv'}" + (f" and {args.trace}" if args.trace else ""))
    return 0
