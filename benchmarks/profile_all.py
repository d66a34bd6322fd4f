"""Benchmark: profile all standard (model, input) pairs and print the wall time of each.

    .venv/bin/python benchmarks/profile_all.py [--out DIR] [--threads N] [--no-fvcore]

Counting only (no ``--time``): what ``python -m simulator profile --all`` does. Writes into a
temporary folder unless ``--out`` is given, so the committed profiles (which carry timings) are
left alone. Target (issue 4): under 60 s in all on the project's 2-core CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from simulator.torchkit.names import STANDARD_PROFILES, profile_stem
from simulator.torchkit.profile_command import configure, make_profile, output_paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the profiles (default: a temp dir)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-fvcore", action="store_true", help="skip the fvcore cross-check")
    options = parser.parse_args(argv)

    import torch

    from simulator.torchkit.heads import HeadConfig

    if options.threads is not None:
        torch.set_num_threads(options.threads)
    profile_parser = argparse.ArgumentParser()
    configure(profile_parser)
    args = profile_parser.parse_args(["--all", "--quiet"] + (["--no-fvcore"] * options.no_fvcore))
    head = HeadConfig()
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(options.out or scratch)
        started = time.perf_counter()
        for model, input_name in STANDARD_PROFILES:
            begin = time.perf_counter()
            frame, meta = make_profile(model, input_name, args, head, progress=False)
            csv_path, meta_path = output_paths(out, model, input_name)
            csv_path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_csv(csv_path, index=False, float_format="%.6g")
            meta_path.write_text(json.dumps(meta, indent=2) + "\n")
            stem = profile_stem(model, input_name)
            print(f"{stem:36s} {len(frame):3d} split points {time.perf_counter() - begin:6.1f} s")
        total = time.perf_counter() - started
    print(f"{'all ' + str(len(STANDARD_PROFILES)) + ' profiles':36s} {'':16s} {total:6.1f} s")
    print(f"threads {torch.get_num_threads()}, fvcore {'off' if options.no_fvcore else 'on'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
