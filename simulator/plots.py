"""Figures: functions from a result DataFrame to a matplotlib Figure (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulator.errors import InputError
from simulator.records import Span
from simulator.units import PERCENT, format_bps


def saving_vs_bitrate(results: pd.DataFrame, title: str | None = None) -> Figure:
    """Saving of hierarchical vs sequential training (%) against uplink bit rate, per split point.

    ``results`` are sweep rows with columns ``scheme``, ``total_s``, ``channel.uplink_bps`` and
    ``split_name`` (one line per split point; splits that do not fit are left out).
    """
    saving = _saving_table(results)
    fig, ax = plt.subplots(figsize=(7.5, 4.5), layout="constrained")
    for (_, name), group in saving.groupby(["split_index", "split_name"], sort=True):
        group = group.sort_values("channel.uplink_bps")
        ax.plot(group["channel.uplink_bps"], group["saving_pct"], marker="o", ms=3,
                label=str(name))
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: format_bps(v)))
    ax.set_xlabel("uplink bit rate")
    ax.set_ylabel("runtime saving of HT vs SL (%)")
    ax.set_title(title or "Hierarchical (early-exit) vs sequential split learning"
                 + _downlink_note(results))
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="split point", fontsize="small", loc="best")
    return fig


def _downlink_note(results: pd.DataFrame) -> str:
    """``"\n(downlink 10 Mbit/s)"`` when every row has the same downlink rate, else ``""``."""
    if "channel.downlink_bps" not in results:
        return ""
    rates = pd.to_numeric(results["channel.downlink_bps"], errors="coerce").dropna().unique()
    return f"\n(downlink fixed at {format_bps(float(rates[0]))})" if len(rates) == 1 else ""


def _saving_table(results: pd.DataFrame) -> pd.DataFrame:
    """Saving of HT vs SL (%) per split point and uplink bit rate, from sweep rows."""
    needed = {"scheme", "total_s", "channel.uplink_bps", "split_name", "split_index"}
    missing = sorted(needed - set(results.columns))
    if missing:
        raise InputError(f"results: missing column(s) {', '.join(missing)}")
    keys = ["split_index", "split_name", "channel.uplink_bps"]
    ok = results[results["status"] == "ok"] if "status" in results else results
    sl = ok[ok["scheme"] == "sl"].groupby(keys)["total_s"].mean()
    ht = ok[ok["scheme"] == "ht"].groupby(keys)["total_s"].mean()
    saving = ((sl - ht) / sl * PERCENT).dropna().rename("saving_pct").reset_index()
    if saving.empty:
        raise InputError("results: no point has both 'sl' and 'ht' rows with status ok")
    return saving


def saving_heatmap(results: pd.DataFrame, title: str | None = None) -> Figure:
    """Heatmap of the HT-vs-SL saving (%) over split point × uplink bit rate, with the
    break-even contour (saving = 0) drawn in black."""
    saving = _saving_table(results)
    grid = saving.pivot_table(index=["split_index", "split_name"], columns="channel.uplink_bps",
                              values="saving_pct")
    rates = grid.columns.to_numpy(float)
    values = grid.to_numpy(float)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(grid) + 2.2), layout="constrained")
    limit = max(1.0, float(np.nanmax(np.abs(values))))
    mesh = ax.pcolormesh(np.arange(len(rates) + 1), np.arange(len(grid) + 1), values,
                         cmap="RdBu", vmin=-limit, vmax=limit, shading="flat")
    if np.nanmin(values) < 0 < np.nanmax(values):
        ax.contour(np.arange(len(rates)) + 0.5, np.arange(len(grid)) + 0.5, values, levels=[0.0],
                   colors="black", linewidths=1.5)
    step = max(1, len(rates) // 8)
    ax.set_xticks(np.arange(len(rates))[::step] + 0.5,
                  [format_bps(r) for r in rates[::step]], rotation=30, ha="right")
    ax.set_yticks(np.arange(len(grid)) + 0.5, [name for _, name in grid.index])
    ax.invert_yaxis()  # split 0 (nothing on the edge) at the top
    if values.size <= 200:
        for (row, col), value in np.ndenumerate(values):
            if not np.isnan(value):
                ax.text(col + 0.5, row + 0.5, f"{value:.0f}", ha="center", va="center",
                        fontsize=7, color="white" if abs(value) > limit * 0.6 else "black")
    ax.set_xlabel("uplink bit rate")
    ax.set_ylabel("split point")
    ax.set_title(title or "Runtime saving of hierarchical vs sequential training "
                 "(black: break-even)" + _downlink_note(results))
    fig.colorbar(mesh, ax=ax, label="saving of HT vs SL (%)")
    return fig


KIND_COLOURS = {"fwd": "#4c72b0", "exit": "#dd8452", "bwd": "#55a868", "send": "#8172b3"}
LANES = ("edge", "uplink", "cloud", "downlink")


def timeline(spans_by_scheme: dict[str, Sequence[Span]], batches: int = 6,
             title: str | None = None) -> Figure:
    """Gantt chart of the first ``batches`` batches on each resource, one panel per scheme.

    Bars are coloured by kind (forward, early exit, backward, transfer); the white gaps are idle
    time. Device 0 only, first epoch.
    """
    schemes = [s for s, spans in spans_by_scheme.items() if spans]
    if not schemes:
        raise InputError("timeline: no spans to draw (simulate with the DES)")
    fig, axes = plt.subplots(1, len(schemes), figsize=(6.5 * len(schemes), 3.2),
                             layout="constrained", squeeze=False, sharex=True)
    shown_by_scheme = {
        scheme: [s for s in spans_by_scheme[scheme]
                 if s.epoch == 0 and s.device == 0 and 0 <= s.batch < batches]
        for scheme in schemes
    }
    end_s = max((s.end_s for shown in shown_by_scheme.values() for s in shown), default=1.0)
    for ax, scheme in zip(axes[0], schemes, strict=True):
        shown = shown_by_scheme[scheme]
        for span in shown:
            lane = LANES.index(span.resource)
            ax.barh(lane, span.duration_s, left=span.start_s, height=0.6,
                    color=KIND_COLOURS.get(span.kind, "0.5"), edgecolor="white", linewidth=0.4)
            if span.duration_s > 0.03 * end_s:  # label bars wide enough to hold it
                ax.text(span.start_s + span.duration_s / 2, lane, str(span.batch), ha="center",
                        va="center", fontsize=6, color="white")
        ax.set_xlim(0, end_s * 1.02)
        ax.set_yticks(range(len(LANES)), LANES)
        ax.invert_yaxis()
        ax.set_xlabel("time (s)")
        done_s = max((s.end_s for s in shown), default=0.0)
        ax.set_title(f"{scheme}: first {batches} batches in {done_s:.3g} s")
        ax.grid(True, axis="x", alpha=0.3)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in KIND_COLOURS.values()]
    fig.legend(handles, ["forward", "early exit", "backward", "transfer"],
               loc="outside right upper", fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


# --- Validation and split-point design figures -------------------------------------------------

SCHEME_MARKERS = {"sl": "o", "ht": "^", "cloud_only": "s", "edge_only": "D"}
SCHEME_NAMES = {"sl": "SL", "ht": "HT", "cloud_only": "cloud-only", "edge_only": "edge-only"}
_SPLIT_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
DECADE = 10.0
"""Axes become logarithmic when the data span more than this ratio (one decade)."""


def _need(frame: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(f"{source}: missing column(s) {', '.join(missing)}")


def _numeric(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` (those present) as floats (NaN where not numbers)."""
    frame = frame.copy()
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def _plain_log(ax: plt.Axes, which: str = "xy") -> None:
    """Logarithmic ``which`` axes with ticks at 1, 2, 5 × 10^k written as plain numbers."""
    from matplotlib.ticker import LogLocator, NullFormatter

    for name in which:
        axis = ax.xaxis if name == "x" else ax.yaxis
        (ax.set_xscale if name == "x" else ax.set_yscale)("log")
        axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        axis.set_minor_formatter(NullFormatter())


def _colours(keys: Sequence[object]) -> dict[object, object]:
    return {key: plt.get_cmap("tab10")(i % 10) for i, key in enumerate(keys)}


def _point_label(row: pd.Series) -> str:
    """``"resnet18 layer2_1 5 Mbit/s"`` from the validation columns present in ``row``."""
    parts = [str(row[c]) for c in ("model", "split") if c in row.index]
    if "rate_mbit_s" in row.index and pd.notna(row["rate_mbit_s"]):
        parts.append(f"{float(row['rate_mbit_s']):g} Mbit/s")
    return " ".join(parts)


def predicted_vs_measured(frame: pd.DataFrame, title: str | None = None,
                          tolerance_pct: float = 10.0) -> Figure:
    """Predicted against measured run time (s), one point per validation run, with y = x.

    ``frame``: the validation table (``runs.csv`` of ``python -m simulator validate``) with
    columns ``scheme``, ``measured_s`` (median of the repeats) and ``predicted_s``; optional
    ``model`` (colour), ``measured_min_s`` / ``measured_max_s`` (horizontal bars: the range of
    the repeats). Marker = scheme. The grey band is ±``tolerance_pct`` % around y = x (0: none).
    Both axes are logarithmic when the times span more than a decade. Rows without a measured
    time (failed points) are left out.
    """
    _need(frame, ("scheme", "measured_s", "predicted_s"), "validation table")
    data = _numeric(frame, ("measured_s", "predicted_s", "measured_min_s", "measured_max_s"))
    data = data[(data["measured_s"] > 0) & (data["predicted_s"] > 0)]
    if data.empty:
        raise InputError("validation table: no row with positive measured_s and predicted_s")
    models = sorted(data["model"].astype(str).unique()) if "model" in data else [""]
    colours = _colours(models)
    ranged = {"measured_min_s", "measured_max_s"} <= set(data.columns)
    values = [data["measured_s"], data["predicted_s"]]
    if ranged:
        values += [data["measured_min_s"].dropna(), data["measured_max_s"].dropna()]
    low = float(min(v.min() for v in values))
    high = float(max(v.max() for v in values))
    log = high / low > DECADE
    limits = (low / 1.25, high * 1.25) if log else (0.0, high * 1.08)
    fig, ax = plt.subplots(figsize=(6.2, 5.8), layout="constrained")
    line = np.geomspace(*limits, 50) if log else np.linspace(*limits, 50)
    if tolerance_pct > 0:
        ax.fill_between(line, line * (1 - tolerance_pct / PERCENT),
                        line * (1 + tolerance_pct / PERCENT), color="0.88", lw=0,
                        label=f"±{tolerance_pct:g} % of measured")
    ax.plot(line, line, color="0.25", lw=1.0, label="y = x (exact prediction)")
    for model in models:
        rows = data[data["model"].astype(str) == model] if model else data
        for scheme, group in rows.groupby("scheme", sort=True):
            xerr = None
            if ranged:
                below = (group["measured_s"] - group["measured_min_s"]).clip(lower=0)
                above = (group["measured_max_s"] - group["measured_s"]).clip(lower=0)
                xerr = np.vstack([below.fillna(0).to_numpy(), above.fillna(0).to_numpy()])
            name = SCHEME_NAMES.get(str(scheme), str(scheme))
            ax.errorbar(group["measured_s"], group["predicted_s"], xerr=xerr,
                        fmt=SCHEME_MARKERS.get(str(scheme), "x"), color=colours[model], ms=6,
                        mfc="none" if scheme == "ht" else colours[model], elinewidth=0.8,
                        capsize=2, lw=0, label=f"{model}, {name}" if model else name)
    if log:
        _plain_log(ax)
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("measured time (s)" + (", median and range of repeats" if ranged else ""))
    ax.set_ylabel("predicted time (s)")
    error = (data["predicted_s"] - data["measured_s"]) / data["measured_s"] * PERCENT
    ax.set_title(title or f"Simulator vs measured runs ({len(data)} points): median |error| "
                 f"{error.abs().median():.1f} %, max {error.abs().max():.1f} %", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return fig


def validation_errors(frame: pd.DataFrame, title: str | None = None,
                      tolerance_pct: float = 10.0) -> Figure:
    """Error % = (predicted − measured) / measured of every validation point, one row per
    model × split point × bit rate, marker = scheme.

    With ``measured_min_s`` / ``measured_max_s`` a thin bar shows the error against the slowest
    and the fastest repeat (the run-to-run noise). The grey band is ±``tolerance_pct`` %.
    """
    _need(frame, ("scheme", "measured_s", "predicted_s"), "validation table")
    data = _numeric(frame, ("measured_s", "predicted_s", "measured_min_s", "measured_max_s",
                            "rate_mbit_s"))
    data = data[(data["measured_s"] > 0) & np.isfinite(data["predicted_s"])]
    if data.empty:
        raise InputError("validation table: no row with positive measured_s and predicted_s")
    keys = [c for c in ("model", "split", "rate_mbit_s") if c in data.columns]
    data = data.assign(error_pct=(data["predicted_s"] - data["measured_s"])
                       / data["measured_s"] * PERCENT)
    if keys:
        order = data.drop_duplicates(keys).sort_values(keys)
        labels = [_point_label(row) for _, row in order.iterrows()]
        row_of = {tuple(row[keys]): i for i, (_, row) in enumerate(order.iterrows())}
        data = data.assign(row=[row_of[tuple(r[keys])] for _, r in data.iterrows()])
    else:
        labels = [f"point {i + 1}" for i in range(len(data))]
        data = data.assign(row=range(len(data)))
    schemes = sorted(data["scheme"].astype(str).unique())
    colours = _colours(schemes)
    offsets = dict(zip(schemes, np.linspace(-0.15, 0.15, len(schemes)) if len(schemes) > 1
                       else [0.0], strict=True))
    fig, ax = plt.subplots(figsize=(7.0, 0.28 * len(labels) + 1.6), layout="constrained")
    if tolerance_pct > 0:
        ax.axvspan(-tolerance_pct, tolerance_pct, color="0.9", lw=0,
                   label=f"±{tolerance_pct:g} %")
    ax.axvline(0.0, color="0.3", lw=0.8)
    for scheme in schemes:
        group = data[data["scheme"].astype(str) == scheme]
        y = group["row"].to_numpy(float) + offsets[scheme]
        if {"measured_min_s", "measured_max_s"} <= set(group.columns):
            slowest = (group["predicted_s"] - group["measured_max_s"]) / group["measured_max_s"]
            fastest = (group["predicted_s"] - group["measured_min_s"]) / group["measured_min_s"]
            ax.hlines(y, slowest * PERCENT, fastest * PERCENT, color=colours[scheme], lw=1.2,
                      alpha=0.6)
        ax.plot(group["error_pct"], y, SCHEME_MARKERS.get(scheme, "x"), color=colours[scheme],
                ms=6, label=SCHEME_NAMES.get(scheme, scheme), mfc="none" if scheme == "ht"
                else colours[scheme])
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel("error of the prediction, (predicted − measured) / measured (%)")
    ax.set_title(title or "Prediction error per validation point (bar: range over repeats)",
                 fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize="small", loc="lower right" if len(labels) > 3 else "best")
    return fig


def saving_predicted_vs_measured(savings: pd.DataFrame, title: str | None = None,
                                 tolerance_pp: float = 5.0) -> Figure:
    """Predicted against measured runtime saving of HT vs SL (%), with y = x.

    ``savings``: ``savings.csv`` of ``python -m simulator validate`` (columns
    ``measured_saving_pct``, ``predicted_saving_pct``; optional ``model`` (colour), ``split``
    (marker)). The grey band is ±``tolerance_pp`` percentage points.
    """
    _need(savings, ("measured_saving_pct", "predicted_saving_pct"), "saving table")
    data = _numeric(savings, ("measured_saving_pct", "predicted_saving_pct"))
    data = data[np.isfinite(data["measured_saving_pct"])
                & np.isfinite(data["predicted_saving_pct"])]
    if data.empty:
        raise InputError("saving table: no row with both measured and predicted saving")
    models = sorted(data["model"].astype(str).unique()) if "model" in data else [""]
    colours = _colours(models)
    values = np.concatenate([data["measured_saving_pct"], data["predicted_saving_pct"]])
    low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = max(2.0, 0.08 * (high - low))
    limits = (low - pad, high + pad)
    line = np.array(limits)
    fig, ax = plt.subplots(figsize=(6.2, 5.8), layout="constrained")
    if tolerance_pp > 0:
        ax.fill_between(line, line - tolerance_pp, line + tolerance_pp, color="0.88", lw=0,
                        label=f"±{tolerance_pp:g} percentage points")
    ax.plot(line, line, color="0.25", lw=1.0, label="y = x (exact prediction)")
    ax.axhline(0.0, color="0.6", lw=0.6)
    ax.axvline(0.0, color="0.6", lw=0.6)
    for model in models:
        rows = data[data["model"].astype(str) == model] if model else data
        splits = list(dict.fromkeys(rows["split"].astype(str))) if "split" in rows else [""]
        for i, split in enumerate(splits):
            group = rows[rows["split"].astype(str) == split] if split else rows
            label = ", ".join(p for p in (model, split) if p) or "points"
            ax.plot(group["measured_saving_pct"], group["predicted_saving_pct"],
                    _SPLIT_MARKERS[i % len(_SPLIT_MARKERS)], color=colours[model], ms=6,
                    label=label)
    ax.set_xlim(*limits)
    ax.set_ylim(*limits)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("measured saving of HT vs SL (%)")
    ax.set_ylabel("predicted saving of HT vs SL (%)")
    gap = (data["predicted_saving_pct"] - data["measured_saving_pct"]).abs()
    ax.set_title(title or f"HT-vs-SL saving, predicted vs measured: max gap {gap.max():.1f} pp",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return fig


def _time_scale(max_s: float) -> tuple[float, str]:
    from simulator.units import S_PER_H, S_PER_MIN

    if max_s >= 2 * S_PER_H:
        return S_PER_H, "h"
    if max_s >= 2 * S_PER_MIN:
        return S_PER_MIN, "min"
    return 1.0, "s"


def split_design(results: pd.DataFrame, title: str | None = None) -> Figure:
    """Edge memory, bytes per epoch and time per epoch of every split point, per scheme.

    ``results``: sweep rows over ``workload.split=*`` (one row per split point × scheme;
    columns ``scheme``, ``status``, ``split_index``, ``split_name``, ``edge_memory_bytes``,
    ``up_payload_bytes``, ``down_payload_bytes``, ``epoch_mean_s``, ``workload.epochs``,
    optional ``edge.memory_bytes``: the device's memory, drawn as a red line). Split points
    that do not fit the edge's memory are drawn as crosses in the memory panel and left out of
    the others. Edge-only and cloud-only do not depend on the split point: dashed lines.
    """
    from simulator.units import GIB, MIB

    _need(results, ("scheme", "status", "split_index", "split_name", "edge_memory_bytes",
                    "up_payload_bytes", "down_payload_bytes", "epoch_mean_s"), "results")
    data = _numeric(results, ("split_index", "edge_memory_bytes", "up_payload_bytes",
                              "down_payload_bytes", "epoch_mean_s", "workload.epochs",
                              "edge.memory_bytes"))
    splits = data.drop_duplicates("split_index").sort_values("split_index")
    if splits.empty:
        raise InputError("results: no rows")
    positions = splits["split_index"].to_numpy(float)
    epochs = data["workload.epochs"].fillna(1.0) if "workload.epochs" in data else 1.0
    data = data.assign(up_per_epoch=data["up_payload_bytes"] / epochs,
                       down_per_epoch=data["down_payload_bytes"] / epochs)
    ok = data["status"] == "ok"
    colours = {"sl": "#4c72b0", "ht": "#dd8452", "cloud_only": "#55a868", "edge_only": "#8172b3"}
    per_split = [s for s in ("sl", "ht") if (data["scheme"] == s).any()]
    fig, axes = plt.subplots(3, 1, figsize=(8.5, 9.0), sharex=True, layout="constrained")
    memory_ax, bytes_ax, time_ax = axes

    device_bytes = (data["edge.memory_bytes"].dropna() if "edge.memory_bytes" in data
                    else pd.Series(dtype=float))
    device_bytes = device_bytes[np.isfinite(device_bytes)]
    largest = max([float(data["edge_memory_bytes"].max()), *device_bytes[:1]])
    memory_scale, memory_unit = (GIB, "GiB") if largest >= GIB else (MIB, "MiB")
    for scheme in per_split:
        rows = data[data["scheme"] == scheme].sort_values("split_index")
        fits = rows["status"] == "ok"
        memory_ax.plot(rows["split_index"], rows["edge_memory_bytes"] / memory_scale, "-",
                       color=colours[scheme], lw=1, alpha=0.6)
        memory_ax.plot(rows["split_index"][fits], rows["edge_memory_bytes"][fits] / memory_scale,
                       SCHEME_MARKERS[scheme], color=colours[scheme], ms=5,
                       label=SCHEME_NAMES[scheme])
        memory_ax.plot(rows["split_index"][~fits],
                       rows["edge_memory_bytes"][~fits] / memory_scale, "x",
                       color=colours[scheme], ms=8, mew=2,
                       label=f"{SCHEME_NAMES[scheme]}: does not fit" if (~fits).any() else None)
    edge_only = data[data["scheme"] == "edge_only"]
    if not edge_only.empty:
        need = float(edge_only["edge_memory_bytes"].iloc[0]) / memory_scale
        fits_text = "" if (edge_only["status"] == "ok").all() else " (does not fit)"
        memory_ax.axhline(need, color=colours["edge_only"], ls="--", lw=1,
                          label=f"edge-only{fits_text}")
    if not device_bytes.empty:
        device = float(device_bytes.iloc[0]) / memory_scale
        memory_ax.axhline(device, color="crimson", lw=1.5,
                          label=f"device memory {device:.3g} {memory_unit}")
    memory_ax.set_ylabel(f"edge training memory ({memory_unit})")
    memory_ax.set_ylim(0, largest / memory_scale * 1.3)  # room for the legend above the data
    memory_ax.legend(fontsize="small", loc="upper left", ncol=2)

    traffic = data[ok & data["scheme"].isin(per_split)]
    up = traffic.groupby("split_index")["up_per_epoch"].max()
    down = traffic[traffic["scheme"] == "sl"].groupby("split_index")["down_per_epoch"].max()
    up, down = up[up > 0], down[down > 0]
    if not up.empty:
        bytes_ax.plot(up.index, up / MIB, "o-", color="0.6", lw=5, ms=8, alpha=0.6,
                      label="up (SL and HT)")
    if not down.empty:
        bytes_ax.plot(down.index, down / MIB, "s--", color=colours["sl"], ms=4,
                      label="down (SL gradient)")
    cloud_only = data[(data["scheme"] == "cloud_only") & ok]
    if not cloud_only.empty and float(cloud_only["up_per_epoch"].iloc[0]) > 0:
        bytes_ax.axhline(float(cloud_only["up_per_epoch"].iloc[0]) / MIB,
                         color=colours["cloud_only"], ls="--", lw=1,
                         label="cloud-only: raw data up")
    _plain_log(bytes_ax, "y")
    bytes_ax.set_ylabel("payload per epoch (MiB)")
    if bytes_ax.has_data():
        bytes_ax.legend(fontsize="small", loc="upper right")

    shown = data[ok]
    scale, unit = _time_scale(float(shown["epoch_mean_s"].max()) if not shown.empty else 1.0)
    for scheme in per_split:
        rows = shown[shown["scheme"] == scheme].sort_values("split_index")
        time_ax.plot(rows["split_index"], rows["epoch_mean_s"] / scale,
                     SCHEME_MARKERS[scheme] + "-", color=colours[scheme], ms=5,
                     label=SCHEME_NAMES[scheme])
    for scheme in ("edge_only", "cloud_only"):
        rows = shown[shown["scheme"] == scheme]
        if not rows.empty:
            time_ax.axhline(float(rows["epoch_mean_s"].iloc[0]) / scale, color=colours[scheme],
                            ls="--", lw=1, label=SCHEME_NAMES[scheme])
    times = shown["epoch_mean_s"].dropna()
    if not times.empty and times.max() / times.min() > DECADE:
        _plain_log(time_ax, "y")
    time_ax.set_ylabel(f"time per epoch ({unit})")
    if time_ax.has_data():
        time_ax.legend(fontsize="small", loc="best")
    time_ax.set_xticks(positions, [f"{int(i)} {n}" for i, n in
                                   zip(positions, splits["split_name"], strict=True)],
                       rotation=35, ha="right", fontsize=8)
    time_ax.set_xlabel("split point (layers up to it on the edge)")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    fig.suptitle(title or "Split-point design: memory, traffic and time per split point")
    return fig
