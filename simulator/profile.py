"""Split-point profiles: what each split point of one model on one input shape costs.

A profile is a CSV with one row per split point (design.md §3). Every quantity is per sample:
FLOPs of the edge layers, the early-exit head and the cloud layers, the bytes of the tensor at the
cut, and memory. Profiles come from the torch profiler (``simulator.torchkit``) or, for the small
hand-checked CNN, from formulas written out by hand. Extra columns (timings, fvcore counts) are kept
in :attr:`Profile.frame` but the simulator needs only the required ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from simulator.errors import InputError
from simulator.tables import read_csv_table


@dataclass(frozen=True)
class SplitCosts:
    """Per-sample costs of one split point (design.md §3). FLOPs count 2 per multiply–add."""

    split: int
    split_name: str
    edge_fwd_flops: float
    edge_bwd_flops: float
    exit_fwd_flops: float
    exit_bwd_flops: float
    cloud_fwd_flops: float
    cloud_bwd_flops_sl: float
    cloud_bwd_flops_ht: float
    activation_bytes: float
    input_bytes: float
    label_bytes: float
    edge_param_bytes: float
    exit_param_bytes: float
    cloud_param_bytes: float
    edge_train_bytes_per_sample: float
    exit_train_bytes_per_sample: float = 0.0
    cloud_train_bytes_per_sample: float = 0.0


OPTIONAL_COLUMNS: tuple[str, ...] = ("exit_train_bytes_per_sample",
                                     "cloud_train_bytes_per_sample")
"""Columns read when present (0 when absent): memory of the exit head and of the cloud part."""
REQUIRED_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(SplitCosts) if f.name not in OPTIONAL_COLUMNS
)
NUMERIC_COLUMNS: tuple[str, ...] = tuple(
    name for name in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if name not in ("split", "split_name")
)


@dataclass(frozen=True)
class Profile:
    """All split points of one model on one input shape, in split order (0 … n)."""

    name: str
    path: Path
    splits: tuple[SplitCosts, ...]
    frame: pd.DataFrame

    @property
    def last_split(self) -> int:
        """Index n of the split with every layer on the edge."""
        return len(self.splits) - 1

    def split_names(self) -> list[str]:
        return [s.split_name for s in self.splits]

    def resolve_split(self, split: int | str, where: str) -> int:
        """Index of a split given by index or by name; ``where`` names the key for errors."""
        if isinstance(split, bool):
            raise InputError(f"{where}: expected a split index or name, got {split!r}")
        if isinstance(split, int):
            if 0 <= split <= self.last_split:
                return split
            raise InputError(
                f"{where}: split {split} is not in profile {self.path.name} "
                f"(allowed: 0..{self.last_split} or a name: {', '.join(self.split_names())})"
            )
        names = self.split_names()
        if split in names:
            return names.index(split)
        raise InputError(
            f"{where}: split {split!r} is not in profile {self.path.name} "
            f"(allowed: {', '.join(names)} or 0..{self.last_split})"
        )


def load_profile(path: str | Path) -> Profile:
    """Read and validate a profile CSV; every problem is one :class:`InputError` line."""
    path = Path(path)
    frame = read_csv_table(path, "profile")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    if frame.empty:
        raise InputError(f"{path}: no split points (the table has no rows)")
    for column in NUMERIC_COLUMNS:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame.index[values.isna() | ~values.map(math.isfinite) | (values < 0)]
        if len(bad):
            row = int(bad[0])
            raw = frame[column].iloc[row]
            shown = repr(raw) if isinstance(raw, str) else str(raw)
            raise InputError(
                f"{path}: column {column}, line {row + 2}: {shown} is not a finite number >= 0"
            )
        frame[column] = values.astype(float)
    expected = list(range(len(frame)))
    split_values = pd.to_numeric(frame["split"], errors="coerce")
    if split_values.isna().any() or [int(v) for v in split_values] != expected:
        raise InputError(
            f"{path}: column split must count 0, 1, ..., {len(frame) - 1} in order "
            f"(found {list(frame['split'])[:8]}{' ...' if len(frame) > 8 else ''})"
        )
    frame["split"] = split_values.astype(int)
    names = frame["split_name"].astype(str)
    if names.duplicated().any():
        raise InputError(
            f"{path}: column split_name has a repeated name {names[names.duplicated()].iloc[0]!r}"
        )
    frame["split_name"] = names
    splits = tuple(
        SplitCosts(**{f.name: row[f.name] for f in fields(SplitCosts) if f.name in frame.columns})
        for row in frame.to_dict("records")
    )
    return Profile(name=path.stem, path=path, splits=splits, frame=frame)
