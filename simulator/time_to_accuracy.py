"""Time to accuracy: accuracy per epoch (real training) joined with simulated time per epoch.

Training (``python -m simulator train``, committed under ``profiles/accuracy/``) says which test
accuracy each scheme reaches after each epoch; the simulator says how long each epoch takes on a
scenario's devices and channel. Joined, they give accuracy against simulated wall time, and the
time to a target accuracy, for every scheme, split point and uplink bit rate::

    elapsed_s(e)  = Σ_{k ≤ e} epoch_s(k)            (closed form, scenario with that split / rate)
    accuracy(e)   = mean over seeds of the final exit's test accuracy after epoch e
    time to target = elapsed_s(e*),  e* = first epoch with accuracy(e) ≥ target  (NaN: never)

Assumptions, stated once:

- The accuracy table's training set is the scenario's epoch: by default ``samples_per_epoch`` and
  ``batch_size`` of the scenario are replaced by the table's ``train_samples`` and
  ``batch_size`` columns (``match_workload=False`` keeps the scenario's own), and the scenario is
  simulated for as many epochs as the table has.
- Split learning computes end-to-end gradients, so its accuracy curve does not depend on the split
  point: SL rows of any split are used for every split (its *time* still depends on the split).
  HT uses the rows of its own split point.
- Simulated time counts training only, not the test passes after each epoch.
- The profile (costs) and the accuracy runs should describe the same model. Accuracy runs on a
  CPU often use a width multiplier < 1 while profiles are at full width: the join then assumes the
  accuracy per epoch carries over to the profiled width (``accuracy_width`` is kept in the rows so
  this stays visible).
- Only epochs that every seed of a curve has reached are used, so the mean is always over the
  same seeds.

This module is part of the torch-free core: it reads CSV files and calls
:func:`simulator.simulate.simulate` with ``method="closed_form"``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.errors import InputError
from simulator.scenario import Scenario
from simulator.simulate import simulate
from simulator.tables import read_csv_table
from simulator.units import PERCENT, format_bps

TTA_SCHEMES: tuple[str, ...] = ("sl", "ht")
"""Schemes with an accuracy curve: split learning (= end-to-end) and hierarchical training."""

REQUIRED_COLUMNS: tuple[str, ...] = (
    "model", "split_name", "scheme", "seed", "epoch", "test_accuracy",
)
"""Columns an accuracy table must have (the training CSV has more; see ``training.py``)."""

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0


def load_accuracy_table(path: str | Path) -> pd.DataFrame:
    """Read an accuracy CSV (rows as written by ``python -m simulator train``).

    Every problem is one :class:`InputError` line naming the file.
    """
    path = Path(path)
    table = read_csv_table(path, "accuracy table")
    return check_accuracy_table(table, str(path))


def check_accuracy_table(table: pd.DataFrame, source: str = "accuracy table") -> pd.DataFrame:
    """``table`` with checked columns and types; :class:`InputError` (one line) otherwise."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")
    if table.empty:
        raise InputError(f"{source}: no rows")
    table = table.copy()
    for column in ("seed", "epoch", "test_accuracy"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            row = int(values.index[values.isna()][0])
            raise InputError(f"{source}: column {column}, line {row + 2}: not a number")
        table[column] = values
    if ((table["test_accuracy"] < 0) | (table["test_accuracy"] > 1)).any():
        raise InputError(f"{source}: test_accuracy must be a fraction in [0, 1]")
    if (table["epoch"] < 1).any():
        raise InputError(f"{source}: epoch must count from 1")
    table["split_name"] = table["split_name"].astype(str)
    table["scheme"] = table["scheme"].astype(str)
    return table


def _one_model(table: pd.DataFrame, model: str | None) -> tuple[pd.DataFrame, str]:
    models = sorted(table["model"].astype(str).unique())
    if model is None:
        if len(models) > 1:
            raise InputError(f"accuracy table has models {', '.join(models)}; choose one "
                             "(--model)")
        model = models[0]
    if model not in models:
        raise InputError(f"accuracy table has no rows of model {model!r} "
                         f"(it has {', '.join(models)})")
    return table[table["model"].astype(str) == model], model


def accuracy_curve(table: pd.DataFrame, scheme: str, split_name: str) -> pd.DataFrame:
    """Mean final-exit (and early-exit) test accuracy over seeds per epoch, for one curve.

    SL uses its rows of any split point (split-independent); HT the rows of ``split_name``.
    Epochs that not every seed reached are dropped. Columns: ``epoch``, ``seeds``,
    ``accuracy``, ``accuracy_min``, ``accuracy_max``, ``exit_accuracy`` (NaN without an exit).
    """
    rows = table[table["scheme"] == scheme]
    if scheme != "sl":
        rows = rows[rows["split_name"] == split_name]
    columns = ["epoch", "seeds", "accuracy", "accuracy_min", "accuracy_max", "exit_accuracy"]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    exit_values = (pd.to_numeric(rows["test_exit_accuracy"], errors="coerce")
                   if "test_exit_accuracy" in rows else pd.Series(np.nan, index=rows.index))
    rows = rows.assign(exit_accuracy=exit_values)
    # SL rows of several splits of the same seed are the same run: one value per seed and epoch.
    per_seed = rows.groupby(["seed", "epoch"], as_index=False)[
        ["test_accuracy", "exit_accuracy"]].mean()
    seeds = per_seed["seed"].nunique()
    last_common_epoch = per_seed.groupby("seed")["epoch"].max().min()
    per_seed = per_seed[per_seed["epoch"] <= last_common_epoch]
    grouped = per_seed.groupby("epoch")
    curve = pd.DataFrame({
        "seeds": grouped["seed"].nunique(),
        "accuracy": grouped["test_accuracy"].mean(),
        "accuracy_min": grouped["test_accuracy"].min(),
        "accuracy_max": grouped["test_accuracy"].max(),
        "exit_accuracy": grouped["exit_accuracy"].mean(),
    }).reset_index()
    curve = curve[curve["seeds"] == seeds]
    return curve[columns].reset_index(drop=True)


def _table_value(table: pd.DataFrame, column: str) -> int | None:
    """The single value of ``column`` in ``table`` (None when absent); error when it varies."""
    if column not in table.columns:
        return None
    values = pd.to_numeric(table[column], errors="coerce").dropna().unique()
    if len(values) == 0:
        return None
    if len(values) > 1:
        raise InputError(f"accuracy table: {column} varies between runs "
                         f"({', '.join(str(int(v)) for v in sorted(values))}); "
                         "use one table per setting")
    return int(values[0])


def scenario_variant(
    scenario: Scenario,
    split_name: str,
    uplink_bps: float | None,
    epochs: int,
    samples_per_epoch: int | None,
    batch_size: int | None,
    schemes: Sequence[str],
) -> Scenario:
    """``scenario`` at another split point, uplink rate and workload (profile reloaded).

    A scenario whose downlink rate is unset follows the new uplink rate; a set one is kept.
    ``None`` keeps the scenario's value.
    """
    workload = dataclasses.replace(
        scenario.workload, split=split_name, epochs=epochs,
        samples_per_epoch=samples_per_epoch or scenario.workload.samples_per_epoch,
        batch_size=batch_size or scenario.workload.batch_size)
    channel = scenario.channel
    if uplink_bps is not None:
        channel = dataclasses.replace(channel, uplink_bps=float(uplink_bps), uplink_trace=None)
    chosen = tuple(s for s in schemes if s in TTA_SCHEMES)
    variant = dataclasses.replace(scenario, workload=workload, channel=channel,
                                  schemes=chosen)  # type: ignore[arg-type]
    return variant.with_profile()


def accuracy_timeline(
    table: pd.DataFrame,
    scenario: Scenario,
    *,
    uplink_bps: Sequence[float] | None = None,
    splits: Sequence[str] | None = None,
    schemes: Sequence[str] | None = None,
    model: str | None = None,
    match_workload: bool = True,
) -> pd.DataFrame:
    """Accuracy against simulated wall time: one row per scheme × split × bit rate × epoch.

    ``uplink_bps``: rates to simulate (default: the scenario's own). ``splits``: split names
    (default: the HT split points in the table). ``schemes``: default those of ``sl``, ``ht``
    with rows in the table. ``model``: required when the table holds several models.
    ``match_workload``: take ``samples_per_epoch`` and ``batch_size`` from the table (its
    ``train_samples`` and ``batch_size`` columns) rather than from the scenario.

    Columns: ``model``, ``accuracy_width``, ``scheme``, ``split``, ``split_name``,
    ``uplink_bps``, ``downlink_bps``, ``epoch``, ``seeds``, ``accuracy`` (mean final-exit test
    accuracy, fraction), ``accuracy_min``, ``accuracy_max``, ``exit_accuracy``, ``epoch_s``
    (simulated), ``elapsed_s`` (simulated, cumulative), ``status``, ``samples_per_epoch``,
    ``batch_size``, ``scenario``.
    """
    table = check_accuracy_table(table)
    table, model = _one_model(table, model)
    present = [s for s in TTA_SCHEMES if (table["scheme"] == s).any()]
    if schemes is None:
        schemes = present
    unknown = [s for s in schemes if s not in TTA_SCHEMES]
    if unknown:
        raise InputError(f"scheme {unknown[0]!r} has no accuracy curve "
                         f"(allowed: {', '.join(TTA_SCHEMES)})")
    missing = [s for s in schemes if s not in present]
    if missing:
        raise InputError(f"accuracy table has no rows of scheme {missing[0]!r} for {model}")
    if splits is None:
        ht_rows = table[table["scheme"] == "ht"] if "ht" in present else table
        order = ht_rows.drop_duplicates("split_name")
        if "split" in order.columns:
            order = order.sort_values("split")
        splits = list(order["split_name"])
    if scenario.profile is None:
        scenario = scenario.with_profile()
    known = scenario.profile.split_names()
    for name in splits:
        if name not in known:
            raise InputError(f"split {name!r} of the accuracy table is not in profile "
                             f"{scenario.profile.path.name} (has {', '.join(known)}); "
                             "is it the same model?")
    samples = _table_value(table, "train_samples") if match_workload else None
    batch = _table_value(table, "batch_size") if match_workload else None
    width = _table_value_float(table, "width")
    rates: Sequence[float | None] = list(uplink_bps) if uplink_bps else [None]

    curves = {(scheme, name): accuracy_curve(table, scheme, name)
              for scheme in schemes for name in splits}
    epochs = max((len(c) for c in curves.values()), default=0)
    if epochs == 0:
        raise InputError(f"accuracy table: no epoch that every seed reached for {model}")
    frames = []
    for rate in rates:
        for name in splits:
            variant = scenario_variant(scenario, name, rate, epochs, samples, batch, schemes)
            run = simulate(variant, method="closed_form", keep_spans=False)
            for scheme in schemes:
                curve = curves[(scheme, name)]
                result = run.schemes[scheme]
                epoch_s = np.array(result.epoch_s[:len(curve)] if result.ok
                                   else [math.nan] * len(curve), dtype=float)
                frame = curve.assign(
                    model=model, accuracy_width=width, scheme=scheme,
                    split=variant.split_index, split_name=name,
                    uplink_bps=variant.channel.up_bps, downlink_bps=variant.channel.down_bps,
                    epoch_s=epoch_s, elapsed_s=np.cumsum(epoch_s), status=result.status,
                    samples_per_epoch=variant.workload.samples_per_epoch,
                    batch_size=variant.workload.batch_size, scenario=scenario.name)
                frames.append(frame)
    columns = ["model", "accuracy_width", "scheme", "split", "split_name", "uplink_bps",
               "downlink_bps", "epoch", "seeds", "accuracy", "accuracy_min", "accuracy_max",
               "exit_accuracy", "epoch_s", "elapsed_s", "status", "samples_per_epoch",
               "batch_size", "scenario"]
    return pd.concat(frames, ignore_index=True)[columns]


def _table_value_float(table: pd.DataFrame, column: str) -> float:
    if column not in table.columns:
        return math.nan
    values = pd.to_numeric(table[column], errors="coerce").dropna().unique()
    return float(values[0]) if len(values) == 1 else math.nan


def time_to_accuracy(timeline: pd.DataFrame, target: float) -> pd.DataFrame:
    """Simulated wall time to ``target`` accuracy, one row per scheme × split × bit rate.

    ``target``: fraction in (0, 1]. Columns: ``model``, ``scheme``, ``split``, ``split_name``,
    ``uplink_bps``, ``target_accuracy``, ``reached``, ``epochs_to_target`` (NaN if not reached),
    ``time_to_accuracy_s`` (NaN if not reached), ``final_accuracy`` (after the last epoch),
    ``final_elapsed_s``, ``epochs``, ``status``, ``saving_vs_sl`` ((SL − HT) / SL time to target
    at the same split and rate; NaN for SL and when either misses the target).
    """
    if not 0 < target <= 1:
        raise InputError(f"target accuracy must be a fraction in (0, 1], e.g. 0.6; got {target}")
    keys = ["model", "scheme", "split", "split_name", "uplink_bps"]
    rows = []
    for key, curve in timeline.groupby(keys, sort=False):
        curve = curve.sort_values("epoch")
        hit = curve[curve["accuracy"] >= target]
        reached = not hit.empty and bool(np.isfinite(hit["elapsed_s"].iloc[0]))
        rows.append({
            **dict(zip(keys, key, strict=True)),
            "target_accuracy": target,
            "reached": reached,
            "epochs_to_target": int(hit["epoch"].iloc[0]) if reached else math.nan,
            "time_to_accuracy_s": float(hit["elapsed_s"].iloc[0]) if reached else math.nan,
            "final_accuracy": float(curve["accuracy"].iloc[-1]),
            "final_elapsed_s": float(curve["elapsed_s"].iloc[-1]),
            "epochs": int(curve["epoch"].iloc[-1]),
            "status": str(curve["status"].iloc[0]),
        })
    summary = pd.DataFrame(rows)
    sl = summary[summary["scheme"] == "sl"][["split", "uplink_bps", "time_to_accuracy_s"]]
    merged = summary.merge(sl.rename(columns={"time_to_accuracy_s": "sl_s"}),
                           on=["split", "uplink_bps"], how="left")  # keeps summary's order
    saving = (merged["sl_s"] - merged["time_to_accuracy_s"]) / merged["sl_s"]
    summary["saving_vs_sl"] = saving.where(merged["scheme"] != "sl").to_numpy()
    return summary


def _time_unit(max_s: float) -> tuple[float, str]:
    if max_s >= 2 * SECONDS_PER_HOUR:
        return SECONDS_PER_HOUR, "h"
    if max_s >= 2 * SECONDS_PER_MINUTE:
        return SECONDS_PER_MINUTE, "min"
    return 1.0, "s"


def accuracy_vs_time(
    frame: pd.DataFrame, target: float | None = None, title: str | None = None
) -> Figure:
    """Test accuracy (%) against simulated wall time, both schemes on one figure.

    ``frame``: rows of :func:`accuracy_timeline`. One panel per uplink bit rate; colour = split
    point, solid line = SL (end-to-end), dashed = HT; the shaded band is the seed range (min to
    max). ``target`` draws the target accuracy as a horizontal line.
    """
    needed = {"scheme", "split", "split_name", "uplink_bps", "epoch", "accuracy", "elapsed_s"}
    missing = sorted(needed - set(frame.columns))
    if missing:
        raise InputError(f"timeline: missing column(s) {', '.join(missing)}")
    frame = frame[np.isfinite(frame["elapsed_s"])]
    if frame.empty:
        raise InputError("timeline: no finite simulated times to plot")
    rates = sorted(frame["uplink_bps"].unique())
    scale, unit = _time_unit(float(frame["elapsed_s"].max()))
    fig, axes = plt.subplots(1, len(rates), figsize=(5.0 * len(rates) + 1.5, 4.5),
                             sharey=True, squeeze=False, layout="constrained")
    splits = frame.drop_duplicates("split").sort_values("split")
    colours = {s: plt.get_cmap("tab10")(i % 10) for i, s in enumerate(splits["split"])}
    styles = {"sl": ("-", "SL (end-to-end)"), "ht": ("--", "HT (early exit)")}
    for ax, rate in zip(axes[0], rates, strict=True):
        part = frame[frame["uplink_bps"] == rate]
        for (scheme, split, name), curve in part.groupby(["scheme", "split", "split_name"]):
            curve = curve.sort_values("epoch")
            style, label = styles.get(str(scheme), (":", str(scheme)))
            x = curve["elapsed_s"].to_numpy() / scale
            y = curve["accuracy"].to_numpy() * PERCENT
            ax.plot(x, y, style, marker="o", ms=3, color=colours[split],
                    label=f"{label}, {name}")
            if {"accuracy_min", "accuracy_max"} <= set(curve.columns):
                ax.fill_between(x, curve["accuracy_min"] * PERCENT,
                                curve["accuracy_max"] * PERCENT, color=colours[split],
                                alpha=0.12, lw=0)
        if target is not None:
            ax.axhline(target * PERCENT, color="0.3", lw=0.8, ls=":")
        ax.set_title(f"uplink {format_bps(float(rate))}")
        ax.set_xlabel(f"simulated wall time ({unit})")
        ax.set_xlim(left=0)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("test accuracy, final exit (%)")
    axes[0][-1].legend(fontsize="small", loc="lower right")
    if title:
        fig.suptitle(title)
    return fig
