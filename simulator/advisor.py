"""Split advisor: which split point and scheme to choose for given devices and channel.

For one scenario (edge device, cloud server, channel, workload), :func:`evaluate` simulates every
split point of the profile × every scheme of the scenario — the closed form where it is exact,
else the DES (``method="auto"``) — and marks the candidates that cannot be chosen:

* **memory**: the edge (or cloud) cannot hold the training state (``does_not_fit``);
* **privacy**: cloud-only, and split point 0 of split learning or hierarchical training, upload
  the raw inputs (allowed only with ``allow_raw_upload``);
* **duplicate**: at the last split point split learning and hierarchical training send nothing
  and are edge-only training (listed once, as edge-only, when that scheme is evaluated);
* **accuracy** (time-to-accuracy objective): the accuracy table has no curve for the candidate,
  or its curve never reaches the target.

:func:`advise` ranks the rest by the objective — total training time, time to a target accuracy,
or edge energy — and explains in one line per losing group why it loses. Pure: no printing;
``simulator.advise_command`` does the I/O.

Time to accuracy (design.md §6): split learning, cloud-only and edge-only train the whole network
end to end, so they share one accuracy curve (every ``sl`` row of the table, any split point);
hierarchical training at split point k uses the ``ht`` rows of split k (final exit). The curve is
the mean over seeds per epoch; the first epoch at which it reaches the target, times the
simulated duration of the epochs up to it, is the time to accuracy. Epochs beyond the scenario's
own count last as long as its last simulated epoch. The accuracy table is matched to the
scenario's profile by ``<model>_<input>`` (the profile's file stem) and HT rows by split name; the
scenario's own batch size and epoch length are simulated as given (unlike
``simulator.time_to_accuracy``, which by default adopts the table's training set).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from simulator.errors import InputError
from simulator.records import SchemeResult
from simulator.scenario import Scenario, SchemeName
from simulator.simulate import Method, simulate_scheme
from simulator.tables import read_csv_table
from simulator.units import (
    BITS_PER_BYTE,
    J_PER_KJ,
    MIB,
    MS_PER_S,
    PERCENT,
    S_PER_H,
    S_PER_MIN,
    format_bytes,
)

Objective = Literal["time", "time_to_accuracy", "edge_energy"]
OBJECTIVES: tuple[str, ...] = typing.get_args(Objective)
END_TO_END_SCHEMES: tuple[str, ...] = ("sl", "cloud_only", "edge_only")
"""Schemes that train the whole network end to end: one accuracy curve for all of them."""
SPLIT_FREE_SCHEMES: tuple[str, ...] = ("cloud_only", "edge_only")
"""Schemes with no split point (evaluated once)."""
SCHEME_TITLES = {"sl": "SL", "ht": "HT", "cloud_only": "cloud-only", "edge_only": "edge-only"}

ACCURACY_KEYS: tuple[str, ...] = ("model", "split_name", "scheme", "seed", "epoch")
ACCURACY_COLUMNS: tuple[str, ...] = ("test_accuracy", "final_acc")
"""Final-exit accuracy column of an accuracy table, in order of preference (fractions 0–1)."""


@dataclass(frozen=True)
class Candidate:
    """One split point × scheme, its simulated numbers and why it cannot be chosen (if so)."""

    scheme: str
    split: int | None
    """Split index; ``None`` for cloud-only and edge-only."""
    split_name: str
    result: SchemeResult
    epochs: int
    latency_s: float
    exclusion: str = ""
    """Why the candidate cannot be chosen: "", memory, privacy, duplicate, accuracy."""
    excluded_because: str = ""
    epochs_to_target: float = math.nan
    time_to_accuracy_s: float = math.nan
    radio_energy_j: float = math.nan

    @property
    def eligible(self) -> bool:
        return not self.exclusion

    @property
    def label(self) -> str:
        title = SCHEME_TITLES[self.scheme]
        return title if self.split is None else f"{title} @ {self.split} ({self.split_name})"

    @property
    def total_s(self) -> float:
        return self.result.total_s

    @property
    def epoch_s(self) -> float:
        """Mean simulated epoch duration."""
        epoch_s = self.result.epoch_s
        return sum(epoch_s) / len(epoch_s) if epoch_s else math.nan

    @property
    def up_bytes_per_epoch(self) -> float:
        return self.result.up_payload_bytes / self.epochs

    @property
    def edge_energy_j(self) -> float:
        return getattr(self.result, "edge_energy_j", math.nan)

    def per_epoch(self, resource: str) -> float:
        """Busy seconds per epoch of ``resource`` (summed over its instances)."""
        return self.result.busy_s.get(resource, 0.0) / self.epochs

    def score(self, objective: Objective) -> float:
        """The objective's value (lower is better); NaN when it cannot be computed."""
        if objective == "time":
            return self.total_s
        if objective == "edge_energy":
            return self.edge_energy_j
        return self.time_to_accuracy_s


@dataclass(frozen=True)
class Advice:
    """Candidates ranked by the objective, and why the others lose."""

    objective: Objective
    ranked: tuple[Candidate, ...]
    """Eligible candidates, best first (ties: split order, then scheme order)."""
    excluded: tuple[Candidate, ...]
    reasons: tuple[str, ...]
    """One line per losing group: "<who>: <why>"."""
    target: float | None = None

    @property
    def best(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None


def _split_ranges(splits: Iterable[int]) -> str:
    """``[0, 1, 2, 5]`` → ``"splits 0–2, 5"`` (``"split 3"`` for one)."""
    values = sorted(set(splits))
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts = [f"{run[0]}" if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    return ("split " if len(values) == 1 else "splits ") + ", ".join(parts)


def _radio_energy_j(scenario: Scenario, result: SchemeResult) -> float:
    edge = scenario.edge
    if edge.busy_power_w is None:
        return math.nan
    return (edge.radio_tx_j_per_bit * result.up_wire_bytes
            + edge.radio_rx_j_per_bit * result.down_wire_bytes) * BITS_PER_BYTE


def evaluate(scenario: Scenario, method: Method = "auto",
             allow_raw_upload: bool = False) -> list[Candidate]:
    """Every split point × scheme of ``scenario`` (split-free schemes once), simulated."""
    if scenario.profile is None:
        scenario = scenario.with_profile()
    profile = scenario.profile
    last = profile.last_split
    candidates: list[Candidate] = []
    for scheme in scenario.schemes:
        splits: Sequence[int | None] = (
            [None] if scheme in SPLIT_FREE_SCHEMES else range(len(profile.splits)))
        for split in splits:
            at = scenario if split is None else dataclasses.replace(
                scenario, workload=dataclasses.replace(scenario.workload, split=split),
                split_index=split)
            result = simulate_scheme(at, typing.cast(SchemeName, scheme), method,
                                     keep_spans=False)
            exclusion, why = "", ""
            if not result.ok:
                exclusion, why = "memory", result.reason
            elif not allow_raw_upload and (scheme == "cloud_only" or split == 0):
                exclusion, why = "privacy", "uploads raw data, breaks privacy"
            elif split == last and "edge_only" in scenario.schemes:
                exclusion, why = "duplicate", "sends nothing: same as edge-only"
            candidates.append(Candidate(
                scheme=scheme, split=split,
                split_name="" if split is None else profile.splits[split].split_name,
                result=result, epochs=scenario.workload.epochs,
                latency_s=scenario.channel.latency_s, exclusion=exclusion,
                excluded_because=why, radio_energy_j=_radio_energy_j(scenario, result)))
    return candidates


# --- Accuracy tables ------------------------------------------------------------------------


def load_accuracy(path: Path) -> pd.DataFrame:
    """Read an accuracy table (one row per model, input, split, scheme, seed and epoch).

    Needs the columns ``model,split_name,scheme,seed,epoch`` (``input`` too, to match
    ``<model>_<input>`` profiles) and a final-exit accuracy column, ``test_accuracy`` (as
    written by ``python -m simulator train``) or ``final_acc``; accuracies are fractions 0–1.
    Returns the rows with that column renamed ``accuracy``.
    """
    frame = read_csv_table(path, "accuracy table")
    missing = [c for c in ACCURACY_KEYS if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
    column = next((c for c in ACCURACY_COLUMNS if c in frame.columns), None)
    if column is None:
        raise InputError(f"{path}: no accuracy column; expected one of "
                         f"{', '.join(ACCURACY_COLUMNS)}")
    frame = frame.rename(columns={column: "accuracy"})
    frame["accuracy"] = pd.to_numeric(frame["accuracy"], errors="coerce")
    bad = frame["accuracy"].isna() | (frame["accuracy"] < 0) | (frame["accuracy"] > 1)
    if bad.any():
        raise InputError(f"{path}: {column} must be a fraction in [0, 1] in every row "
                         f"(row {int(bad.to_numpy().nonzero()[0][0]) + 2} is not)")
    return frame


def _model_key(table: pd.DataFrame) -> pd.Series:
    """``<model>_<input>`` per row (the profile file's stem), or ``model`` without ``input``."""
    if "input" in table.columns:
        return table["model"].astype(str) + "_" + table["input"].astype(str)
    return table["model"].astype(str)


def accuracy_curve(table: pd.DataFrame, profile_name: str, scheme: str,
                   split_name: str | None, end_to_end: bool) -> pd.Series:
    """Mean final-exit accuracy over seeds, by epoch, for one candidate (empty if no rows).

    End-to-end schemes use every ``sl`` row (any split point: the same run per seed); HT uses
    the rows of its split point, matched by ``split_name``. Only epochs that every seed reached
    are kept, so each mean is over the same seeds (as in :mod:`simulator.time_to_accuracy`).
    """
    rows = table[_model_key(table) == profile_name]
    if end_to_end:
        rows = rows[rows["scheme"] == "sl"]
    else:
        rows = rows[(rows["scheme"] == scheme)
                    & (rows["split_name"].astype(str) == str(split_name))]
    if rows.empty:
        return pd.Series(dtype=float)
    per_seed = rows.groupby(["seed", "epoch"])["accuracy"].mean().reset_index()
    last_common = per_seed.groupby("seed")["epoch"].max().min()
    per_seed = per_seed[per_seed["epoch"] <= last_common]
    return per_seed.groupby("epoch")["accuracy"].mean().sort_index()


def epochs_to_reach(curve: pd.Series, target: float) -> float:
    """First epoch (1-based, as in the table) whose accuracy reaches ``target``; NaN if none."""
    reached = curve[curve >= target]
    return float(reached.index[0]) if len(reached) else math.nan


def time_for_epochs(epoch_s: Sequence[float], epochs: float) -> float:
    """Simulated time of the first ``epochs`` epochs; later ones last as long as the last one."""
    count = int(epochs)
    if count <= len(epoch_s):
        return float(sum(epoch_s[:count]))
    return float(sum(epoch_s) + (count - len(epoch_s)) * epoch_s[-1])


def _with_accuracy(candidates: list[Candidate], table: pd.DataFrame, target: float,
                   profile_name: str, last_split: int) -> list[Candidate]:
    models = sorted(set(_model_key(table)))
    if profile_name not in models:
        raise InputError(f"accuracy table has no rows for profile {profile_name!r} "
                         f"(it has {', '.join(models)})")
    top = float(table["accuracy"].max())
    if target > 1:
        raise InputError(f"--target {target:g}: accuracies are fractions in [0, 1] "
                         f"(the table's best is {top:.3f})")
    out = []
    for c in candidates:
        if not c.eligible:
            out.append(c)
            continue
        end_to_end = c.scheme in END_TO_END_SCHEMES or c.split in (0, last_split)
        curve = accuracy_curve(table, profile_name, c.scheme, c.split_name, end_to_end)
        if curve.empty:
            out.append(dataclasses.replace(c, exclusion="accuracy",
                                           excluded_because="no accuracy data"))
            continue
        epochs = epochs_to_reach(curve, target)
        if math.isnan(epochs):
            out.append(dataclasses.replace(
                c, exclusion="accuracy",
                excluded_because=f"never reaches {target:g} (best {curve.max():.3f} in "
                                 f"{int(curve.index.max())} epochs)"))
            continue
        out.append(dataclasses.replace(c, epochs_to_target=epochs,
                                       time_to_accuracy_s=time_for_epochs(c.result.epoch_s,
                                                                          epochs)))
    return out


# --- Ranking and explanations ---------------------------------------------------------------


def _order_key(candidate: Candidate, objective: Objective) -> tuple[float, int, int]:
    split = -1 if candidate.split is None else candidate.split
    return (candidate.score(objective), split, list(SCHEME_TITLES).index(candidate.scheme))


def advise(scenario: Scenario, objective: Objective = "time",
           accuracy: pd.DataFrame | None = None, target: float | None = None,
           method: Method = "auto", allow_raw_upload: bool = False) -> Advice:
    """Rank every split point × scheme of ``scenario`` by ``objective``.

    ``time_to_accuracy`` needs ``accuracy`` (see :func:`load_accuracy`) and ``target``;
    ``edge_energy`` needs power figures for the edge device (``edge.busy_power_w``).
    """
    if objective not in OBJECTIVES:
        raise InputError(f"objective {objective!r}: expected one of {', '.join(OBJECTIVES)}")
    if objective == "time_to_accuracy" and (accuracy is None or target is None):
        raise InputError("objective time_to_accuracy needs an accuracy table (--accuracy CSV) "
                         "and a target (--target ACC)")
    if objective == "edge_energy" and scenario.edge.busy_power_w is None:
        raise InputError(f"{scenario.source}: edge.busy_power_w: objective edge_energy needs "
                         "the edge device's power (give busy_power_w, or an edge preset)")
    if scenario.profile is None:
        scenario = scenario.with_profile()
    candidates = evaluate(scenario, method, allow_raw_upload)
    if objective == "time_to_accuracy":
        assert accuracy is not None and target is not None
        candidates = _with_accuracy(candidates, accuracy, target, scenario.profile.name,
                                    scenario.profile.last_split)
    ranked = sorted((c for c in candidates if c.eligible),
                    key=lambda c: _order_key(c, objective))
    excluded = [c for c in candidates if not c.eligible]
    reasons = why_others_lose(ranked, excluded, objective)
    return Advice(objective, tuple(ranked), tuple(excluded), tuple(reasons), target)


def format_duration(seconds: float) -> str:
    """``5400`` → ``'1.50 h'``; ``0.0123`` → ``'12.30 ms'``."""
    if math.isnan(seconds):
        return "n/a"
    for scale, unit in ((S_PER_H, "h"), (S_PER_MIN, "min"), (1.0, "s")):
        if seconds >= scale:
            return f"{seconds / scale:.2f} {unit}"
    return f"{seconds * MS_PER_S:.2f} ms"


def format_energy(joules: float) -> str:
    """``12190`` → ``'12.19 kJ'``."""
    if math.isnan(joules):
        return "n/a"
    return f"{joules / J_PER_KJ:.2f} kJ" if joules >= J_PER_KJ else f"{joules:.1f} J"


def format_score(value: float, objective: Objective) -> str:
    return format_energy(value) if objective == "edge_energy" else format_duration(value)


def _schemes_text(schemes: Iterable[str]) -> str:
    return ", ".join(SCHEME_TITLES[s] for s in dict.fromkeys(schemes))


def _who(group: Sequence[Candidate]) -> str:
    """``"cloud-only and split 0 (input) of SL, HT"`` for a group of candidates."""
    free = [c for c in group if c.split is None]
    split = [c for c in group if c.split is not None]
    parts = [_schemes_text(c.scheme for c in free)] if free else []
    if split:
        splits = sorted({c.split for c in split if c.split is not None})
        names = {c.split: c.split_name for c in split}
        where = (f"split {splits[0]} ({names[splits[0]]})" if len(splits) == 1
                 else _split_ranges(splits))
        parts.append(f"{where} of {_schemes_text(c.scheme for c in split)}")
    return " and ".join(parts)


def _exclusion_lines(excluded: Sequence[Candidate]) -> list[str]:
    """Memory: one line per scheme; privacy, duplicates and accuracy: one line per reason."""
    lines = []
    memory: dict[tuple[str, str], list[Candidate]] = {}
    shared: dict[tuple[str, str], list[Candidate]] = {}
    for c in excluded:
        if c.exclusion == "memory":
            side = "cloud" if c.excluded_because.startswith("cloud") else "edge"
            memory.setdefault((side, c.scheme), []).append(c)
        else:
            why = c.excluded_because if c.exclusion == "accuracy" else c.exclusion
            shared.setdefault((c.exclusion, why), []).append(c)
    for (side, scheme), group in memory.items():
        splits = [c.split for c in group if c.split is not None]
        who = (f"{SCHEME_TITLES[scheme]} at {_split_ranges(splits)}" if splits
               else SCHEME_TITLES[scheme])
        if side == "edge":
            least = min(group, key=lambda c: c.result.edge_memory_bytes)
            available = least.excluded_because.split("> ")[-1]
            lines.append(f"{who}: edge memory (needs at least "
                         f"{format_bytes(least.result.edge_memory_bytes)}, {available} "
                         "available)")
        else:
            lines.append(f"{who}: cloud memory ({group[0].excluded_because})")
    for (kind, why), group in shared.items():
        if kind == "privacy":
            timed = [c for c in group if c.result.ok]
            best = min(timed, key=lambda c: c.total_s) if timed else None
            would = (f"; the fastest of them, {best.label}, would take "
                     f"{format_duration(best.total_s)}" if best else "")
            why = f"upload raw data, breaking privacy{would} (--allow-raw-upload ranks them)"
        elif kind == "duplicate":
            why = "send nothing at the last split point: the same as edge-only"
        lines.append(f"{_who(group)}: {why}")
    return lines


def _cause(c: Candidate, objective: Objective) -> str:
    """Why candidate ``c`` is slow (or costly), in the scheme's own terms."""
    if objective == "edge_energy":
        radio = c.radio_energy_j
        return (f"radio {format_energy(radio)}, compute and idle "
                f"{format_energy(c.edge_energy_j - radio)}")
    if c.scheme == "sl":
        batches = c.result.batches / c.epochs
        return (f"downlink gradient costs {format_duration(c.per_epoch('downlink'))}/epoch and "
                f"2 x latency per batch {format_duration(2 * c.latency_s * batches)}/epoch; "
                "nothing overlaps")
    if c.scheme == "ht":
        busy = {r: c.result.busy_fraction(r) for r in ("edge", "uplink", "cloud")}
        bound = max(busy, key=lambda r: busy[r])
        detail = {
            "uplink": f"{c.up_bytes_per_epoch / MIB:.1f} MiB up per epoch",
            "edge": f"edge compute with the early exit {format_duration(c.per_epoch('edge'))}"
                    "/epoch",
            "cloud": f"cloud compute {format_duration(c.per_epoch('cloud'))}/epoch",
        }[bound]
        return f"bound by the {bound} ({busy[bound] * PERCENT:.0f}% busy): {detail}"
    if c.scheme == "edge_only":
        return f"the edge trains every layer: {format_duration(c.per_epoch('edge'))}/epoch"
    return (f"uploads {c.result.up_payload_bytes / MIB:.1f} MiB of raw data, then the cloud "
            "trains every layer")


def why_others_lose(ranked: Sequence[Candidate], excluded: Sequence[Candidate],
                    objective: Objective) -> list[str]:
    """One line per losing group: excluded groups, then each other scheme, then other splits."""
    lines = _exclusion_lines(excluded)
    if not ranked:
        return lines
    best = ranked[0]
    best_score = best.score(objective)

    def versus(c: Candidate) -> str:
        score = c.score(objective)
        if best_score > 0 and math.isfinite(score):
            return (f"{format_score(score, objective)}, "
                    f"{(score / best_score - 1) * PERCENT:+.0f}% vs the best")
        return format_score(score, objective)

    for scheme in dict.fromkeys(c.scheme for c in ranked):
        if scheme == best.scheme:
            continue
        group = [c for c in ranked if c.scheme == scheme]
        top = group[0]
        splits = [c.split for c in group if c.split is not None]
        who = (f"{SCHEME_TITLES[scheme]} at {'all ' if len(splits) > 1 else ''}"
               f"{_split_ranges(splits)}" if splits else SCHEME_TITLES[scheme])
        where = (f" (best: split {top.split}, {top.split_name})" if len(splits) > 1 else "")
        lines.append(f"{who}: {versus(top)}{where}; {_cause(top, objective)}")
    others = [c for c in ranked if c.scheme == best.scheme and c is not best]
    if others:
        runner = others[0]
        splits = [c.split for c in others if c.split is not None]
        if splits:
            more_up = runner.up_bytes_per_epoch > best.up_bytes_per_epoch
            more_edge = runner.per_epoch("edge") > best.per_epoch("edge")
            causes = []
            if more_up:
                causes.append(f"more bytes up ({runner.up_bytes_per_epoch / MIB:.1f} vs "
                              f"{best.up_bytes_per_epoch / MIB:.1f} MiB/epoch)")
            if more_edge:
                causes.append(f"more edge compute ({format_duration(runner.per_epoch('edge'))}"
                              f" vs {format_duration(best.per_epoch('edge'))}/epoch)")
            if objective == "time_to_accuracy" and runner.epochs_to_target > \
                    best.epochs_to_target:
                causes.append(f"needs {runner.epochs_to_target:.0f} epochs vs "
                              f"{best.epochs_to_target:.0f}")
            lines.append(f"other {SCHEME_TITLES[best.scheme]} {_split_ranges(splits)}: next "
                         f"best is split {runner.split} ({runner.split_name}) at "
                         f"{versus(runner)}" + (f"; {', '.join(causes)}" if causes else ""))
    return lines
