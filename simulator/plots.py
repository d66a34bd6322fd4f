"""Figures: functions from a result DataFrame to a matplotlib Figure (no I/O here)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simulator.errors import InputError
from simulator.units import PERCENT, format_bps


def saving_vs_bitrate(results: pd.DataFrame, title: str | None = None) -> Figure:
    """Saving of hierarchical vs sequential training (%) against uplink bit rate, per split point.

    ``results`` are sweep rows with columns ``scheme``, ``total_s``, ``channel.uplink_bps`` and
    ``split_name`` (one line per split point; splits that do not fit are left out).
    """
    needed = {"scheme", "total_s", "channel.uplink_bps", "split_name", "split_index"}
    missing = sorted(needed - set(results.columns))
    if missing:
        raise InputError(f"results: missing column(s) {', '.join(missing)} for the saving plot")
    keys = ["split_index", "split_name", "channel.uplink_bps"]
    ok = results[results["status"] == "ok"] if "status" in results else results
    sl = ok[ok["scheme"] == "sl"].groupby(keys)["total_s"].mean()
    ht = ok[ok["scheme"] == "ht"].groupby(keys)["total_s"].mean()
    saving = ((sl - ht) / sl * PERCENT).dropna().rename("saving_pct").reset_index()
    if saving.empty:
        raise InputError("results: no point has both 'sl' and 'ht' rows with status ok")
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
