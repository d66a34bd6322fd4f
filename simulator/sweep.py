"""Sweeps: the cartesian product of scenario keys, one tidy row per point × scheme.

A *point* is one combination of the swept values (``--grid`` axes, the last varying fastest).
Each point is one scenario: the scenario file with the fixed ``--set`` overrides and the point's
values applied. ``simulate(scenario, method)`` runs it (``"auto"``: the closed form where it is
exact, else the DES; each row records which) and :func:`simulator.report.result_rows` turns it
into one row per scheme, tagged with ``point_id`` (a hash of the point's keys and values).

How a sweep scales:

* **Parse once.** The scenario file is read and the overrides parsed once; each point is built
  in memory from that mapping (:func:`simulator.scenario.apply_overrides` and
  :func:`~simulator.scenario.scenario_from_dict`), and profiles are cached per process.
* **Fail fast, cheaply.** Before anything runs, every *distinct* table a point changes (each
  ``[channel]`` of the bit-rate axis, each ``[workload]`` of model × split, …) is validated once
  against the rest of the scenario. The loader's rules are all rules within one table, so this
  finds every bad value without building all points; the workers still build and validate every
  point in full.
* **Batch points.** Points go to workers in chunks; a worker returns its rows already encoded as
  CSV text, so the parent only appends bytes.
* **Executors.** ``"process"`` (default): a local process pool of ``workers`` processes (one chunk
  only, or one worker: in this process). ``"dask"``: the chunks are submitted to a Dask
  distributed scheduler; its workers must see the scenario's files (profiles, traces) at the same
  absolute paths, e.g. on a shared file system.

Results as they go, and resume: the rows of a chunk are appended to the CSV in one ``write``
call as soon as the chunk finishes, so a killed sweep loses only chunks still running. A re-run
skips every point whose rows are all in the file. On resume the file is repaired first: a
truncated last line is cut, and points with missing or extra rows are removed and run again.
When the sweep ends the file is rewritten (atomically) in point order, so the file and the
returned frame are identical whichever executor, worker count and chunk size ran them, and
whether or not the sweep was resumed.

Grid values are read as TOML values (``2e6``, ``true``, ``"block1"``). ``KEY=log:START:STOP:COUNT``
gives log-spaced values. ``workload.split=*`` stands for every split point of the point's profile
(so models with different numbers of split points can share one sweep).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.report import result_rows
from simulator.scenario import (
    Scenario,
    absolute_override,
    apply_overrides,
    parse_override,
    parse_value,
    read_toml,
    scenario_from_dict,
)
from simulator.simulate import Method, simulate

Executor = Literal["process", "dask"]
EXECUTORS: tuple[str, ...] = ("process", "dask")
EVERY_SPLIT = "*"
"""Grid value of ``workload.split`` that stands for every split point of the point's profile."""
MAX_CHUNK_POINTS = 64
"""Most points per worker task: large enough to amortise task overhead (about a millisecond),
small enough that a killed sweep loses little and the progress bar moves."""
CHUNKS_PER_WORKER = 4
"""Aim for at least this many chunks per worker, so uneven chunks (DES points) balance out."""

PointSets = tuple[tuple[str, Any], ...]
"""A point's overrides as ``(dotted key, typed value)`` pairs, file paths made absolute."""


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
    if EVERY_SPLIT in values and (key != "workload.split" or len(values) > 1):
        raise InputError(f"--grid {key}: {EVERY_SPLIT!r} is only allowed alone, as "
                         f"workload.split={EVERY_SPLIT} (every split point of the profile)")
    return GridAxis(key, values)


def grid_points(axes: Sequence[GridAxis]) -> list[dict[str, Any]]:
    """Cartesian product of the axes, the last axis varying fastest (``*`` not expanded)."""
    keys = [axis.key for axis in axes]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(axis.values for axis in axes))]


def point_id(point: Mapping[str, Any]) -> str:
    """Stable identifier of a grid point (same keys and values → same id)."""
    text = json.dumps(dict(point), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


@dataclass(frozen=True)
class SweepJob:
    """What a worker needs to build any point: the parsed file and the fixed overrides."""

    data: dict[str, Any]
    source: str
    base_dir: Path
    overrides: PointSets
    method: Method

    def scenario(self, sets: PointSets) -> Scenario:
        """The loaded scenario of one point, exactly as ``load_scenario(file, --set ...)``."""
        merged = apply_overrides(self.data, [*self.overrides, *sets])
        return scenario_from_dict(merged, self.source, self.base_dir)


@dataclass(frozen=True)
class PointTask:
    """One point to run: its index in point order, id and overrides."""

    index: int
    point_id: str
    sets: PointSets


@dataclass(frozen=True)
class ChunkResult:
    """Rows of a chunk of points, encoded as CSV lines (no header), in point order.

    ``segments`` holds ``(columns, text)`` pairs: consecutive rows with the same columns share a
    segment (in practice every row of a sweep has the same columns: one segment).
    """

    points: int
    rows: int
    segments: tuple[tuple[tuple[str, ...], str], ...]


def run_chunk(job: SweepJob, chunk: Sequence[PointTask]) -> ChunkResult:
    """Simulate the points of ``chunk`` (in a worker); rows come back as CSV text."""
    segments: list[tuple[tuple[str, ...], str]] = []
    columns: tuple[str, ...] | None = None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = 0
    for task in chunk:
        scenario = job.scenario(task.sets)
        run = simulate(scenario, method=job.method, keep_spans=False)
        for row in result_rows(scenario, run):
            row_columns = ("point_id", *row)
            if row_columns != columns:
                if columns is not None:
                    segments.append((columns, buffer.getvalue()))
                    buffer.seek(0)
                    buffer.truncate()
                columns = row_columns
            writer.writerow((task.point_id, *row.values()))
            rows += 1
    if columns is not None:
        segments.append((columns, buffer.getvalue()))
    return ChunkResult(len(chunk), rows, tuple(segments))


@dataclass(frozen=True)
class SweepPlan:
    """Every point of a sweep, expanded and validated, in point order."""

    job: SweepJob
    points: tuple[dict[str, Any], ...]
    tasks: tuple[PointTask, ...]
    expected_rows: dict[str, int]
    """Rows each point writes (one per scheme), by point id."""


def _section(key: str) -> str:
    """Table a dotted key belongs to; ``""`` for top-level keys (seed, schemes, name)."""
    section, _, leaf = key.partition(".")
    return section if leaf else ""


def plan_sweep(scenario_path: Path, axes: Sequence[GridAxis], overrides: Sequence[str] = (),
               method: Method = "auto") -> SweepPlan:
    """Parse the file once, expand ``workload.split=*``, validate every point's values.

    Raises :class:`InputError` (one line naming the key) for the first bad value.
    """
    scenario_path = Path(scenario_path)
    data = read_toml(scenario_path)
    scenario_from_dict(data, str(scenario_path), scenario_path.parent, load=False)
    fixed = tuple(absolute_override(*parse_override(text)) for text in overrides)
    job = SweepJob(data, f"{scenario_path} with --set", scenario_path.parent, fixed, method)
    base = job.scenario(())  # the file with --set must be valid by itself

    checked: set[tuple[str, str]] = set()
    absolute: dict[tuple[str, str], tuple[str, Any]] = {}

    def sets_of(point: Mapping[str, Any]) -> PointSets:
        items = []
        for key, value in point.items():
            cache_key = (key, _json_key(value))
            if cache_key not in absolute:
                absolute[cache_key] = absolute_override(key, value)
            items.append(absolute[cache_key])
        return tuple(items)

    points = _expand_every_split(job, axes, sets_of)
    tables: dict[tuple[str, str], str] = {}

    def merged_table(section: str, items: Sequence[tuple[str, Any]]) -> str:
        """Table ``section`` after the fixed and the point's overrides, as JSON (cached)."""
        cache_key = (section, _json_key(items))
        if cache_key not in tables:
            merged = apply_overrides(job.data, [*job.overrides, *items])
            table = ({k: merged.get(k) for k in ("seed", "schemes", "name")} if section == ""
                     else merged.get(section, {}))
            tables[cache_key] = _json_key(table)
        return tables[cache_key]

    schemes_of: dict[str, int] = {}
    tasks = []
    expected: dict[str, int] = {}
    unique = {point_id(point): point for point in reversed(points)}  # first of duplicates
    points = [point for point in points if unique.get(point_id(point)) is point]
    for index, point in enumerate(points):
        sets = sets_of(point)
        by_section: dict[str, list[tuple[str, Any]]] = {}
        for key, value in sets:
            by_section.setdefault(_section(key), []).append((key, value))
        for section, items in by_section.items():
            # Validate each distinct table once: the loader's checks are all per table.
            table = merged_table(section, items)
            if (section, table) not in checked:
                scenario = job.scenario(tuple(items))
                checked.add((section, table))
                if section == "":
                    schemes_of[table] = len(scenario.schemes)
        top = by_section.get("")
        pid = point_id(point)
        expected[pid] = schemes_of[merged_table("", top)] if top else len(base.schemes)
        tasks.append(PointTask(index, pid, sets))
    return SweepPlan(job, tuple(points), tuple(tasks), expected)


def _expand_every_split(job: SweepJob, axes: Sequence[GridAxis],
                        sets_of: Callable[[Mapping[str, Any]], PointSets]
                        ) -> list[dict[str, Any]]:
    """The grid's points, ``workload.split=*`` replaced by every split index of the profile.

    Order: the last axis varies fastest, with the split index standing in for the ``*`` axis's
    position (so the order stays well defined when the profile axis comes after the split axis).
    """
    points = grid_points(axes)
    keys = [axis.key for axis in axes]
    if EVERY_SPLIT not in dict(zip(keys, (a.values for a in axes), strict=True)).get(
            "workload.split", ()):
        return points
    where = keys.index("workload.split")
    counts: dict[str, int] = {}
    ranked: list[tuple[tuple[int, ...], dict[str, Any]]] = []
    ranges = [range(len(axis.values)) for axis in axes]
    for indices, point in zip(itertools.product(*ranges), points, strict=True):
        workload = {k: v for k, v in point.items()
                    if _section(k) == "workload" and k != "workload.split"}
        key = _json_key(workload)
        if key not in counts:
            sets = (*sets_of(workload), ("workload.split", 0))
            counts[key] = len(job.scenario(sets).profile.splits)
        for split in range(counts[key]):
            rank = (*indices[:where], split, *indices[where + 1:])
            ranked.append((rank, {**point, "workload.split": split}))
    ranked.sort(key=lambda item: item[0])
    return [point for _, point in ranked]


# --- The results file -----------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _atomic_write(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` so that a kill leaves either the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _encode(header: Sequence[str], records: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    return buffer.getvalue()


class ResultsFile:
    """The sweep's CSV: repaired on resume, appended chunk by chunk, sorted at the end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: tuple[str, ...] | None = None

    def _read(self) -> tuple[tuple[str, ...] | None, list[list[str]], bool]:
        """Header, complete records and whether a truncated tail had to be dropped."""
        if not self.path.is_file():
            return None, [], False
        text = self.path.read_bytes().decode()
        truncated = bool(text) and not text.endswith("\n")
        if truncated:
            text = text[: text.rfind("\n") + 1]
        table = list(csv.reader(io.StringIO(text)))
        if not table:
            return None, [], truncated
        header = tuple(table[0])
        records = [r for r in table[1:] if len(r) == len(header)]
        return header, records, truncated or len(records) != len(table) - 1

    def resume(self, expected_rows: Mapping[str, int]) -> set[str]:
        """Repair the file and return the ids of points whose rows are all in it.

        A point of this sweep with fewer or more rows than it writes (a sweep killed in the
        middle of a write) loses its rows and is run again. Rows of points that are not in this
        sweep are kept as they are.
        """
        header, records, damaged = self._read()
        if header is None:
            if damaged:
                self.path.write_text("")
            self.header = None
            return set()
        if "point_id" not in header:
            raise InputError(f"{self.path}: not a sweep results file (no point_id column); "
                             "choose another --out")
        column = header.index("point_id")
        counts = Counter(r[column] for r in records)
        bad = {pid for pid, n in counts.items()
               if pid in expected_rows and n != expected_rows[pid]}
        if bad:
            records = [r for r in records if r[column] not in bad]
            damaged = True
        if damaged:
            _atomic_write(self.path, _encode(header, records))
        self.header = header
        return {pid for pid in counts if pid not in bad}

    def append(self, result: ChunkResult) -> None:
        """Append a chunk's rows in one ``write`` per segment (the header with the first)."""
        for columns, text in result.segments:
            if self.header is not None and columns != self.header:
                text = self._widen(columns, text)
            prefix = ""
            if self.header is None:
                self.header = columns
                prefix = _encode(columns, [])
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _write_all(fd, (prefix + text).encode())
            finally:
                os.close(fd)

    def _widen(self, columns: tuple[str, ...], text: str) -> str:
        """Rows with other columns than the file's: rewrite the file with the union of both."""
        assert self.header is not None
        header = self.header + tuple(c for c in columns if c not in self.header)
        if header != self.header:
            _, records, _ = self._read()
            pad = [""] * (len(header) - len(self.header))
            _atomic_write(self.path, _encode(header, [r + pad for r in records]))
            self.header = header
        where = {c: i for i, c in enumerate(columns)}
        rows = [[r[where[c]] if c in where else "" for c in header]
                for r in csv.reader(io.StringIO(text))]
        return _encode(header, rows).split("\n", 1)[1]

    def sort(self, order: Mapping[str, int]) -> None:
        """Rewrite the rows in point order (stable; rows of other sweeps last)."""
        header, records, _ = self._read()
        if header is None:
            return
        column = header.index("point_id")
        last = len(order)
        keys = [order.get(r[column], last) for r in records]
        if all(a <= b for a, b in itertools.pairwise(keys)):
            return
        ranked = sorted(range(len(records)), key=keys.__getitem__)
        _atomic_write(self.path, _encode(header, [records[i] for i in ranked]))


# --- Executors ------------------------------------------------------------------------------


def chunk_size(points: int, workers: int) -> int:
    """Points per task: about ``CHUNKS_PER_WORKER`` tasks per worker, at most 64 points."""
    return max(1, min(MAX_CHUNK_POINTS, math.ceil(points / (CHUNKS_PER_WORKER * workers))))


def _chunks(tasks: Sequence[PointTask], size: int) -> list[tuple[PointTask, ...]]:
    return [tuple(tasks[i:i + size]) for i in range(0, len(tasks), size)]


def _run_local(job: SweepJob, tasks: Sequence[PointTask], workers: int,
               chunk_points: int | None) -> Iterator[ChunkResult]:
    chunks = _chunks(tasks, chunk_points or chunk_size(len(tasks), workers))
    if workers == 1 or len(chunks) <= 1:
        for chunk in chunks:
            yield run_chunk(job, chunk)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)))
    try:
        pending: set[Future[ChunkResult]] = {pool.submit(run_chunk, job, c) for c in chunks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_dask(job: SweepJob, tasks: Sequence[PointTask], scheduler: str,
              chunk_points: int | None) -> Iterator[ChunkResult]:
    try:
        from distributed import Client, as_completed
    except ModuleNotFoundError:
        raise InputError("--executor dask needs Dask: pip install 'dask[distributed]'") from None
    try:
        client = Client(scheduler, timeout=30, set_as_default=False)
    except OSError as exc:
        raise InputError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc})"
                         ) from None
    try:
        workers = max(1, sum(client.nthreads().values()))
        chunks = _chunks(tasks, chunk_points or chunk_size(len(tasks), workers))
        futures = [client.submit(run_chunk, job, c, pure=False) for c in chunks]
        try:
            for future in as_completed(futures, loop=client.loop):
                yield future.result()
        finally:
            client.cancel(futures)
    finally:
        client.close()


def run_sweep(scenario_path: Path, axes: Sequence[GridAxis], csv_path: Path,
              overrides: Sequence[str] = (), method: Method = "auto", *,
              workers: int | None = None, executor: Executor = "process",
              scheduler: str | None = None, chunk_points: int | None = None,
              progress: Callable[[int], object] | None = None,
              plan: SweepPlan | None = None) -> pd.DataFrame:
    """Run every point not yet in ``csv_path``, appending rows as chunks finish.

    ``workers``: local processes (default: CPU count). ``executor="dask"`` submits to the Dask
    scheduler at ``scheduler`` instead. ``chunk_points``: points per task (default: see
    :func:`chunk_size`). ``progress(n)`` is called with the number of points already in the
    file, then after each chunk with its number of points. ``plan``: the result of
    :func:`plan_sweep` for the same arguments, when the caller already has it.
    Returns every row of the file, in point order.
    """
    if executor not in EXECUTORS:
        raise InputError(f"--executor {executor!r}: expected one of {', '.join(EXECUTORS)}")
    if executor == "dask" and not scheduler:
        raise InputError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    workers = workers if workers is not None else os.cpu_count() or 1
    if workers < 1:
        raise InputError(f"--workers {workers}: expected an integer >= 1")
    if plan is None:
        plan = plan_sweep(Path(scenario_path), axes, overrides, method)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    results = ResultsFile(csv_path)
    done = results.resume(plan.expected_rows)
    todo = [t for t in plan.tasks if t.point_id not in done]
    if progress is not None and len(todo) < len(plan.tasks):
        progress(len(plan.tasks) - len(todo))
    if executor == "dask":
        assert scheduler is not None
        chunks = _run_dask(plan.job, todo, scheduler, chunk_points)
    else:
        chunks = _run_local(plan.job, todo, workers, chunk_points)
    for result in chunks:
        results.append(result)
        if progress is not None:
            progress(result.points)
    results.sort({t.point_id: t.index for t in plan.tasks})
    return pd.read_csv(csv_path)


__all__ = [
    "EVERY_SPLIT",
    "ChunkResult",
    "GridAxis",
    "PointTask",
    "ResultsFile",
    "SweepJob",
    "SweepPlan",
    "chunk_size",
    "grid_points",
    "parse_grid",
    "plan_sweep",
    "point_id",
    "run_chunk",
    "run_sweep",
]
