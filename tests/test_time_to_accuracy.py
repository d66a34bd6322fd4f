"""Time to accuracy: a hand-made accuracy table joined with the unit scenario, checked by hand.

The unit scenario (``conftest.py``): batch 1, 2 samples per epoch, edge 1 FLOP/s, cloud 100 FLOP/s,
8 bit/s both ways (1 byte/s), latency 5 s, no packet headers. At split ``mid`` per sample:
edge 100 + 100 FLOPs, exit 10 + 20, cloud 200 forward, 400 (SL) / 300 (HT) backward,
92 activation bytes + 8 label bytes.

SL, one batch:  100 (edge fwd) + 100 (up: 100 B) + 5 + 6 (cloud) + 92 (down) + 5 + 100 (edge bwd)
                = 408 s  → 816 s per epoch of 2 batches.
HT, one batch:  edge 100 + 30 + 100 = 230 s, uplink 100 s, cloud 5 s: the edge is the bottleneck
                and the last cloud step (330 + 100 + 5 + 5 = 440 s) ends before the edge (460 s)
                → 460 s per epoch.
At 16 bit/s:    SL 100 + 50 + 5 + 6 + 46 + 5 + 100 = 312 s per batch → 624 s per epoch;
                HT still 460 s (edge-bound).
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from simulator.cli import main
from simulator.errors import InputError
from simulator.scenario import Scenario
from simulator.time_to_accuracy import (
    accuracy_curve,
    accuracy_timeline,
    accuracy_vs_time,
    load_accuracy_table,
    time_to_accuracy,
)

SL_EPOCH_S = 816.0
HT_EPOCH_S = 460.0
SL_EPOCH_S_AT_16_BPS = 624.0

# Final-exit test accuracy per seed and epoch (fractions).
SL_ACCURACY = {0: [0.40, 0.62, 0.70], 1: [0.44, 0.60, 0.72]}  # means 0.42, 0.61, 0.71
HT_ACCURACY = {0: [0.30, 0.50, 0.64], 1: [0.34, 0.56, 0.58]}  # means 0.32, 0.53, 0.61
HT_EXIT_ACCURACY = {0: [0.20, 0.30, 0.40], 1: [0.20, 0.30, 0.40]}


def accuracy_rows(sl_split: str = "mid", train_samples: int = 2,
                  model: str = "unit") -> list[dict[str, Any]]:
    rows = []
    for scheme, split_name, table in (("sl", sl_split, SL_ACCURACY),
                                      ("ht", "mid", HT_ACCURACY)):
        for seed, values in table.items():
            for epoch, value in enumerate(values, start=1):
                rows.append({
                    "model": model, "input": "cifar10",
                    "split": {"mid": 1, "all": 2}[split_name], "split_name": split_name,
                    "scheme": scheme, "seed": seed, "epoch": epoch, "width": 0.25,
                    "test_accuracy": value,
                    "test_exit_accuracy": HT_EXIT_ACCURACY[seed][epoch - 1]
                    if scheme == "ht" else math.nan,
                    "train_samples": train_samples, "batch_size": 1, "epochs": 3,
                })
    return rows


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(accuracy_rows())


def _row(summary: pd.DataFrame, scheme: str, uplink_bps: float = 8.0) -> pd.Series:
    found = summary[(summary["scheme"] == scheme) & (summary["uplink_bps"] == uplink_bps)]
    assert len(found) == 1
    return found.iloc[0]


def test_curve_is_the_mean_over_seeds(table: pd.DataFrame) -> None:
    curve = accuracy_curve(table, "ht", "mid")
    assert list(curve["epoch"]) == [1, 2, 3]
    assert list(curve["seeds"]) == [2, 2, 2]
    assert curve["accuracy"].tolist() == pytest.approx([0.32, 0.53, 0.61])
    assert curve["accuracy_min"].tolist() == pytest.approx([0.30, 0.50, 0.58])
    assert curve["accuracy_max"].tolist() == pytest.approx([0.34, 0.56, 0.64])
    assert curve["exit_accuracy"].tolist() == pytest.approx([0.20, 0.30, 0.40])


def test_time_to_target_by_hand(table: pd.DataFrame,
                                make_scenario: Callable[..., Scenario]) -> None:
    timeline = accuracy_timeline(table, make_scenario())
    ht = timeline[timeline["scheme"] == "ht"]
    assert ht["epoch_s"].tolist() == pytest.approx([HT_EPOCH_S] * 3)
    assert ht["elapsed_s"].tolist() == pytest.approx([460.0, 920.0, 1380.0])
    summary = time_to_accuracy(timeline, target=0.6)
    sl, ht_row = _row(summary, "sl"), _row(summary, "ht")
    # SL: mean 0.61 ≥ 0.6 after epoch 2 (seed 1 alone is exactly 0.60) → 2 × 816 s.
    assert sl["epochs_to_target"] == 2 and sl["time_to_accuracy_s"] == pytest.approx(1632.0)
    # HT: mean 0.61 after epoch 3, although seed 1 alone (0.58) never gets there → 3 × 460 s.
    assert ht_row["epochs_to_target"] == 3
    assert ht_row["time_to_accuracy_s"] == pytest.approx(1380.0)
    assert ht_row["saving_vs_sl"] == pytest.approx((1632.0 - 1380.0) / 1632.0)
    assert math.isnan(sl["saving_vs_sl"])
    assert ht_row["final_accuracy"] == pytest.approx(0.61)
    assert ht_row["final_elapsed_s"] == pytest.approx(1380.0)


def test_target_not_reached_is_nan(table: pd.DataFrame,
                                   make_scenario: Callable[..., Scenario]) -> None:
    summary = time_to_accuracy(accuracy_timeline(table, make_scenario()), target=0.9)
    for scheme in ("sl", "ht"):
        row = _row(summary, scheme)
        assert not row["reached"]
        assert math.isnan(row["time_to_accuracy_s"]) and math.isnan(row["epochs_to_target"])
    assert _row(summary, "sl")["final_accuracy"] == pytest.approx(0.71)
    assert _row(summary, "sl")["final_elapsed_s"] == pytest.approx(3 * SL_EPOCH_S)


def test_bit_rates(table: pd.DataFrame, make_scenario: Callable[..., Scenario]) -> None:
    timeline = accuracy_timeline(table, make_scenario(), uplink_bps=[8.0, 16.0])
    summary = time_to_accuracy(timeline, target=0.6)
    assert len(summary) == 4
    assert _row(summary, "sl", 16.0)["time_to_accuracy_s"] == pytest.approx(
        2 * SL_EPOCH_S_AT_16_BPS)
    assert _row(summary, "ht", 16.0)["time_to_accuracy_s"] == pytest.approx(3 * HT_EPOCH_S)
    # Faster link: SL gains, HT (edge-bound) does not; HT now loses to SL.
    assert _row(summary, "ht", 16.0)["saving_vs_sl"] == pytest.approx(
        (1248.0 - 1380.0) / 1248.0)
    # The scenario left its downlink unset, so it follows the uplink.
    assert set(timeline[timeline["uplink_bps"] == 16.0]["downlink_bps"]) == {16.0}


def test_samples_per_epoch_come_from_the_table(make_scenario: Callable[..., Scenario]) -> None:
    """4 training samples: SL 4 × 408 s per epoch; HT edge-bound 4 × 230 s."""
    table = pd.DataFrame(accuracy_rows(train_samples=4))
    timeline = accuracy_timeline(table, make_scenario())
    assert set(timeline["samples_per_epoch"]) == {4}
    per_epoch = timeline.groupby("scheme")["epoch_s"].first()
    assert per_epoch["sl"] == pytest.approx(4 * 408.0)
    assert per_epoch["ht"] == pytest.approx(4 * 230.0)
    kept = accuracy_timeline(table, make_scenario(), match_workload=False)
    assert set(kept["samples_per_epoch"]) == {2}


def test_split_learning_curve_is_shared_by_every_split(
        make_scenario: Callable[..., Scenario]) -> None:
    """SL rows recorded at split 'all' serve split 'mid' too (SL accuracy is split-free)."""
    table = pd.DataFrame(accuracy_rows(sl_split="all"))
    summary = time_to_accuracy(accuracy_timeline(table, make_scenario(), splits=["mid"]), 0.6)
    assert _row(summary, "sl")["time_to_accuracy_s"] == pytest.approx(1632.0)


def test_only_epochs_every_seed_reached(make_scenario: Callable[..., Scenario]) -> None:
    table = pd.DataFrame(accuracy_rows())
    table = table[~((table["scheme"] == "ht") & (table["seed"] == 1) & (table["epoch"] == 3))]
    curve = accuracy_curve(table, "ht", "mid")
    assert list(curve["epoch"]) == [1, 2]
    summary = time_to_accuracy(accuracy_timeline(table, make_scenario()), 0.6)
    assert not _row(summary, "ht")["reached"]


@pytest.mark.parametrize(
    ("change", "message"),
    [(lambda t: t.drop(columns=["test_accuracy"]), "missing column"),
     (lambda t: t.assign(split_name="conv9"), "not in profile"),
     (lambda t: pd.concat([t, t.assign(model="other")]), "has models"),
     (lambda t: t.assign(test_accuracy=60.0), "fraction")],
)
def test_bad_tables_are_one_line(table: pd.DataFrame, make_scenario: Callable[..., Scenario],
                                 change: Callable[[pd.DataFrame], pd.DataFrame],
                                 message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        accuracy_timeline(change(table), make_scenario())
    assert "\n" not in str(info.value)


def test_bad_target(table: pd.DataFrame, make_scenario: Callable[..., Scenario]) -> None:
    with pytest.raises(InputError, match="fraction"):
        time_to_accuracy(accuracy_timeline(table, make_scenario()), target=60)


def test_plot_has_both_schemes_and_units(table: pd.DataFrame,
                                         make_scenario: Callable[..., Scenario]) -> None:
    timeline = accuracy_timeline(table, make_scenario(), uplink_bps=[8.0, 16.0])
    figure = accuracy_vs_time(timeline, target=0.6)
    axes = figure.get_axes()
    assert len(axes) == 2  # one panel per bit rate
    for ax in axes:
        labels = [str(line.get_label()) for line in ax.get_lines()]
        assert any(label.startswith("SL") for label in labels)
        assert any(label.startswith("HT") for label in labels)
        assert ax.get_xlabel() == "simulated wall time (min)"  # 2448 s at most → minutes
    assert axes[0].get_ylabel() == "test accuracy, final exit (%)"


def test_cli_writes_table_csv_and_png(tmp_path: Path, table: pd.DataFrame,
                                      write_scenario: Callable[..., Path],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write_scenario()
    accuracy = tmp_path / "accuracy.csv"
    table.to_csv(accuracy, index=False)
    out = tmp_path / "tta"
    code = main(["tta", str(scenario), "--accuracy", str(accuracy), "--target", "0.6",
                 "--grid", "channel.uplink_bps=8,16", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "27.2 min" in printed  # SL at 8 bit/s: 1632 s
    for name in ("time_to_accuracy.csv", "accuracy_timeline.csv", "accuracy_vs_time.png",
                 "scenario.toml"):
        assert (out / name).is_file(), name
    written = pd.read_csv(out / "time_to_accuracy.csv")
    assert len(written) == 4
    loaded = load_accuracy_table(accuracy)
    assert len(loaded) == len(table)


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--target", "60"], "fraction"),
     (["--target", "0.6", "--grid", "edge.fwd_flops_per_s=1,2"], "tta grids over"),
     (["--target", "0.6", "--schemes", "cloud_only"], "no accuracy curve")],
)
def test_cli_bad_input_exits_2(tmp_path: Path, table: pd.DataFrame,
                               write_scenario: Callable[..., Path],
                               capsys: pytest.CaptureFixture[str], extra: list[str],
                               message: str) -> None:
    accuracy = tmp_path / "accuracy.csv"
    table.to_csv(accuracy, index=False)
    code = main(["tta", str(write_scenario()), "--accuracy", str(accuracy), *extra,
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1


def test_missing_accuracy_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="accuracy table file not found"):
        load_accuracy_table(tmp_path / "absent.csv")


def test_time_to_accuracy_does_not_import_torch() -> None:
    code = ("import sys, simulator.time_to_accuracy, simulator.tta_command; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
