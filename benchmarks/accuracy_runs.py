"""Accuracy runs on the CIFAR-10 subset: end-to-end (= SL) vs early-exit HT per split point.

Trains VGG-16 and ResNet-18 at a reduced width on the CIFAR-10 subset (5,438 training and 1,017
test images) with ``python -m simulator.torchkit.train_command``: split learning once per seed
(its numbers are the same at every split point: SL computes end-to-end gradients, see
``tests/torchkit/test_training.py``) and hierarchical training at an early, a middle and a late
split point, for every seed. Each run is its own process in its own folder under ``--work`` and
resumes from its last completed epoch when the benchmark is started again.

Steps, all from the repository root::

    nice .venv/bin/python benchmarks/accuracy_runs.py probe    # pick the learning rate, ~10 min
    nice .venv/bin/python benchmarks/accuracy_runs.py run      # train (resumable), ~1 h
    .venv/bin/python benchmarks/accuracy_runs.py collect        # runs → profiles/accuracy/*.csv
    .venv/bin/python benchmarks/accuracy_runs.py report         # CSVs → .../README.md

``probe`` trains end-to-end (SL, seed 0) at each of :data:`PROBE_LRS` for the first
:data:`PROBE_EPOCHS` epochs of the full schedule; the learning rate with the lowest training loss
is the one ``run`` uses for every run (``--lr``). A sensitivity set made at another learning rate
can be collected into a subfolder (``collect --work ... --target profiles/accuracy/lr0.05``); the
report adds it as its own section.

``report`` reads only the committed CSVs and ``benchmark.json``: every number in the README comes
from them.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.torchkit.profile_command import cpu_name

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_WORK = REPO / "results" / "accuracy_runs"
ACCURACY_DIR = REPO / "profiles" / "accuracy"
BENCHMARK_JSON = "benchmark.json"
PERCENT = 100.0

PROBE_LRS: tuple[float, ...] = (0.01, 0.02, 0.05)
PROBE_EPOCHS = 3
PROBE_CSV = "lr_probe.csv"
SENSITIVITY_PREFIX = "lr"
"""Subfolders ``lr<value>/`` of the target hold sensitivity sets at another learning rate."""

SPLITS: dict[str, tuple[str, str, str]] = {
    "vgg16": ("conv1_2_pool", "conv3_3_pool", "conv4_3_pool"),
    "resnet18": ("layer1_1", "layer2_1", "layer3_1"),
}
"""Early, middle and late split point of each model (the end of a stage: the cut tensor is
smallest there for the edge compute spent). SL runs at the middle one."""


@dataclass(frozen=True)
class Settings:
    """What every run shares; recorded in ``benchmark.json``."""

    width: float = 0.25
    epochs: int = 12
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    crop_padding_px: int = 4
    flip: bool = True
    seeds: tuple[int, ...] = (0, 1)
    threads: int = 1
    jobs: int = 2


@dataclass(frozen=True)
class Run:
    model: str
    scheme: str
    split: str
    seed: int

    @property
    def folder(self) -> str:
        return f"{self.model}_{self.scheme}_{self.split}_s{self.seed}"


def planned_runs(settings: Settings) -> list[Run]:
    """Seed by seed (a partial benchmark still covers every configuration), slowest model first."""
    runs = []
    for seed in settings.seeds:
        for model in ("resnet18", "vgg16"):
            early, middle, late = SPLITS[model]
            runs.append(Run(model, "sl", middle, seed))
            runs.extend(Run(model, "ht", split, seed) for split in (early, middle, late))
    return runs


def command(run: Run, settings: Settings, out: Path, data: Path | None,
            stop_after: int | None = None) -> list[str]:
    args = [
        PYTHON, "-m", "simulator.torchkit.train_command", "--model", run.model,
        "--split", run.split, "--scheme", run.scheme, "--seed", str(run.seed),
        "--width", f"{settings.width:g}", "--epochs", str(settings.epochs),
        "--batch-size", str(settings.batch_size), "--optimizer", settings.optimizer,
        "--lr", f"{settings.lr:g}", "--momentum", f"{settings.momentum:g}",
        "--weight-decay", f"{settings.weight_decay:g}", "--schedule", settings.schedule,
        "--crop-padding", str(settings.crop_padding_px), "--threads", str(settings.threads),
        "--out", str(out), "--quiet",
    ]
    if not settings.flip:
        args.append("--no-flip")
    if data is not None:
        args += ["--data", str(data)]
    if stop_after is not None:
        args += ["--stop-after", str(stop_after)]
    return args


def probe(settings: Settings, work: Path, data: Path | None) -> None:
    """End-to-end (SL, seed 0) at every learning rate of :data:`PROBE_LRS`, first
    :data:`PROBE_EPOCHS` epochs of the full schedule, into ``<work>/probe/<model>_lr<lr>``."""
    jobs = []
    for model in ("resnet18", "vgg16"):
        for lr in PROBE_LRS:
            run = Run(model, "sl", SPLITS[model][1], 0)
            out = work / "probe" / f"{model}_lr{lr:g}"
            jobs.append(command(run, dataclasses.replace(settings, lr=lr), out, data,
                                stop_after=PROBE_EPOCHS))
    (work / "probe").mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        for args, code in zip(jobs, pool.map(lambda a: subprocess.call(a, cwd=REPO), jobs),
                              strict=True):
            print(f"{' '.join(args[3:9])}: exit {code}", flush=True)


def run_all(settings: Settings, work: Path, data: Path | None) -> None:
    """Train every planned run not yet complete, ``settings.jobs`` processes at a time."""
    work.mkdir(parents=True, exist_ok=True)
    runs = planned_runs(settings)
    started = time.time()
    log = work / "benchmark.log"

    def one(run: Run) -> tuple[Run, int, float]:
        out = work / run.folder
        begin = time.perf_counter()
        with (work / f"{run.folder}.log").open("a") as handle:
            code = subprocess.call(command(run, settings, out, data), cwd=REPO, stdout=handle,
                                   stderr=subprocess.STDOUT)
        return run, code, time.perf_counter() - begin

    print(f"{len(runs)} runs, {settings.jobs} at a time, {settings.threads} thread(s) each; "
          f"logs in {work}", flush=True)
    failures = 0
    with ThreadPoolExecutor(max_workers=settings.jobs) as pool:
        for run, code, seconds in pool.map(one, runs):
            line = (f"{dt.datetime.now():%H:%M:%S} {run.folder}: exit {code} after "
                    f"{seconds:.0f} s (benchmark {time.time() - started:.0f} s)")
            print(line, flush=True)
            with log.open("a") as handle:
                handle.write(line + "\n")
            failures += code != 0
    record = {
        "settings": asdict(settings),
        "splits": {m: list(s) for m, s in SPLITS.items()},
        "runs": len(runs),
        "failures": failures,
        "last_session_wall_s": round(time.time() - started, 1),
        "last_session_end_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    sessions = _read_json(work / BENCHMARK_JSON).get("sessions", [])
    record["sessions"] = [*sessions, {"wall_s": record["last_session_wall_s"],
                                      "end_utc": record["last_session_end_utc"]}]
    (work / BENCHMARK_JSON).write_text(json.dumps(record, indent=2) + "\n")


def collect(work: Path, target: Path, seeds: tuple[int, ...]) -> None:
    """Concatenate the complete runs' ``accuracy.csv`` of ``seeds`` into
    ``<target>/<model>_cifar10.csv``, the probe runs into ``<target>/lr_probe.csv``."""
    frames = []
    for path in sorted(work.glob("*/accuracy.csv")):
        frame = pd.read_csv(path)
        complete = int(frame["epoch"].max()) == int(frame["epochs"].iloc[0])
        if not complete or int(frame["seed"].iloc[0]) not in seeds:
            print(f"left out {path.parent.name} (epoch {int(frame['epoch'].max())} of "
                  f"{int(frame['epochs'].iloc[0])}, seed {int(frame['seed'].iloc[0])})")
            continue
        frames.append(frame)
    if not frames:
        sys.exit(f"no complete runs under {work}: run the benchmark first")
    table = pd.concat(frames, ignore_index=True)
    target.mkdir(parents=True, exist_ok=True)
    probes = [pd.read_csv(p) for p in sorted(work.glob("probe/*/accuracy.csv"))]
    if probes:
        probe_table = pd.concat(probes, ignore_index=True).sort_values(["model", "lr", "epoch"])
        probe_table.to_csv(target / PROBE_CSV, index=False)
        print(f"wrote {target / PROBE_CSV} ({len(probe_table)} rows)")
    for (model, input_name), part in table.groupby(["model", "input"], sort=True):
        part = part.sort_values(["scheme", "split", "seed", "epoch"])
        path = target / f"{model}_{input_name}.csv"
        part.to_csv(path, index=False)
        print(f"wrote {path} ({len(part)} rows)")
    record = _read_json(work / BENCHMARK_JSON)
    if record:
        record["total_wall_s"] = round(sum(s["wall_s"] for s in record.get("sessions", [])), 1)
        record["training_wall_s_sum"] = round(float(
            table.groupby(["model", "scheme", "split", "seed"])["elapsed_wall_s"].max().sum()), 1)
        (target / BENCHMARK_JSON).write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {target / BENCHMARK_JSON}")


# --------------------------------------------------------------------------------------------
# The README, from the committed CSVs only


def _pct(value: Any) -> str:
    value = float(value)
    return "–" if math.isnan(value) else f"{value * PERCENT:.1f}"


def _pm(mean: Any, spread: Any) -> str:
    mean, spread = float(mean), float(spread)
    if math.isnan(mean):
        return "–"
    return f"{mean * PERCENT:.1f} ± {spread * PERCENT:.1f}"


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per model × scheme × split at the last epoch: accuracies (mean, seed spread) and
    the drop of HT versus end-to-end.

    Seed spread: half the range (max − min) / 2 over seeds. The drop is computed per seed
    (SL of seed s minus HT of seed s: same initial weights and batch order) and then summarised
    the same way.
    """
    last = table[table["epoch"] == table["epochs"]]
    rows = []
    for model, part in last.groupby("model", sort=False):
        sl = part[part["scheme"] == "sl"].groupby("seed")["test_accuracy"].mean()
        order = part.drop_duplicates("split").sort_values("split")
        for split, split_name in zip(order["split"], order["split_name"], strict=True):
            ht = part[(part["scheme"] == "ht") & (part["split"] == split)]
            if ht.empty:
                continue
            final = ht.set_index("seed")["test_accuracy"]
            early = ht.set_index("seed")["test_exit_accuracy"]
            drop = (sl - final).dropna()
            rows.append({
                "model": model, "split": int(split), "split_name": split_name,
                "seeds": len(final), "sl_mean": sl.mean(), "sl_spread": _half_range(sl),
                "ht_mean": final.mean(), "ht_spread": _half_range(final),
                "drop_mean": drop.mean(), "drop_spread": _half_range(drop),
                "exit_mean": early.mean(), "exit_spread": _half_range(early),
            })
    return pd.DataFrame(rows)


def _half_range(values: pd.Series) -> float:
    return float((values.max() - values.min()) / 2) if len(values) else math.nan


def report(target: Path) -> None:
    """Write ``<target>/README.md`` from ``<target>/*.csv`` and ``benchmark.json``."""
    paths = sorted(p for p in target.glob("*.csv") if p.name != PROBE_CSV)
    if not paths:
        sys.exit(f"no CSVs in {target}: run collect first")
    table = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    record = _read_json(target / BENCHMARK_JSON)
    first = table.iloc[0]
    lines = [
        "# Accuracy per split point: end-to-end (= split learning) vs early-exit hierarchical",
        "",
        "Generated by `benchmarks/accuracy_runs.py report` from the CSVs in this folder; do not "
        "edit by hand. Every number below is computed from those files.",
        "",
        "## Final-exit accuracy after the last epoch (test set, %)",
        "",
        "Mean over seeds ± half the seed range ((max − min) / 2). *End-to-end* is split learning: "
        "SL computes exactly the end-to-end gradients (tested parameter by parameter), so its "
        "accuracy does not depend on the split point; it was trained once per seed (at the "
        "middle split) and is repeated on each row. *Drop* is end-to-end minus HT of the same "
        "seed (same initial weights, same batch order), in percentage points: positive means "
        "HT is worse. *Early exit* is the accuracy of HT's edge-side exit head.",
        "",
        "| model | split | end-to-end (SL) | HT final exit | drop HT vs SL (pp) | "
        "HT early exit |",
        "|---|---|---:|---:|---:|---:|",
    ]
    table_summary = summary(table)
    for row in table_summary.itertuples():
        lines.append(
            f"| {row.model} | {row.split} `{row.split_name}` | {_pm(row.sl_mean, row.sl_spread)} "
            f"| {_pm(row.ht_mean, row.ht_spread)} | {_pm(row.drop_mean, row.drop_spread)} "
            f"| {_pm(row.exit_mean, row.exit_spread)} |")
    lines += _findings(table_summary, int(first["test_samples"]), int(first["epochs"]),
                       table["seed"].nunique())
    lines += ["", "## Per seed", "",
              "| model | scheme | split | seed | epochs | final exit (%) | early exit (%) | "
              "train loss | wall time (s) |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    last = table.sort_values("epoch").groupby(["model", "scheme", "split", "seed"]).tail(1)
    for row in last.sort_values(["model", "scheme", "split", "seed"]).itertuples():
        lines.append(
            f"| {row.model} | {row.scheme} | {row.split} `{row.split_name}` | {row.seed} | "
            f"{row.epoch}/{row.epochs} | {_pct(row.test_accuracy)} | "
            f"{_pct(row.test_exit_accuracy)} | {row.train_loss:.3f} | {row.elapsed_wall_s:.0f} |")
    incomplete = last[last["epoch"] < last["epochs"]]
    if len(incomplete):
        lines += ["", f"**{len(incomplete)} run(s) stopped before their last epoch**; the summary "
                  "table uses completed runs only."]
    lines += _probe_section(target, float(first["lr"]))
    lines += _sensitivity_sections(target)
    lines += ["", "## Settings", "",
              f"- Data: `{first['data']}`, {first['train_samples']} training and "
              f"{first['test_samples']} test images (`../shared/data/cifar10-subset.npz`). A "
              "scenario's `workload.samples_per_epoch` must equal the training-set size for time "
              "to accuracy (`python -m simulator tta` sets it from the `train_samples` column).",
              f"- Models: width multiplier {first['width']:g} (all channel counts × "
              f"{first['width']:g}); early-exit head: conv{first['head_kernel_size']}×"
              f"{first['head_kernel_size']} to {first['head_channels']} channels → BN → ReLU → "
              "global average pool → linear.",
              f"- Training: {first['epochs']} epochs, batch {first['batch_size']}, "
              f"{first['optimizer']} (momentum {first['momentum']:g}, weight decay "
              f"{first['weight_decay']:g}), peak learning rate {first['lr']:g} with "
              f"{first['schedule']} decay per step; random crop (padding "
              f"{first['crop_padding_px']} px) and horizontal flip "
              f"{'on' if first['flip'] else 'off'}; separate optimizers for edge (+ exit) and "
              "cloud.",
              f"- Seeds: {', '.join(str(s) for s in sorted(table['seed'].unique()))}; the seed "
              "fixes the initial weights, the batch order and the augmentation.",
              f"- torch {first['torch_version']}, {int(first['threads'])} CPU thread(s) per run."]
    if record:
        settings = record.get("settings", {})
        lines += [
            f"- Machine: {record.get('cpu', 'unknown CPU')}, {record.get('cpu_count')} cores "
            f"shared with other work; {settings.get('jobs')} runs at a time.",
            f"- Wall time of the whole benchmark: {record.get('total_wall_s', math.nan) / 60:.1f} "
            f"min over {len(record.get('sessions', []))} session(s); the runs' own training + "
            f"test time adds up to {record.get('training_wall_s_sum', math.nan) / 60:.1f} min "
            "(per-run times are in the `elapsed_wall_s` column).",
        ]
    lines += _extra_time(target)
    lines += ["", "## Time to accuracy", "",
              "Join these curves with simulated time per epoch (closed form) for a scenario whose "
              "profile is the same model:", "",
              "```",
              "python -m simulator tta scenarios/default.toml --accuracy "
              "profiles/accuracy/resnet18_cifar10.csv \\",
              "    --target 0.5 --grid channel.uplink_bps=250e3,1e6,4e6 --out results/tta",
              "```", "",
              "It sets the scenario's `samples_per_epoch` and `batch_size` to this table's "
              "`train_samples` and `batch_size`, uses the SL curve for every split point, and "
              "takes times from the scenario's (full-width) profile: the accuracy per epoch "
              "measured at the reduced width is assumed to carry over.",
              "", "## Files", "",
              "One CSV per model, one row per run × epoch (columns: see "
              "`simulator/torchkit/training.py`, `ROW_COLUMNS`): "
              + ", ".join(f"`{p.name}`" for p in paths) + f"; the probe: `{PROBE_CSV}`; "
              "the settings and wall time of the benchmark: `benchmark.json`.",
              "Reproduce: `nice .venv/bin/python benchmarks/accuracy_runs.py probe && "
              "nice .venv/bin/python benchmarks/accuracy_runs.py run && "
              ".venv/bin/python benchmarks/accuracy_runs.py collect && "
              ".venv/bin/python benchmarks/accuracy_runs.py report`.", ""]
    (target / "README.md").write_text("\n".join(lines))
    print(f"wrote {target / 'README.md'}")


def _findings(table: pd.DataFrame, test_samples: int, epochs: int, seeds: int) -> list[str]:
    """What the summary table says, in words, with its numbers (and how much to trust them)."""
    lines = [""]
    for model, part in table.groupby("model", sort=False):
        worst = part.sort_values("drop_mean").iloc[-1]
        not_worse = part[part["drop_mean"] <= 0]
        if worst["drop_mean"] > 0:
            text = (f"- **{model}**: the largest drop is at split `{worst['split_name']}` "
                    f"({worst['drop_mean'] * PERCENT:.1f} pp; its early exit reaches "
                    f"{worst['exit_mean'] * PERCENT:.1f}%)")
        else:
            text = f"- **{model}**: HT is not below end-to-end at any split point shown"
        if len(not_worse) and worst["drop_mean"] > 0:
            names = ", ".join(f"`{n}`" for n in not_worse["split_name"])
            text += f"; at {names} HT's final exit is not below end-to-end"
        lines.append(text + ".")
    accuracy = float(table["ht_mean"].mean())
    standard_error = math.sqrt(accuracy * (1 - accuracy) / test_samples)
    lines += [f"- How much to trust this: {test_samples} test images, so one image is "
              f"{PERCENT / test_samples:.2f} pp and the binomial standard error of one "
              f"accuracy near {accuracy * PERCENT:.0f}% (the mean of the HT column) is "
              f"{standard_error * PERCENT:.1f} pp; {seeds} seeds; "
              f"{epochs} epochs at reduced width, far from convergence. Differences of a few "
              "pp are within noise, and HT matching end-to-end after a short budget need not "
              "hold after a long one."]
    return lines


def _extra_time(target: Path) -> list[str]:
    """Time spent before the benchmark: the probe and the stopped sensitivity benchmark."""
    parts = []
    probe_path = target / PROBE_CSV
    if probe_path.is_file():
        probe = pd.read_csv(probe_path)
        probe_s = probe.groupby(["model", "lr"])["elapsed_wall_s"].max().sum()
        parts.append(f"the learning-rate probe, {probe_s / 60:.1f} min of run time")
    for folder in sorted(target.glob(f"{SENSITIVITY_PREFIX}*/")):
        frames = [pd.read_csv(p) for p in folder.glob("*.csv")]
        if frames:
            runs = pd.concat(frames, ignore_index=True)
            run_s = runs.groupby(["model", "scheme", "split", "seed"])["elapsed_wall_s"].max()
            parts.append(f"the kept runs of `{folder.name}/`, {run_s.sum() / 60:.1f} min of run "
                         "time")
    if not parts:
        return []
    return ["- Not included above: " + "; ".join(parts) + " (two runs at a time)."]


def _probe_section(target: Path, chosen_lr: float) -> list[str]:
    """How the learning rate was chosen, from ``lr_probe.csv``."""
    path = target / PROBE_CSV
    if not path.is_file():
        return []
    table = pd.read_csv(path)
    last = table[table["epoch"] == PROBE_EPOCHS]
    lines = ["", "## Choice of the learning rate", "",
             f"End-to-end training (SL, seed 0) at each peak learning rate, for the first "
             f"{PROBE_EPOCHS} epochs of the same {int(table['epochs'].iloc[0])}-epoch cosine "
             f"schedule (`{PROBE_CSV}`). The rate with the lowest training loss after epoch "
             f"{PROBE_EPOCHS} was used for every run of both schemes: **{chosen_lr:g}**. "
             "Training loss, not test accuracy, decides, so the test set is not used to tune.",
             "", "| model | peak lr | train loss | train accuracy (%) | test accuracy (%) |",
             "|---|---:|---:|---:|---:|"]
    for row in last.sort_values(["model", "lr"]).itertuples():
        lines.append(f"| {row.model} | {row.lr:g} | {row.train_loss:.3f} | "
                     f"{_pct(row.train_accuracy)} | {_pct(row.test_accuracy)} |")
    return lines


def _sensitivity_sections(target: Path) -> list[str]:
    """One section per ``lr<value>/`` subfolder: the same comparison at another rate."""
    lines: list[str] = []
    for folder in sorted(target.glob(f"{SENSITIVITY_PREFIX}*/")):
        paths = sorted(folder.glob("*.csv"))
        if not paths:
            continue
        table = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
        seeds = ", ".join(str(s) for s in sorted(table["seed"].unique()))
        rates = ", ".join(f"{v:g}" for v in sorted(table["lr"].unique()))
        lines += ["", f"## Sensitivity: the same runs at peak learning rate {rates} "
                  f"(seed {seeds})", "",
                  f"Files in `{folder.name}/`; otherwise the settings below. A first benchmark "
                  "used this rate before the probe above existed; it was stopped during the "
                  f"second seed, and only the complete runs (seed {seeds}) are kept. At this "
                  "rate end-to-end training loses far more than HT (compare with the first "
                  "table), plausibly because HT's edge learns from a shallow local loss: an "
                  "HT-vs-SL comparison is only as fair as the tuning of both.", "",
                  "| model | split | end-to-end (SL) | HT final exit | drop HT vs SL (pp) | "
                  "HT early exit |", "|---|---|---:|---:|---:|---:|"]
        for row in summary(table).itertuples():
            lines.append(
                f"| {row.model} | {row.split} `{row.split_name}` | {_pct(row.sl_mean)} "
                f"| {_pct(row.ht_mean)} | {_pct(row.drop_mean)} | {_pct(row.exit_mean)} |")
    return lines


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=("probe", "run", "collect", "report", "all"))
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="folder of the individual runs (default results/accuracy_runs)")
    parser.add_argument("--target", type=Path, default=ACCURACY_DIR,
                        help="where CSVs and README go (default profiles/accuracy)")
    parser.add_argument("--data", type=Path, default=None, help="CIFAR-10 subset .npz")
    parser.add_argument("--lr", type=float, default=Settings.lr,
                        help="peak learning rate of every run (default: the probe's choice)")
    parser.add_argument("--epochs", type=int, default=Settings.epochs)
    parser.add_argument("--width", type=float, default=Settings.width)
    parser.add_argument("--jobs", type=int, default=Settings.jobs)
    parser.add_argument("--threads", type=int, default=Settings.threads)
    parser.add_argument("--seeds", type=int, nargs="+", default=list(Settings.seeds))
    args = parser.parse_args()
    settings = Settings(width=args.width, epochs=args.epochs, jobs=args.jobs, lr=args.lr,
                        threads=args.threads, seeds=tuple(args.seeds))
    if args.step == "probe":
        probe(settings, args.work, args.data)
    if args.step in ("run", "all"):
        run_all(settings, args.work, args.data)
    if args.step in ("collect", "all"):
        collect(args.work, args.target, settings.seeds)
    if args.step in ("report", "all"):
        report(args.target)


if __name__ == "__main__":
    main()
