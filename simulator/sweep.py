"""Sweeps: the cartesian product of scenario keys, one tidy row per point × scheme.

Rows are appended to the CSV as points finish, so an interrupted sweep loses nothing it had
finished, and running the same sweep again skips the points already in the file (matched by
``point_id``, a hash of the point's keys and values).
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.report import result_rows
from simulator.scenario import load_scenario, parse_value
from simulator.simulate import Method, simulate


@dataclass(frozen=True)
class GridAxis:
    """One swept key and its values, in order."""

    key: str
    values: tuple[Any, ...]


def parse_grid(text: str) -> GridAxis:
    """``key=v1,v2,...`` or ``key=log:START:STOP:COUNT`` (log-spaced, both ends included)."""
    if "=" not in text:
        raise InputError(f"--grid {text!r}: expected KEY=V1,V2,... or KEY=log:START:STOP:COUNT")
    key, raw = (part.strip() for part in text.split("=", 1))
    if raw.startswith("log:"):
        parts = raw.split(":")[1:]
        try:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
        except (IndexError, ValueError):
            raise InputError(
                f"--grid {key}: expected log:START:STOP:COUNT with START, STOP > 0, got {raw!r}"
            ) from None
        if start <= 0 or stop <= 0 or count < 1 or len(parts) != 3:
            raise InputError(
                f"--grid {key}: expected log:START:STOP:COUNT with START, STOP > 0, got {raw!r}"
            )
        values = tuple(float(v) for v in np.geomspace(start, stop, count))
    else:
        values = tuple(parse_value(v.strip()) for v in raw.split(",") if v.strip())
    if not values:
        raise InputError(f"--grid {key}: no values given")
    return GridAxis(key, values)


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Cartesian product of the axes, the last axis varying fastest."""
    keys = [axis.key for axis in axes]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(axis.values for axis in axes))]


def point_id(point: dict[str, Any]) -> str:
    """Stable identifier of a grid point (same keys and values → same id)."""
    text = json.dumps(point, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _toml_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    return repr(value)


def point_rows(scenario_path: Path, point: dict[str, Any], overrides: Sequence[str],
               method: Method) -> list[dict[str, Any]]:
    """Simulate one grid point; rows carry ``point_id`` and the resolved parameters."""
    sets = [*overrides, *(f"{k}={_toml_literal(v)}" for k, v in point.items())]
    scenario = load_scenario(scenario_path, sets)
    run = simulate(scenario, method=method, keep_spans=False)
    pid = point_id(point)
    return [{"point_id": pid, **row} for row in result_rows(scenario, run)]


def done_point_ids(csv_path: Path) -> set[str]:
    """Point ids already written to ``csv_path`` (empty when it does not exist)."""
    if not csv_path.is_file() or csv_path.stat().st_size == 0:
        return set()
    return set(pd.read_csv(csv_path, usecols=["point_id"], dtype=str)["point_id"])


def run_sweep(scenario_path: Path, axes: Sequence[GridAxis], csv_path: Path,
              overrides: Sequence[str] = (), method: Method = "auto",
              progress: Callable[[Iterator[dict[str, Any]], int], Iterator[dict[str, Any]]]
              | None = None) -> pd.DataFrame:
    """Run every point not yet in ``csv_path``, appending rows as they finish; return all rows."""
    points = grid_points(axes)
    # Validate every point before the first is run, so a bad value fails fast.
    for point in points:
        sets = [*overrides, *(f"{k}={_toml_literal(v)}" for k, v in point.items())]
        load_scenario(scenario_path, sets)
    done = done_point_ids(csv_path)
    todo = [p for p in points if point_id(p) not in done]
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    iterator: Iterator[dict[str, Any]] = iter(todo)
    if progress is not None:
        iterator = progress(iterator, len(todo))
    header_needed = not done
    for point in iterator:
        rows = point_rows(scenario_path, point, overrides, method)
        with csv_path.open("a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            if header_needed:
                writer.writeheader()
                header_needed = False
            writer.writerows(rows)
    return pd.read_csv(csv_path)
