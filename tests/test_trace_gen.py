"""Synthetic traces: regenerated bit for bit, statistics as docs/traces.md states them."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from simulator.channel import load_rate_trace
from simulator.scenario import scenario_from_dict
from simulator.simulate import simulate
from simulator.trace_gen import TRACE_SPECS, components, generate, main, trace_stats
from simulator.units import MBIT

from .conftest import REPO, TINY_PROFILE

TRACES = REPO / "traces"
DOC = REPO / "docs" / "traces.md"
LONG_STEPS = 200_000
"""Sample size of the statistical checks: one 200,000-step (200,000 s) trace per spec."""


def test_generator_rewrites_the_shipped_traces_bit_for_bit(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path)]) == 0
    for name in TRACE_SPECS:
        assert (tmp_path / f"{name}.csv").read_bytes() == (TRACES / f"{name}.csv").read_bytes()
    again = tmp_path / "again"
    assert main(["--out", str(again), "--only", "lte_walking"]) == 0
    assert [p.name for p in again.iterdir()] == ["lte_walking.csv"]


@pytest.mark.parametrize("name", sorted(TRACE_SPECS))
def test_shipped_trace_follows_the_format(name: str) -> None:
    text = (TRACES / f"{name}.csv").read_text()
    lines = text.splitlines()
    assert lines[0] == "time_s,bps"
    times = [float(line.split(",")[0]) for line in lines[1:]]
    assert times[0] == 0 and all(b > a for a, b in itertools.pairwise(times))
    # The last row closes the period with the first row's rate.
    assert lines[-1].split(",")[1] == lines[1].split(",")[1]
    trace = load_rate_trace(TRACES / f"{name}.csv")
    spec = TRACE_SPECS[name]
    assert trace.period_s == spec.duration_s
    assert len(trace.times_s) == round(spec.duration_s / spec.step_s)
    t, r = generate(spec)
    assert trace.mean_bps == pytest.approx(trace_stats(t, r, spec.duration_s)["mean_bps"])


def _documented_stats() -> dict[str, dict[str, float]]:
    """The table "Statistics of the shipped files" of docs/traces.md."""
    section = DOC.read_text().split("### Statistics of the shipped files", 1)[1]
    rows = {}
    for match in re.finditer(r"^\| `(\w+)` \| ([\d.]+) Mbit/s \| ([\d.]+) \| ([\d.]+) Mbit/s \| "
                             r"([\d.]+) Mbit/s \|$", section, flags=re.MULTILINE):
        name, mean, cv, p5, p95 = match.groups()
        rows[name] = {"mean_bps": float(mean) * MBIT, "cv": float(cv),
                      "p5_bps": float(p5) * MBIT, "p95_bps": float(p95) * MBIT}
    return rows


@pytest.mark.parametrize("name", sorted(TRACE_SPECS))
def test_shipped_trace_statistics_are_those_the_docs_state(name: str) -> None:
    """Each figure in the docs' table is the file's, to the last digit shown (±0.01)."""
    documented = _documented_stats()[name]
    spec = TRACE_SPECS[name]
    times, rates = generate(spec)
    stats = trace_stats(times, rates, spec.duration_s)
    for key in ("mean_bps", "p5_bps", "p95_bps"):
        assert stats[key] / MBIT == pytest.approx(documented[key] / MBIT, abs=0.0051), key
    assert stats["cv"] == pytest.approx(documented["cv"], abs=0.0051)


@pytest.mark.parametrize("name", sorted(TRACE_SPECS))
def test_long_run_statistics_match_theory(name: str) -> None:
    """200,000 steps per spec; tolerances and their reasons in docs/traces.md."""
    spec = TRACE_SPECS[name]
    fading, in_dip = components(spec, LONG_STEPS * spec.step_s)
    times, rates = generate(spec, LONG_STEPS * spec.step_s)
    stats = trace_stats(times, rates, LONG_STEPS * spec.step_s)
    assert stats["mean_bps"] == pytest.approx(spec.mean_bps, rel=0.03)
    assert stats["cv"] == pytest.approx(spec.expected_cv, rel=0.03)
    assert in_dip.mean() == pytest.approx(spec.dip_fraction, rel=0.15)
    logs = np.log(fading)
    lag1 = np.corrcoef(logs[:-1], logs[1:])[0, 1]
    assert lag1 == pytest.approx(spec.phi, abs=0.01)
    assert np.std(logs) == pytest.approx(spec.log_sigma, rel=0.03)


def test_expected_cv_formula_by_hand() -> None:
    """cv without dips is the fading cv; a dip that halves the rate half the time adds to it."""
    spec = TRACE_SPECS["lte_walking"]
    plain = replace(spec, dip_mean_interval_s=None, dip_mean_duration_s=None)
    assert plain.dip_fraction == 0
    assert plain.expected_cv == pytest.approx(spec.cv)
    half = replace(spec, cv=0.0001, dip_mean_interval_s=2.0, dip_mean_duration_s=2.0,
                   dip_factor=0.5)
    # rate is 1 or 0.5 with equal odds: mean 0.75, sd 0.25 -> cv 1/3.
    assert half.dip_fraction == pytest.approx(0.5)
    assert half.expected_cv == pytest.approx(1 / 3, rel=1e-4)
    assert math.exp(half.log_mu + half.log_sigma**2 / 2) * 0.75 == pytest.approx(spec.mean_bps)


def test_a_shipped_trace_drives_the_des() -> None:
    data = {
        "schemes": ["sl", "ht"],
        "workload": {"profile": str(TINY_PROFILE), "split": 1, "batch_size": 32,
                     "samples_per_epoch": 640},
        "edge": {"fwd_flops_per_s": 2e9},
        "cloud": {"fwd_flops_per_s": 1e12},
        "channel": {"uplink_trace": str(TRACES / "hspa_commute.csv"), "downlink_bps": 2e6,
                    "latency_s": 0.05},
    }
    run = simulate(scenario_from_dict(data, "trace.toml", REPO), method="auto")
    assert {r.method for r in run.schemes.values()} == {"des"}
    assert all(r.total_s > 0 for r in run.schemes.values())
