"""``python -m simulator profile``: write split-point profiles of the torch models.

Writes ``<out>/<model>_<input>.csv`` (one row per split point, see
:mod:`simulator.torchkit.profiler`) and ``<out>/<model>_<input>.meta.json`` (how it was made).
``--time`` adds seconds measured on this CPU. ``--split NAME`` prints one split point's costs
instead of writing files. ``--all`` profiles the standard set committed under ``profiles/``.

This module imports torch only inside :func:`run`, so the CLI can build its parser without it.
Bad model, input or split: one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from simulator.torchkit.names import INPUT_NAMES, MODEL_NAMES, STANDARD_PROFILES, profile_stem

DEFAULT_OUT = Path("profiles")
EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> None:
    """Adds the ``profile`` options to ``parser``."""
    parser.description = (
        "Profile every split point of a model: FLOPs (FlopCounterMode, fvcore cross-check), "
        "bytes at the cut, parameter and training memory; optionally time the parts on this CPU."
    )
    parser.add_argument("--model", help=f"model: {', '.join(MODEL_NAMES)}")
    parser.add_argument(
        "--input",
        default="cifar10",
        help=f"input shape: {', '.join(INPUT_NAMES)} (default cifar10)",
    )
    parser.add_argument(
        "--width", type=float, default=1.0, help="channel-width multiplier (default 1.0)"
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="profile the standard set: "
        + ", ".join(profile_stem(m, i) for m, i in STANDARD_PROFILES),
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="output folder (default profiles/), or a .csv path for one profile",
    )
    parser.add_argument(
        "--split", help="print the costs of this split point (index or name); write no files"
    )
    parser.add_argument(
        "--time", action="store_true", help="also time each part on this CPU (slow)"
    )
    parser.add_argument(
        "--time-batch-size", type=int, default=16, help="batch used for --time (default 16)"
    )
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed warm-up runs (default 1)")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: all cores)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=2,
        help="batch used for counting (default 2; memory is also measured at twice this)",
    )
    parser.add_argument(
        "--head-channels",
        type=int,
        default=None,
        help="early-exit head convolution channels (default round(128 x width); 0: no conv)",
    )
    parser.add_argument(
        "--head-kernel", type=int, default=3, help="early-exit head kernel size (default 3)"
    )
    parser.add_argument(
        "--no-fvcore", action="store_true", help="skip the fvcore cross-check columns"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _targets(args: argparse.Namespace) -> list[tuple[str, str]]:
    """The (model, input) pairs to profile; ``ValueError`` (one line) on a bad choice."""
    if args.all:
        if args.model is not None or args.split is not None:
            raise ValueError("--all profiles the standard set; leave out --model and --split")
        if str(args.out).endswith(".csv"):
            raise ValueError("--all writes several profiles: --out must be a folder")
        return list(STANDARD_PROFILES)
    if args.model is None:
        raise ValueError(f"--model is required (allowed: {', '.join(MODEL_NAMES)}) or use --all")
    if args.model not in MODEL_NAMES:
        raise ValueError(f"unknown model {args.model!r} (allowed: {', '.join(MODEL_NAMES)})")
    if args.input not in INPUT_NAMES:
        raise ValueError(f"unknown input {args.input!r} (allowed: {', '.join(INPUT_NAMES)})")
    return [(args.model, args.input)]


def _check_numbers(args: argparse.Namespace) -> None:
    if not args.width > 0:
        raise ValueError(f"--width must be > 0, got {args.width}")
    if args.batch_size < 2:
        raise ValueError(f"--batch-size must be >= 2 (batch norm needs it), got {args.batch_size}")
    if args.time_batch_size < 2 or args.repeats < 1 or args.warmup < 0:
        raise ValueError("--time-batch-size must be >= 2, --repeats >= 1, --warmup >= 0")
    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.head_channels is not None and args.head_channels < 0:
        raise ValueError(f"--head-channels must be >= 0, got {args.head_channels}")
    if args.head_kernel < 1 or args.head_kernel % 2 == 0:
        raise ValueError(f"--head-kernel must be an odd integer >= 1, got {args.head_kernel}")


def output_paths(out: str | Path, model: str, input_name: str) -> tuple[Path, Path]:
    """CSV and metadata paths: ``out`` is a folder, or the CSV path itself if it ends in .csv."""
    out = Path(out)
    csv_path = out if out.suffix == ".csv" else out / f"{profile_stem(model, input_name)}.csv"
    return csv_path, csv_path.with_name(csv_path.stem + ".meta.json")


def run(args: argparse.Namespace) -> int:
    """Runs the ``profile`` command; returns the exit status (0, or 2 for a bad argument)."""
    try:
        targets = _targets(args)
        _check_numbers(args)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        import torch
    except ImportError:
        return _fail("profile needs torch: pip install -e '.[torch]'")

    from simulator.torchkit.heads import HeadConfig
    from simulator.torchkit.models import resolve_split, split_names

    head = HeadConfig(conv_channels=args.head_channels, kernel_size=args.head_kernel)
    split_index = None
    if args.split is not None:
        model, input_name = targets[0]
        try:
            split_index = resolve_split(
                args.split, split_names(model, input_name), f"{model} on {input_name}"
            )
        except ValueError as exc:
            return _fail(str(exc))
    threads = args.threads if args.threads is not None else (os.cpu_count() or 1)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        _write_profiles(targets, args, head, split_index)
    finally:
        torch.set_num_threads(previous_threads)  # run() may be called in a longer-lived process
    return 0


def _write_profiles(
    targets: list[tuple[str, str]], args: argparse.Namespace, head: Any, split_index: int | None
) -> None:
    from tqdm import tqdm

    progress = not args.quiet
    started = time.perf_counter()
    bar = tqdm(targets, desc="profiles", unit="profile", disable=not progress or len(targets) == 1)
    for model, input_name in bar:
        frame, meta = make_profile(model, input_name, args, head, progress)
        if split_index is not None:
            print(frame.iloc[split_index].to_string())
            continue
        csv_path, meta_path = output_paths(args.out, model, input_name)
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(csv_path, index=False, float_format="%.6g")
        meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        if not args.quiet:
            tqdm.write(f"wrote {csv_path} ({len(frame)} split points) and {meta_path.name}")
    if not args.quiet:
        print(f"profiled {len(targets)} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def make_profile(
    model: str,
    input_name: str,
    args: argparse.Namespace,
    head: Any,
    progress: bool,
) -> tuple[Any, dict[str, Any]]:
    """The profile frame of one (model, input) and its metadata dictionary."""
    import torch

    from simulator.torchkit.models import INPUTS
    from simulator.torchkit.profiler import (
        FVCORE_MATMUL_OPS,
        TIME_COLUMNS,
        TimingSettings,
        profile_model,
        time_parts,
    )

    started = time.perf_counter()
    frame, info = profile_model(
        model,
        input_name,
        width=args.width,
        head=head,
        batch_size=args.batch_size,
        progress=progress,
        fvcore=not args.no_fvcore,
    )
    if args.no_fvcore:
        frame = frame.drop(columns=[c for c in frame.columns if "_fvcore_" in c])
    count_s = time.perf_counter() - started
    timing: dict[str, Any] | None = None
    if args.time:
        settings = TimingSettings(
            batch_size=args.time_batch_size, warmup=args.warmup, repeats=args.repeats
        )
        load_before = os.getloadavg()
        started = time.perf_counter()
        timed = time_parts(model, input_name, args.width, head, settings, progress)
        for column in TIME_COLUMNS:
            frame[column] = timed[column].to_numpy()
        timing = {
            "batch_size": settings.batch_size,
            "warmup": settings.warmup,
            "repeats": settings.repeats,
            "statistic": "median over repeats / batch size, seconds per sample",
            "threads": torch.get_num_threads(),
            "cpu": cpu_name(),
            "load_average_1min_before": round(load_before[0], 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
            "wall_s": round(time.perf_counter() - started, 1),
        }
    spec = INPUTS[input_name]
    fvcore_version = None
    if not args.no_fvcore:
        import fvcore

        fvcore_version = getattr(fvcore, "__version__", "unknown")
    meta: dict[str, Any] = {
        "profile": profile_stem(model, input_name),
        "model": model,
        "input": input_name,
        "input_shape": list(spec.shape),
        "num_classes": spec.num_classes,
        "width": args.width,
        "split_names": list(frame["split_name"]),
        "head": {
            "design": head.describe(args.width),
            "conv_channels": head.channels(args.width),
            "kernel_size": head.kernel_size,
        },
        "units": "per sample; FLOPs count 2 per multiply-add; bytes; seconds",
        "counting": {
            "flop_counter": "torch.utils.flop_counter.FlopCounterMode",
            "device": "meta",
            "batch_size": info.batch_size,
            "memory_batch_sizes": list(info.memory_batch_sizes),
            "other_ops_counted": info.other_ops,
            "shape_only_ops": list(info.fast_meta_ops),
            "wall_s": round(count_s, 1),
        },
        "fvcore": None
        if fvcore_version is None
        else {"version": fvcore_version, "ops_counted": sorted(FVCORE_MATMUL_OPS)},
        "timing": timing,
        "versions": {
            "torch": torch.__version__,
            "fvcore": fvcore_version,
            "python": platform.python_version(),
        },
        "threads": torch.get_num_threads(),
        "command": _command(model, input_name, args),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return frame, meta


def _command(model: str, input_name: str, args: argparse.Namespace) -> str:
    """An equivalent command line for one profile (``--all`` expands to one per profile)."""
    parts = ["python -m simulator profile", f"--model {model}", f"--input {input_name}"]
    if args.width != 1.0:
        parts.append(f"--width {args.width:g}")
    if args.time:
        parts += [
            "--time",
            f"--time-batch-size {args.time_batch_size}",
            f"--repeats {args.repeats}",
            f"--warmup {args.warmup}",
        ]
    if args.threads is not None:
        parts.append(f"--threads {args.threads}")
    if args.batch_size != 2:
        parts.append(f"--batch-size {args.batch_size}")
    if args.head_channels is not None:
        parts.append(f"--head-channels {args.head_channels}")
    if args.head_kernel != 3:
        parts.append(f"--head-kernel {args.head_kernel}")
    if args.no_fvcore:
        parts.append("--no-fvcore")
    return " ".join(parts)


def cpu_name() -> str:
    """This machine's CPU model name (recorded beside timings)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m simulator.torchkit.profile_command``)."""
    parser = argparse.ArgumentParser(prog="python -m simulator.torchkit.profile_command")
    configure(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
