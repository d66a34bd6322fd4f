"""The command line: simulate, sweep (with resume) and plot, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulator.cli import main
from simulator.scenario import load_scenario
from simulator.simulate import simulate

from .conftest import REPO, TINY_SCENARIO


def test_simulate_prints_table_and_writes_resolved_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    trace = tmp_path / "trace.json"
    assert main(["simulate", str(TINY_SCENARIO), "--set", "channel.uplink_bps=2e6",
                 "--out", str(out), "--trace", str(trace)]) == 0
    printed = capsys.readouterr().out
    for label in ("split learning (sequential)", "hierarchical (early exit)", "cloud-only",
                  "edge-only", "hierarchical training saves"):
        assert label in printed
    rows = pd.read_csv(out / "results.csv")
    assert list(rows["scheme"]) == ["sl", "ht", "cloud_only", "edge_only"]
    assert (rows["channel.uplink_bps"] == 2e6).all()
    # The resolved scenario reproduces the run.
    again = simulate(load_scenario(out / "scenario.toml"))
    assert again.schemes["ht"].total_s == pytest.approx(rows.set_index("scheme").loc["ht",
                                                                                      "total_s"])
    events = json.loads(trace.read_text())["traceEvents"]
    assert any(e.get("ph") == "X" and e["cat"] == "uplink" for e in events)


def test_sweep_writes_one_row_per_point_and_scheme_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ["sweep", str(TINY_SCENARIO), "--out", str(out),
            "--grid", "channel.uplink_bps=log:1e5:1e7:3", "--grid", "workload.split=block1,2"]
    assert main(args) == 0
    rows = pd.read_csv(out / "results.csv")
    assert len(rows) == 3 * 2 * 4
    assert set(rows["seed"]) == {0}
    assert set(rows["method"]) == {"closed_form"}
    assert sorted(set(rows["channel.uplink_bps"])) == pytest.approx([1e5, 1e6, 1e7])
    assert (out / "scenario.toml").is_file()
    assert json.loads((out / "grid.json").read_text())["grid"]["workload.split"] == ["block1", 2]
    # Drop the last point, as if the sweep had been killed; a re-run completes only that point.
    keep = rows[rows["point_id"] != rows["point_id"].iloc[-1]]
    keep.to_csv(out / "results.csv", index=False)
    assert main(args) == 0
    again = pd.read_csv(out / "results.csv")
    assert len(again) == len(rows)
    assert again.sort_values(["point_id", "scheme"])["total_s"].tolist() == pytest.approx(
        rows.sort_values(["point_id", "scheme"])["total_s"].tolist())


def test_sweep_refuses_a_bad_grid_value_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sweep", str(TINY_SCENARIO), "--out", str(tmp_path / "s"),
                 "--grid", "workload.split=block1,block9"])
    assert code == 2
    assert "split 'block9' is not in profile" in capsys.readouterr().err
    assert not (tmp_path / "s" / "results.csv").exists()


def test_plot_saving(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", str(TINY_SCENARIO), "--out", str(out),
                 "--grid", "channel.uplink_bps=log:1e5:1e8:4",
                 "--grid", "workload.split=block1,block2"]) == 0
    for name in ("saving", "heatmap"):
        figure = tmp_path / name
        assert main(["plot", name, str(out / "results.csv"), "--out", str(figure)]) == 0
        assert figure.with_suffix(".png").stat().st_size > 10_000
        assert figure.with_suffix(".svg").read_text().startswith("<?xml")
    assert main(["plot", "timeline", str(TINY_SCENARIO), "--set", "channel.uplink_bps=2e7",
                 "--batches", "3", "--out", str(tmp_path / "timeline.png")]) == 0
    assert (tmp_path / "timeline.svg").is_file()


TORCH_BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError("No module named " + repr(name), name=name)
sys.meta_path.insert(0, Block())
"""


def test_simulator_runs_without_torch(tmp_path: Path) -> None:
    """``import simulator`` and ``simulate`` work with torch unimportable and never load it."""
    code = TORCH_BLOCKER + f"""
import simulator
from simulator.cli import main
assert main(["simulate", {str(TINY_SCENARIO)!r}, "--out", {str(tmp_path)!r}]) == 0
assert main(["sweep", {str(TINY_SCENARIO)!r}, "--out", {str(tmp_path / 's')!r},
             "--grid", "channel.uplink_bps=1e6,2e6"]) == 0
assert "torch" not in sys.modules
print("torch-free")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "torch-free" in done.stdout


def test_torch_command_without_torch_is_one_line(tmp_path: Path) -> None:
    code = TORCH_BLOCKER + """
from simulator.cli import main
sys.exit(main(["profile", "--model", "vgg16", "--input", "cifar10"]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert "pip install -e '.[torch]'" in done.stderr
    assert "Traceback" not in done.stderr
