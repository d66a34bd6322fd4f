"""Golden results of every shipped scenario; regenerate with ``pytest --update-golden``.

A change that moves any shipped scenario's numbers must be deliberate: it fails here until the
golden files are rewritten (and the README's stated savings checked against them).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from simulator.report import result_rows
from simulator.scenario import load_scenario
from simulator.simulate import simulate

from .conftest import REPO

GOLDEN = Path(__file__).parent / "golden"
SHIPPED = sorted((REPO / "scenarios").rglob("*.toml"))
COLUMNS = ["scheme", "status", "method", "total_s", "epoch_mean_s", "saving_vs_sl",
           "up_wire_bytes", "down_wire_bytes", "edge_memory_bytes", "edge_energy_j"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenario_matches_golden(path: Path, request: pytest.FixtureRequest) -> None:
    scenario = load_scenario(path)
    rows = pd.DataFrame(result_rows(scenario, simulate(scenario, method="auto",
                                                       keep_spans=False)))[COLUMNS]
    golden = GOLDEN / f"{path.stem}.csv"
    if request.config.getoption("--update-golden"):
        rows.to_csv(golden, index=False)
    expected = pd.read_csv(golden, keep_default_na=True)
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), expected, rtol=1e-9,
                                  check_dtype=False)
