"""Figures of validation runs, split-point design and time to accuracy; the ``plot validation``
and ``plot tta`` commands. Every frame here is made up inside the test (no committed data)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from simulator import plots
from simulator.cli import main
from simulator.errors import InputError
from simulator.sweep import parse_grid, run_sweep

from .conftest import TINY_SCENARIO


@pytest.fixture(autouse=True)
def _close_figures() -> object:
    yield
    plt.close("all")


def runs_frame(scale_s: float = 1.0) -> pd.DataFrame:
    """A validation table as ``validate`` writes it: 2 models x 2 splits x 2 rates x 2 schemes.

    Measured SL = 2 + 8 / rate (s), HT = 0.7 x SL; predicted = measured x (1 + error), with
    errors cycling through -4, +2, +6, -1 %; repeats range from 0.97 to 1.05 x the median.
    """
    rows = []
    errors = [-0.04, 0.02, 0.06, -0.01]
    for model, splits in (("resnet18", ("layer1_1", "layer2_1")),
                          ("vgg16", ("conv1_2_pool", "conv2_2_pool"))):
        for split in splits:
            for rate in (1.0, 4.0):
                for scheme in ("sl", "ht"):
                    measured = (2 + 8 / rate) * (0.7 if scheme == "ht" else 1.0) * scale_s
                    error = errors[len(rows) % len(errors)]
                    rows.append({
                        "model": model, "split": split, "rate_mbit_s": rate, "scheme": scheme,
                        "repeats": 3, "measured_s": measured, "measured_min_s": 0.97 * measured,
                        "measured_max_s": 1.05 * measured, "predicted_s": measured * (1 + error),
                        "error_pct": error * 100,
                    })
    return pd.DataFrame(rows)


def savings_frame(runs: pd.DataFrame) -> pd.DataFrame:
    keys = ["model", "split", "rate_mbit_s"]
    sl = runs[runs["scheme"] == "sl"].set_index(keys)
    ht = runs[runs["scheme"] == "ht"].set_index(keys)
    return pd.DataFrame({
        "measured_saving_pct": (1 - ht["measured_s"] / sl["measured_s"]) * 100,
        "predicted_saving_pct": (1 - ht["predicted_s"] / sl["predicted_s"]) * 100,
    }).reset_index()


def identity_lines(ax: Axes) -> list[object]:
    """Lines of ``ax`` with y = x at every point (the exact-prediction diagonal)."""
    found = []
    for line in ax.get_lines():
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        if len(x) >= 2 and np.allclose(x, y):
            found.append(line)
    return found


def legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [t.get_text() for t in legend.get_texts()]


# --- predicted vs measured -------------------------------------------------------------------


def test_predicted_vs_measured_has_identity_line_units_and_scheme_legend() -> None:
    runs = runs_frame()  # 2.8 s … 10 s: within one decade
    fig = plots.predicted_vs_measured(runs)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(identity_lines(ax)) == 1
    assert ax.get_xscale() == ax.get_yscale() == "linear"
    assert "(s" in ax.get_xlabel() and "(s)" in ax.get_ylabel()
    assert ax.get_xlim() == ax.get_ylim()
    assert {"resnet18, SL", "resnet18, HT", "vgg16, SL", "vgg16, HT"} <= set(legend_texts(ax))
    # Title errors: |errors| cycle 4, 2, 6, 1 % → median 3.0 %, max 6.0 %.
    assert "median |error| 3.0 %" in ax.get_title() and "max 6.0 %" in ax.get_title()


def test_predicted_vs_measured_goes_logarithmic_beyond_a_decade() -> None:
    runs = runs_frame()
    runs.loc[runs.index[:4], ["measured_s", "measured_min_s", "measured_max_s",
                              "predicted_s"]] *= 50
    ax = plots.predicted_vs_measured(runs).axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    low, high = ax.get_xlim()
    assert low <= runs["measured_min_s"].min() and high >= runs["measured_max_s"].max()


def test_predicted_vs_measured_leaves_out_failed_points_and_refuses_empty_tables() -> None:
    runs = runs_frame()
    runs.loc[0, ["measured_s", "measured_min_s", "measured_max_s"]] = np.nan  # a failed point
    ax = plots.predicted_vs_measured(runs).axes[0]
    assert f"({len(runs) - 1} points)" in ax.get_title()
    with pytest.raises(InputError, match="missing column"):
        plots.predicted_vs_measured(runs.drop(columns="predicted_s"))
    with pytest.raises(InputError, match="no row"):
        plots.predicted_vs_measured(runs.assign(measured_s=np.nan))


def test_validation_errors_one_row_per_point_with_hand_computed_errors() -> None:
    runs = runs_frame()
    ax = plots.validation_errors(runs).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 8  # 2 models x 2 splits x 2 rates; SL and HT share a row
    assert labels[0] == "resnet18 layer1_1 1 Mbit/s"
    marks = {line.get_label(): np.asarray(line.get_xdata(), dtype=float)
             for line in ax.get_lines() if line.get_label() in ("SL", "HT")}
    np.testing.assert_allclose(marks["SL"][:2], [-4.0, 6.0])  # rows 0 and 2 of the table
    np.testing.assert_allclose(marks["HT"][:2], [2.0, -1.0])
    assert "(%)" in ax.get_xlabel()


def test_saving_predicted_vs_measured() -> None:
    savings = savings_frame(runs_frame())
    ax = plots.saving_predicted_vs_measured(savings).axes[0]
    assert len(identity_lines(ax)) == 1
    assert "(%)" in ax.get_xlabel() and "(%)" in ax.get_ylabel()
    assert "resnet18, layer1_1" in legend_texts(ax)
    plotted = np.concatenate([np.asarray(line.get_ydata(), dtype=float)
                              for line in ax.get_lines() if line.get_label().startswith(
                                  ("resnet18", "vgg16"))])
    np.testing.assert_allclose(np.sort(plotted), np.sort(savings["predicted_saving_pct"]))
    with pytest.raises(InputError, match="missing column"):
        plots.saving_predicted_vs_measured(savings.drop(columns="measured_saving_pct"))


# --- split-point design -------------------------------------------------------------------


def test_split_design_marks_split_points_that_do_not_fit(tmp_path: Path) -> None:
    # Tiny CNN: edge memory grows with the split; 0.5 MB fits the small splits only.
    frame = run_sweep(TINY_SCENARIO, [parse_grid("workload.split=*")], tmp_path / "r.csv",
                      ["edge.memory_bytes=5e5"], "closed_form", workers=1)
    assert (frame["status"] == "does_not_fit").any() and (frame["status"] == "ok").any()
    fig = plots.split_design(frame)
    memory_ax, bytes_ax, time_ax = fig.axes
    texts = legend_texts(memory_ax)
    assert any("does not fit" in t for t in texts)
    assert any(t.startswith("device memory") for t in texts)
    assert "(MiB)" in memory_ax.get_ylabel() and "(MiB)" in bytes_ax.get_ylabel()
    assert "time per epoch (" in time_ax.get_ylabel()
    ticks = [t.get_text() for t in time_ax.get_xticklabels()]
    assert ticks == ["0 input", "1 block1", "2 block2", "3 fc"]
    # Split points that do not fit are not drawn in the time panel.
    unfit = set(frame.loc[(frame["status"] != "ok") & frame["scheme"].isin(["sl", "ht"]),
                          "split_index"])
    for line in time_ax.get_lines():
        if line.get_label() in ("SL", "HT"):
            assert not unfit & set(np.asarray(line.get_xdata(), dtype=float).astype(int))


# --- the plot command -----------------------------------------------------------------------


def test_plot_validation_writes_png_and_svg(tmp_path: Path) -> None:
    table = tmp_path / "runs.csv"
    runs_frame().to_csv(table, index=False)
    out = tmp_path / "figures" / "validation.png"
    assert main(["plot", "validation", str(table), "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert out.with_suffix(".svg").read_text().startswith("<?xml")


def test_plot_validation_bad_table_is_one_line(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plot", "validation", str(tmp_path / "none.csv"),
                 "--out", str(tmp_path / "v.png")]) == 2
    assert "none.csv: results file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"scheme": ["sl"], "measured_s": [1.0]}).to_csv(bad, index=False)
    assert main(["plot", "validation", str(bad), "--out", str(tmp_path / "v.png")]) == 2
    assert "missing column(s) predicted_s" in capsys.readouterr().err
    assert not (tmp_path / "v.png").exists()


def accuracy_table(path: Path) -> Path:
    """Made-up training rows of the tiny CNN (split names of profiles/tiny_cnn_cifar10.csv)."""
    rows = []
    for scheme, split, curve in (("sl", "block1", [0.30, 0.45, 0.55]),
                                 ("ht", "block1", [0.25, 0.38, 0.47]),
                                 ("ht", "block2", [0.28, 0.42, 0.52])):
        for seed in (0, 1):
            for epoch, accuracy in enumerate(curve, start=1):
                rows.append({"model": "tiny_cnn", "input": "cifar10", "split_name": split,
                             "scheme": scheme, "seed": seed, "epoch": epoch,
                             "test_accuracy": accuracy + 0.01 * seed, "train_samples": 1000,
                             "batch_size": 32})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_plot_tta_one_panel_per_rate(tmp_path: Path) -> None:
    table = accuracy_table(tmp_path / "accuracy.csv")
    out = tmp_path / "tta.png"
    assert main(["plot", "tta", str(table), str(TINY_SCENARIO), "--rates", "2.5e5,4e6",
                 "--target", "0.5", "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000 and out.with_suffix(".svg").is_file()
    assert main(["plot", "tta", str(table), str(TINY_SCENARIO), "--set",
                 "channel.latency_s=0.05", "--out", str(tmp_path / "one.png"),
                 "--title", "tiny"]) == 0
    assert (tmp_path / "one.svg").is_file()


@pytest.mark.parametrize(("extra", "expected"), [
    (["--rates", "fast"], "--rates: comma-separated bit rates"),
    (["--rates", "0,1e6"], "--rates: bit rates must be numbers > 0"),
    (["--target", "60"], "--target must be a fraction"),
    (["--model", "vgg16"], "no rows of model 'vgg16'"),
])
def test_plot_tta_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        extra: list[str], expected: str) -> None:
    table = accuracy_table(tmp_path / "accuracy.csv")
    assert main(["plot", "tta", str(table), str(TINY_SCENARIO), *extra,
                 "--out", str(tmp_path / "t.png")]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1
    assert not (tmp_path / "t.png").exists()
