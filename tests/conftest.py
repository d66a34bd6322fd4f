"""Shared fixtures: small profiles and scenarios with round numbers, written to tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from simulator.profile import REQUIRED_COLUMNS
from simulator.scenario import Scenario, scenario_from_dict, to_toml

REPO = Path(__file__).resolve().parents[1]
TINY_PROFILE = REPO / "profiles" / "tiny_cnn_cifar10.csv"
TINY_SCENARIO = REPO / "scenarios" / "tiny_cnn.toml"


def unit_profile_rows() -> list[dict[str, Any]]:
    """Three split points with round per-sample costs (see test docstrings for the numbers)."""
    base = {c: 0 for c in REQUIRED_COLUMNS}
    rows = []
    # split 0: everything in the cloud; 100 B raw input
    rows.append({**base, "split": 0, "split_name": "input", "cloud_fwd_flops": 300,
                 "cloud_bwd_flops_sl": 600, "cloud_bwd_flops_ht": 600,
                 "activation_bytes": 100, "input_bytes": 100, "label_bytes": 8,
                 "cloud_param_bytes": 1000})
    # split 1: 100 FLOPs fwd / 100 bwd on the edge, exit 10+20, cloud 200 fwd, 400/300 bwd
    rows.append({**base, "split": 1, "split_name": "mid", "edge_fwd_flops": 100,
                 "edge_bwd_flops": 100, "exit_fwd_flops": 10, "exit_bwd_flops": 20,
                 "cloud_fwd_flops": 200, "cloud_bwd_flops_sl": 400, "cloud_bwd_flops_ht": 300,
                 "activation_bytes": 92, "input_bytes": 100, "label_bytes": 8,
                 "edge_param_bytes": 400, "exit_param_bytes": 40, "cloud_param_bytes": 600,
                 "edge_train_bytes_per_sample": 50})
    # split 2: everything on the edge
    rows.append({**base, "split": 2, "split_name": "all", "edge_fwd_flops": 300,
                 "edge_bwd_flops": 500, "activation_bytes": 4, "input_bytes": 100,
                 "label_bytes": 8, "edge_param_bytes": 1000,
                 "edge_train_bytes_per_sample": 80})
    return rows


def write_profile(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(rows[0])
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def base_scenario_dict(profile: Path) -> dict[str, Any]:
    """Round numbers: 1 FLOP/s devices, 8 bit/s links (1 byte per second), no headers."""
    return {
        "seed": 0,
        "schemes": ["sl", "ht", "cloud_only", "edge_only"],
        "workload": {"profile": str(profile), "split": 1, "batch_size": 1,
                     "samples_per_epoch": 2, "epochs": 1},
        "edge": {"fwd_flops_per_s": 1.0},
        "cloud": {"fwd_flops_per_s": 100.0},
        "channel": {"uplink_bps": 8.0, "latency_s": 5.0, "packet_overhead_bytes": 0},
        "hierarchical": {"max_batches_in_flight": 4},
    }


def merge(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``data`` with dotted keys of ``changes`` replaced (a copy)."""
    result = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for key, value in changes.items():
        section, _, leaf = key.partition(".")
        if leaf:
            result.setdefault(section, {})[leaf] = value
        else:
            result[section] = value
    return result


@pytest.fixture
def unit_profile(tmp_path: Path) -> Path:
    return write_profile(tmp_path / "unit.csv", unit_profile_rows())


@pytest.fixture
def make_scenario(unit_profile: Path) -> Callable[..., Scenario]:
    """``make_scenario(**{"channel.uplink_bps": 16})`` → a loaded scenario on the unit profile."""

    def make(changes: dict[str, Any] | None = None, profile: Path | None = None) -> Scenario:
        data = merge(base_scenario_dict(profile or unit_profile), changes or {})
        return scenario_from_dict(data, "test.toml", Path("."))

    return make


@pytest.fixture
def write_scenario(tmp_path: Path, unit_profile: Path) -> Callable[..., Path]:
    """Write a scenario TOML (unit profile, with ``changes``) and return its path."""

    def write(changes: dict[str, Any] | None = None, name: str = "s.toml") -> Path:
        data = merge(base_scenario_dict(unit_profile), changes or {})
        path = tmp_path / name
        path.write_text(to_toml(data))
        return path

    return write


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/*.csv from the current simulator")
