"""Figures: functions from a result DataFrame to a matplotlib Figure (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

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
    ax.set_title(title or "Hierarchical (early-exit) vs sequential split learning")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(title="split point", fontsize="small", loc="best")
    return fig


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
                 "(black: break-even)")
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
