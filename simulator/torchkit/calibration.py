"""Calibration: each side's effective FLOP/s and per-step overhead, from timed segments.

The simulator turns FLOPs into seconds with one effective throughput per device and direction
plus a fixed overhead per training step (design.md §4): a stage of ``F`` FLOPs per sample takes
``B·F / P`` seconds for a batch of ``B``, and each side's forward span also holds
``step_overhead_s``. :func:`calibrate` measures those numbers on this machine from *timed
segments* — the training steps of each side, run back to back without any channel — and never
from the measured runs they are used to predict.

Concurrency can matter on a small machine: two training processes computing at the same time may
slow each other down (shared caches, memory bandwidth, sibling hyperthreads of the host), so the
throughput of one process alone need not be the throughput it has while the other side computes.
(On the 2-vCPU development machines the 2× slow-down first seen came from time slicing with other
users' jobs; at raised priority the two sides' own concurrency cost < 5 %.) The segments are
therefore timed with the same process layout as a measured run — an edge process and a cloud
process, each with one thread on its own CPU, at the same priority — and with
``concurrency="both"`` (default) in lockstep: both sides start each split point and scheme
together, and the side that finishes first keeps training it (untimed) until the other is done, so
every timed step ran next to the other side of the same split point, as in a measured run.
``concurrency="solo"`` times each side alone (the other idles), for comparison.

Segments: for each calibration split point and each scheme, ``repeats`` batches after
``warmup`` untimed ones: edge forward / early exit / backward (HT, one
:func:`~simulator.torchkit.training.edge_step`), edge forward / backward (SL), cloud forward /
backward with and without the input gradient — the same step functions and hooks as the measured
runtime. The fit (:func:`fit_side`) is a least-squares fit, in seconds, over the median time of
each (split, scheme, stage):

* forward stages: ``t = o + B·F_fwd·a``   (``o`` = step overhead, ``a = 1 / fwd_flops_per_s``)
* backward stages: ``t = B·F_bwd·b``       (``b = 1 / bwd_flops_per_s``)
* early exit: ``t = B·(F_exit_fwd·a + F_exit_bwd·b)``

The result is a TOML file with the ``[edge]`` and ``[cloud]`` keys a scenario takes
(:data:`DEVICE_KEYS`), the fit's residuals as comments and a ``[fit]`` table, plus
``<stem>_segments.csv`` with every timed segment.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing as mp
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.scenario import Scenario
from simulator.torchkit.plan import RunPlan, make_plan

DEVICE_KEYS = ("fwd_flops_per_s", "bwd_flops_per_s", "step_overhead_s")
CONCURRENCY = ("both", "solo")
SEGMENT_COLUMNS = ("side", "split", "scheme", "stage", "repeat", "seconds", "load_1min")

START_TIMEOUT_S = 600.0
CALIBRATION_TIMEOUT_S = 1800.0


def calibration_overrides(path: Path) -> list[str]:
    """``--set`` overrides of the [edge] and [cloud] device keys in a calibration TOML."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot read calibration ({exc})") from None
    overrides = []
    for side in ("edge", "cloud"):
        table = data.get(side)
        if not isinstance(table, dict):
            raise InputError(f"{path}: no [{side}] table")
        for key in DEVICE_KEYS:
            if key in table:
                overrides.append(f"{side}.{key}={float(table[key])!r}")
    return overrides


# --------------------------------------------------------------------------------------------
# Timed segments (run in a worker process per side)


@dataclass(frozen=True)
class SegmentJob:
    """What one side times: ``plans`` (one per split point and scheme), repeats, warm-up."""

    side: str
    plans: tuple[RunPlan, ...]
    repeats: int
    warmup: int
    cpu: int | None
    nice: int | None


def segment_worker(job: SegmentJob, barrier: Any, progress: Any, results: Any) -> None:
    """One side's worker. For each plan in turn: build it, meet the other side at ``barrier``,
    time ``warmup + repeats`` steps (the warm-up untimed), record progress, then keep stepping
    (untimed) until the other side has timed the same plan too — so every timed step ran next
    to the other side of the same split point, as in a measured run. ``barrier=None``: solo
    (the other side idles)."""
    from simulator.torchkit.runtime import LocalSteps, pin

    other = "cloud" if job.side == "edge" else "edge"
    try:
        pin(job.cpu, job.nice)
        rows: list[dict[str, Any]] = []
        for index, plan in enumerate(job.plans):
            steps = LocalSteps(job.side, plan)
            steps.step()  # first-call costs before the barrier
            if barrier is not None:
                barrier.wait(START_TIMEOUT_S)
            for k in range(job.warmup + job.repeats):
                stages = steps.step()
                if k >= job.warmup:
                    load = os.getloadavg()[0]
                    rows.extend({"side": job.side, "split": plan.split, "scheme": plan.scheme,
                                 "stage": stage, "repeat": k - job.warmup, "seconds": seconds,
                                 "load_1min": load} for stage, seconds in stages)
            progress[job.side].value = index + 1
            while barrier is not None and progress[other].value <= index:
                steps.step()
        results.put(("ok", rows))
    except Exception as exc:  # report instead of dying silently in a child process
        if barrier is not None:
            barrier.abort()
        results.put(("error", f"{job.side}: {type(exc).__name__}: {exc}"))


def _outcomes(results: Any, workers: list[Any]) -> list[tuple[str, Any]]:
    """One result per worker; a worker that dies without one, or a calibration that takes
    longer than :data:`CALIBRATION_TIMEOUT_S`, is an error (the workers are killed)."""
    import queue
    import time

    outcomes: list[tuple[str, Any]] = []
    deadline_s = time.monotonic() + CALIBRATION_TIMEOUT_S
    try:
        while len(outcomes) < len(workers):
            try:
                outcomes.append(results.get(timeout=1.0))
            except queue.Empty:
                if time.monotonic() > deadline_s:
                    raise RuntimeError(f"calibration took longer than "
                                       f"{CALIBRATION_TIMEOUT_S:g} s") from None
                dead = [w for w in workers if not w.is_alive() and w.exitcode not in (0, None)]
                if dead and results.empty():
                    raise RuntimeError(
                        f"calibration worker died (exit {dead[0].exitcode})") from None
    finally:
        for worker in workers:
            worker.join(5.0)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return outcomes


def time_segments(plans: list[RunPlan], repeats: int, warmup: int, concurrency: str,
                  cpus: tuple[int | None, int | None], nice: int | None = None) -> pd.DataFrame:
    """Timed segments of both sides (one row per stage and batch), see the module docstring."""
    if concurrency not in CONCURRENCY:
        raise InputError(f"unknown concurrency {concurrency!r} (allowed: both, solo)")
    context = mp.get_context("spawn")
    results: Any = context.Queue()
    rows: list[dict[str, Any]] = []
    sides = [("edge", cpus[0]), ("cloud", cpus[1])]
    progress = {side: context.Value("i", 0) for side, _ in sides}
    if concurrency == "both":
        barrier = context.Barrier(2)
        workers = [context.Process(target=segment_worker, args=(
            SegmentJob(side, tuple(plans), repeats, warmup, cpu, nice), barrier, progress,
            results)) for side, cpu in sides]
        for worker in workers:
            worker.start()
        outcomes = _outcomes(results, workers)
    else:
        outcomes = []
        for side, cpu in sides:
            worker = context.Process(target=segment_worker, args=(
                SegmentJob(side, tuple(plans), repeats, warmup, cpu, nice), None, progress,
                results))
            worker.start()
            outcomes += _outcomes(results, [worker])
    for status, payload in outcomes:
        if status != "ok":
            raise RuntimeError(f"calibration worker failed: {payload}")
        rows.extend(payload)
    return pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))


# --------------------------------------------------------------------------------------------
# The fit


BIG_STAGE_FRACTION = 0.1
"""Stages shorter than this fraction of the side's longest stage are left out of the maximum
relative error (a 0.1 ms stage is mostly fixed overhead; it hardly matters to run times)."""


@dataclass(frozen=True)
class SideFit:
    """Calibrated numbers of one side and how well they fit its segments: ``rms_relative_error``
    = √(Σ residual² / Σ time²) over all stage medians, ``max_relative_error`` over the stages of
    at least :data:`BIG_STAGE_FRACTION` of the longest."""

    fwd_flops_per_s: float
    bwd_flops_per_s: float
    step_overhead_s: float
    rms_relative_error: float
    max_relative_error: float
    points: int


def stage_flops(scenario: Scenario, side: str, split: int, scheme: str, stage: str
                ) -> tuple[float, float]:
    """Per-sample (forward, backward) FLOPs of one stage, from the profile."""
    costs = scenario.profile.splits[split]
    if side == "edge":
        return {"fwd": (costs.edge_fwd_flops, 0.0), "bwd": (0.0, costs.edge_bwd_flops),
                "exit": (costs.exit_fwd_flops, costs.exit_bwd_flops)}[stage]
    if stage == "fwd":
        return costs.cloud_fwd_flops, 0.0
    return 0.0, costs.cloud_bwd_flops_sl if scheme == "sl" else costs.cloud_bwd_flops_ht


def stage_medians(segments: pd.DataFrame) -> pd.DataFrame:
    """Median seconds per (side, split, scheme, stage) and the spread of the repeats."""
    grouped = segments.groupby(["side", "split", "scheme", "stage"])["seconds"]
    frame = grouped.agg(median_s="median", mean_s="mean", std_s="std", n="count").reset_index()
    frame["cv"] = frame["std_s"] / frame["mean_s"]
    return frame


def fit_side(scenario: Scenario, medians: pd.DataFrame, side: str, batch_size: int) -> SideFit:
    """Least-squares fit of one side's ``1/P_fwd``, ``1/P_bwd`` and overhead to the stage
    medians, in seconds (large stages, which make up run times, weigh most; the relative errors
    are reported)."""
    rows = medians[medians["side"] == side]
    design, target = [], []
    for row in rows.to_dict("records"):
        fwd, bwd = stage_flops(scenario, side, int(row["split"]), str(row["scheme"]),
                               str(row["stage"]))
        overhead = 1.0 if row["stage"] == "fwd" else 0.0
        design.append([batch_size * fwd, batch_size * bwd, overhead])
        target.append(float(row["median_s"]))
    a = np.array(design)
    t = np.array(target)
    solution, *_ = np.linalg.lstsq(a, t, rcond=None)
    if solution[2] < 0:  # an overhead below zero is not physical: fit without it
        sub, *_ = np.linalg.lstsq(a[:, :2], t, rcond=None)
        solution = np.array([sub[0], sub[1], 0.0])
    if solution[0] <= 0 or solution[1] <= 0:
        raise RuntimeError(f"calibration of the {side}: the fit gave a non-positive time per "
                           f"FLOP ({solution[:2]}); time more split points")
    residual = a @ solution - t
    big = t >= BIG_STAGE_FRACTION * t.max()
    return SideFit(float(1.0 / solution[0]), float(1.0 / solution[1]), float(solution[2]),
                   float(np.sqrt(np.sum(residual**2) / np.sum(t**2))),
                   float(np.max(np.abs(residual[big] / t[big]))), len(t))


# --------------------------------------------------------------------------------------------
# The whole calibration


@dataclass(frozen=True)
class Calibration:
    """The calibrated sides, the timed segments and where they came from."""

    edge: SideFit
    cloud: SideFit
    segments: pd.DataFrame
    medians: pd.DataFrame
    info: dict[str, Any]

    def overrides(self) -> list[str]:
        """``--set`` overrides that put the calibrated devices into a scenario."""
        return [f"{side}.{key}={float(getattr(fit, key))!r}"
                for side, fit in (("edge", self.edge), ("cloud", self.cloud))
                for key in DEVICE_KEYS]


def calibration_plans(scenario: Scenario, splits: list[int] | None) -> list[RunPlan]:
    """One plan per calibration split point (every one with layers on both sides by default)
    and scheme."""
    last = scenario.profile.last_split
    chosen = splits if splits else list(range(1, last))
    plans = []
    for split in chosen:
        workload = replace(scenario.workload, split=split)
        at_split = replace(scenario, workload=workload, split_index=split)
        for scheme in ("sl", "ht"):
            plans.append(make_plan(at_split, scheme, 1, "none", 0, 60.0))
    return plans


def calibrate(scenario: Scenario, splits: list[int] | None = None, repeats: int = 6,
              warmup: int = 2, concurrency: str = "both",
              cpus: tuple[int | None, int | None] | None = None,
              nice: int | None = None) -> Calibration:
    """Time segments of the scenario's model at ``splits`` and fit both sides (``nice``: the
    workers' priority where allowed, default as measured runs)."""
    from simulator.torchkit.measured import DEFAULT_NICE, default_cpus

    nice = DEFAULT_NICE if nice is None else nice
    plans = calibration_plans(scenario, splits)
    load_before = os.getloadavg()[0]
    segments = time_segments(plans, repeats, warmup, concurrency,
                             cpus if cpus is not None else default_cpus(), nice)
    medians = stage_medians(segments)
    batch_size = scenario.workload.batch_size
    info = {
        "profile": str(scenario.workload.profile),
        "model": plans[0].spec.model,
        "width": plans[0].spec.width,
        "batch_size": batch_size,
        "splits": sorted({p.split for p in plans}),
        "repeats": repeats,
        "warmup": warmup,
        "concurrency": concurrency,
        "nice": nice,
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
        "median_cv": round(float(medians["cv"].median()), 3),
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return Calibration(fit_side(scenario, medians, "edge", batch_size),
                       fit_side(scenario, medians, "cloud", batch_size), segments, medians, info)


def calibration_toml(calibration: Calibration) -> str:
    """The calibration file: [edge] and [cloud] device keys, then [fit] statistics."""
    info = calibration.info
    lines = [
        "# Effective throughput of this machine's edge and cloud processes (one thread each),",
        f"# fitted to timed segments of {info['model']} at width {info['width']:g}, batch "
        f"{info['batch_size']},",
        f"# split points {info['splits']}, {info['repeats']} repeats, concurrency "
        f"{info['concurrency']!r}; made by `python -m simulator calibrate` on {info['date_utc']}.",
        f"# 1-min load average {info['load_1min_before']} before, {info['load_1min_after']} "
        "after; median coefficient of",
        f"# variation of the repeats {info['median_cv']}.",
    ]
    for side, fit in (("edge", calibration.edge), ("cloud", calibration.cloud)):
        lines += [
            "",
            f"[{side}]",
            f"# fit over {fit.points} stage medians: relative rms error "
            f"{fit.rms_relative_error:.3f}, largest relative error of a stage "
            f"{fit.max_relative_error:.3f}",
            f"fwd_flops_per_s = {fit.fwd_flops_per_s:.6g}",
            f"bwd_flops_per_s = {fit.bwd_flops_per_s:.6g}",
            f"step_overhead_s = {fit.step_overhead_s:.6g}",
        ]
    lines += ["", "[fit]"]
    for key, value in info.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def write_calibration(calibration: Calibration, path: Path) -> Path:
    """Write the TOML file and ``<stem>_segments.csv`` beside it; returns the CSV path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(calibration_toml(calibration))
    segments_path = path.with_name(path.stem + "_segments.csv")
    calibration.segments.to_csv(segments_path, index=False, float_format="%.6g")
    return segments_path
