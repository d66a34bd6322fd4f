"""Validation: measured runs against the simulator's predictions, as tables.

For every model of the matrix (:data:`MATRIX`) the devices are calibrated first
(:mod:`simulator.torchkit.calibration`, timed segments, no channel), then each point — split
point × bit rate × scheme — is measured ``repeats`` times with real edge and cloud processes
(:mod:`simulator.torchkit.measured`; the repeats are interleaved over the points so that a change
in the machine's load hits every point alike) and predicted by the simulator (the DES) from the
calibrated scenario. Nothing measured in these runs goes into the predictions.

Tables (tidy, one row per point; :func:`run_table`, :func:`saving_table`, :func:`stage_table`):

* runs: measured median / min / max seconds over the repeats, their spread, predicted seconds,
  error % = (predicted − measured) / measured, and the regime (the channel's share of the
  predicted SL busy time);
* savings: measured and predicted runtime saving of HT versus SL, and their gap in percentage
  points;
* stages: mean seconds per batch of every stage (edge fwd / exit / bwd, uplink, cloud fwd / bwd,
  downlink), measured versus simulated — where a total is off, this says which stage.

:func:`check` compares run and saving rows with tolerances (the CI gate uses it; its negative
control uses a deliberately wrong simulator variant, :data:`VARIANTS`).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.records import Span
from simulator.scenario import Scenario, load_scenario
from simulator.torchkit.measured import (
    MeasuredRun,
    MeasureSession,
    default_stall_timeout_s,
    for_batches,
    for_emulation,
    predict,
)
from simulator.torchkit.plan import make_plan
from simulator.units import MBIT, PERCENT

REPO = Path(__file__).resolve().parents[2]
VALIDATION = REPO / "validation"


@dataclass(frozen=True)
class ModelMatrix:
    """One model's part of the matrix: its scenario, split points and bit rates (both
    directions). The rates step by 4× from channel-dominated to compute-dominated for these
    cut-tensor sizes on a 2-core machine."""

    scenario: Path
    splits: tuple[str, ...]
    rates_bps: tuple[float, ...]


MATRIX: dict[str, ModelMatrix] = {
    "resnet18": ModelMatrix(VALIDATION / "scenarios" / "resnet18_w025.toml",
                            ("layer1_1", "layer2_1", "layer3_1"), (5e6, 2e7, 8e7)),
    "vgg16": ModelMatrix(VALIDATION / "scenarios" / "vgg16_w025.toml",
                         ("conv1_2_pool", "conv2_2_pool", "conv3_3_pool"), (1.25e6, 5e6, 2e7)),
}

TARGET_SL_S = 6.0
"""Batches per point are chosen so that the predicted SL run takes about this long ..."""
MIN_BATCHES = 8
MAX_BATCHES = 24
"""... within these bounds (both schemes of a point run the same batches)."""


@dataclass(frozen=True)
class Point:
    """One measured configuration."""

    model: str
    split: str
    rate_bps: float
    scheme: str
    batches: int


Variant = Callable[[Point, Scenario], Scenario]
"""Another prediction of a point: the point and its scenario → the scenario to simulate."""


def wrong_without_sl_downlink(point: Point, scenario: Scenario) -> Scenario:
    """A deliberately wrong model: the SL gradient's downlink serialisation is forgotten."""
    channel = dataclasses.replace(scenario.channel, downlink_bps=float("inf"))
    return dataclasses.replace(scenario, channel=channel)


def per_split_calibration(segments: dict[str, pd.DataFrame]) -> Variant:
    """An ablation, not a fair prediction: devices fitted to the calibration segments of the
    point's own split point only (``segments``: each model's timed segments). Its error is what
    remains when the one-throughput-per-device model's error across split points is removed."""
    from simulator.torchkit.calibration import fit_side, stage_medians

    def variant(point: Point, scenario: Scenario) -> Scenario:
        frame = segments[point.model]
        medians = stage_medians(frame[frame["split"] == scenario.split_index])
        batch = scenario.workload.batch_size
        devices = {}
        for side in ("edge", "cloud"):
            fit = fit_side(scenario, medians, side, batch)
            devices[side] = dataclasses.replace(
                getattr(scenario, side), fwd_flops_per_s=fit.fwd_flops_per_s,
                bwd_flops_per_s=fit.bwd_flops_per_s, step_overhead_s=fit.step_overhead_s)
        return dataclasses.replace(scenario, **devices)

    return variant


VARIANTS: dict[str, Variant] = {
    "no_sl_downlink": wrong_without_sl_downlink,
}
"""Deliberately wrong simulator variants for negative controls: name → transformation."""


def point_scenario(path: Path, calibration: Sequence[str], split: str, rate_bps: float
                   ) -> Scenario:
    """The validation scenario at ``path`` with the calibrated devices, a split point and a bit
    rate (both directions)."""
    return load_scenario(path, [*calibration, f"workload.split={split!r}",
                                f"channel.uplink_bps={rate_bps!r}",
                                f"channel.downlink_bps={rate_bps!r}"])


def choose_batches(scenario: Scenario, emulation: str) -> int:
    """Batches so that the predicted SL run takes about :data:`TARGET_SL_S`."""
    per_batch_s, _ = predict(scenario, "sl", 1, emulation)
    return max(MIN_BATCHES, min(MAX_BATCHES, round(TARGET_SL_S / per_batch_s)))


def regime(scenario: Scenario, emulation: str, batches: int) -> float:
    """The channel's share of the predicted SL busy time (1 = all channel, 0 = all compute)."""
    from simulator.simulate import simulate_scheme

    target = for_batches(for_emulation(scenario, emulation), "sl", batches)
    result = simulate_scheme(target, "sl", method="des", keep_spans=False)
    link = result.busy_s.get("uplink", 0.0) + result.busy_s.get("downlink", 0.0)
    compute = result.busy_s.get("edge", 0.0) + result.busy_s.get("cloud", 0.0)
    return link / (link + compute)


# --------------------------------------------------------------------------------------------
# Stage statistics


STAGES: tuple[tuple[str, str], ...] = (("edge", "fwd"), ("edge", "exit"), ("edge", "bwd"),
                                       ("uplink", "send"), ("cloud", "fwd"), ("cloud", "bwd"),
                                       ("downlink", "send"))


def stage_means(spans: Iterable[Span], batches: int) -> dict[str, float]:
    """Mean seconds per batch of each stage (``resource_kind``), summed over its spans."""
    totals = {f"{r}_{k}": 0.0 for r, k in STAGES}
    for span in spans:
        key = f"{span.resource}_{span.kind}"
        if key in totals and span.batch >= 0:
            totals[key] += span.duration_s
    return {key: value / batches for key, value in totals.items()}


# --------------------------------------------------------------------------------------------
# Running the matrix


@dataclass
class Measurement:
    """The repeats of one point and its prediction."""

    point: Point
    runs: list[MeasuredRun]
    predicted_s: float
    predicted_stages: dict[str, float]
    channel_share: float
    variant_s: dict[str, float]


def plan_points(matrix: dict[str, ModelMatrix], calibrations: dict[str, Sequence[str]],
                emulation: str, batches: int | None = None) -> list[tuple[Point, Scenario]]:
    """Every (point, calibrated scenario at that point) of the matrix, SL before HT.
    ``batches``: the same for every point (default: :func:`choose_batches`)."""
    points = []
    for model, part in matrix.items():
        for split in part.splits:
            for rate in part.rates_bps:
                probe = point_scenario(part.scenario, calibrations[model], split, rate)
                count = batches if batches is not None else choose_batches(probe, emulation)
                for scheme in ("sl", "ht"):
                    points.append((Point(model, split, rate, scheme, count), probe))
    return points


def measure_points(points: list[tuple[Point, Scenario]], repeats: int, emulation: str,
                   out: Path, progress: Callable[[str], None] = print,
                   variants: Mapping[str, Variant] | None = None,
                   reuse: bool = False) -> list[Measurement]:
    """Measure every point ``repeats`` times (interleaved) in one session; predict each, also
    with every variant (name → :data:`Variant`). ``reuse``: read the runs an earlier call wrote
    under ``out`` instead of measuring (to predict them again, e.g. with a changed simulator)."""
    measurements = []
    for point, scenario in points:
        predicted_s, spans = predict(scenario, point.scheme, point.batches, emulation,
                                     keep_spans=True)
        variant_s = {name: predict(variant(point, scenario), point.scheme, point.batches,
                                   emulation)[0] for name, variant in (variants or {}).items()}
        measurements.append(Measurement(point, [], predicted_s,
                                        stage_means(spans, point.batches),
                                        regime(scenario, emulation, point.batches), variant_s))
    if reuse:
        for repeat in range(repeats):
            for measurement, (point, _) in zip(measurements, points, strict=True):
                measurement.runs.append(read_run(point, out / "runs" / _folder(point, repeat),
                                                 emulation))
        return measurements
    total = len(points) * repeats
    done = 0
    started = time.monotonic()
    with MeasureSession(emulation, out / "logs") as session:
        for repeat in range(repeats):
            for measurement, (point, scenario) in zip(measurements, points, strict=True):
                stall_s = default_stall_timeout_s(scenario, emulation)
                plan = make_plan(scenario, point.scheme, point.batches, emulation, 2, stall_s)
                folder = out / "runs" / _folder(point, repeat)
                run = session.run(plan, folder, measurement.predicted_s)
                measurement.runs.append(run)
                done += 1
                status = (f"{run.total_s:.2f} s (predicted {measurement.predicted_s:.2f} s)"
                          if run.ok else f"FAILED: {run.message}")
                progress(f"[{done}/{total}, {time.monotonic() - started:.0f} s] {point.model} "
                         f"{point.split} {point.rate_bps / MBIT:g} Mbit/s {point.scheme} "
                         f"#{repeat}: {status}")
    return measurements


def read_run(point: Point, folder: Path, emulation: str) -> MeasuredRun:
    """A run written by an earlier validation (failed when its merged spans are missing)."""
    from simulator.torchkit.plan import read_spans

    spans = read_spans(folder / "spans.csv")
    if not spans:
        return MeasuredRun(point.scheme, point.batches, emulation, "failed",
                           f"{folder}: no spans.csv", math.nan, [], folder)
    return MeasuredRun(point.scheme, point.batches, emulation, "ok", "",
                       max(s.end_s for s in spans), spans, folder)


def _folder(point: Point, repeat: int) -> str:
    return (f"{point.model}_{point.split}_{point.rate_bps / MBIT:g}mbit_{point.scheme}_"
            f"r{repeat}")


# --------------------------------------------------------------------------------------------
# Tables


def run_table(measurements: list[Measurement], emulation: str) -> pd.DataFrame:
    """One row per point: measured (median over repeats), predicted, error."""
    rows = []
    for m in measurements:
        times = [r.total_s for r in m.runs if r.ok]
        row: dict[str, Any] = {
            "model": m.point.model, "split": m.point.split,
            "rate_mbit_s": m.point.rate_bps / MBIT, "scheme": m.point.scheme,
            "emulation": emulation, "batches": m.point.batches,
            "repeats": len(times), "failed": len(m.runs) - len(times),
            "channel_share": round(m.channel_share, 3),
        }
        if times:
            median = statistics.median(times)
            row.update(measured_s=median, measured_min_s=min(times),
                       measured_max_s=max(times),
                       spread_pct=(max(times) - min(times)) / median * PERCENT,
                       predicted_s=m.predicted_s,
                       error_pct=(m.predicted_s - median) / median * PERCENT)
            for name, value in m.variant_s.items():
                row[f"{name}_error_pct"] = (value - median) / median * PERCENT
        rows.append(row)
    return pd.DataFrame(rows)


def saving_table(runs: pd.DataFrame) -> pd.DataFrame:
    """Measured and predicted saving of HT versus SL per (model, split, rate), in %."""
    keys = ["model", "split", "rate_mbit_s"]
    sl = runs[runs["scheme"] == "sl"]
    ht = runs[runs["scheme"] == "ht"]
    joined = sl.merge(ht, on=keys, suffixes=("_sl", "_ht")).set_index(keys)
    frame = pd.DataFrame(index=joined.index)
    frame["measured_saving_pct"] = (1 - joined["measured_s_ht"] / joined["measured_s_sl"]) * PERCENT
    frame["predicted_saving_pct"] = (1 - joined["predicted_s_ht"] / joined["predicted_s_sl"]
                                     ) * PERCENT
    frame["saving_gap_pp"] = frame["predicted_saving_pct"] - frame["measured_saving_pct"]
    for column in [c for c in joined.columns if c.endswith("_error_pct_sl")]:
        variant = column.removesuffix("_error_pct_sl")
        predicted_sl = joined["predicted_s_sl"] * (1 + joined[column] / PERCENT)
        predicted_ht = joined["predicted_s_ht"] * (1 + joined[f"{variant}_error_pct_ht"] / PERCENT)
        frame[f"{variant}_saving_gap_pp"] = ((1 - predicted_ht / predicted_sl) * PERCENT
                                             - frame["measured_saving_pct"])
    return frame.reset_index()


def stage_table(measurements: list[Measurement]) -> pd.DataFrame:
    """Mean seconds per batch of each stage, measured (mean over repeats) and simulated."""
    rows = []
    for m in measurements:
        ok = [r for r in m.runs if r.ok]
        if not ok:
            continue
        measured = [stage_means(r.spans, m.point.batches) for r in ok]
        for stage, predicted in m.predicted_stages.items():
            value = statistics.mean(x[stage] for x in measured)
            if value == 0 and predicted == 0:
                continue
            rows.append({"model": m.point.model, "split": m.point.split,
                         "rate_mbit_s": m.point.rate_bps / MBIT, "scheme": m.point.scheme,
                         "stage": stage, "measured_s": value, "predicted_s": predicted,
                         "error_pct": (predicted - value) / value * PERCENT if value else None})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Summary:
    """Headline numbers of a validation."""

    points: int
    median_abs_error_pct: float
    max_abs_error_pct: float
    max_saving_gap_pp: float
    median_spread_pct: float

    def line(self) -> str:
        return (f"{self.points} points: median |error| {self.median_abs_error_pct:.1f} %, max "
                f"{self.max_abs_error_pct:.1f} %; max saving gap {self.max_saving_gap_pp:.1f} pp;"
                f" median spread of repeats {self.median_spread_pct:.1f} %")


def summarize(runs: pd.DataFrame, savings: pd.DataFrame) -> Summary:
    errors = runs["error_pct"].abs()
    return Summary(len(runs), float(errors.median()), float(errors.max()),
                   float(savings["saving_gap_pp"].abs().max()),
                   float(runs["spread_pct"].median()))


def summarize_variant(runs: pd.DataFrame, savings: pd.DataFrame, variant: str) -> str:
    """One line: a variant's median and maximum |error| and its largest saving gap."""
    errors = runs[f"{variant}_error_pct"].abs()
    gap = savings[f"{variant}_saving_gap_pp"].abs().max()
    return (f"median |error| {errors.median():.1f} %, max {errors.max():.1f} %; max saving gap "
            f"{gap:.1f} pp")


def check(runs: pd.DataFrame, savings: pd.DataFrame, max_error_pct: float,
          max_saving_gap_pp: float, variant: str | None = None) -> list[str]:
    """Points outside the tolerances (empty: all within). ``variant``: judge that simulator
    variant's predictions instead (a negative control must produce failures)."""
    error_column = "error_pct" if variant is None else f"{variant}_error_pct"
    gap_column = "saving_gap_pp" if variant is None else f"{variant}_saving_gap_pp"
    failures = []
    for row in runs.to_dict("records"):
        if "measured_s" not in row or pd.isna(row.get("measured_s")):
            failures.append(f"{row['model']} {row['split']} {row['rate_mbit_s']:g} Mbit/s "
                            f"{row['scheme']}: no successful measured run")
            continue
        if abs(row[error_column]) > max_error_pct:
            failures.append(f"{row['model']} {row['split']} {row['rate_mbit_s']:g} Mbit/s "
                            f"{row['scheme']}: error {row[error_column]:+.1f} % (measured "
                            f"{row['measured_s']:.3f} s) beyond ±{max_error_pct:g} %")
    for row in savings.to_dict("records"):
        if abs(row[gap_column]) > max_saving_gap_pp:
            failures.append(f"{row['model']} {row['split']} {row['rate_mbit_s']:g} Mbit/s: "
                            f"saving gap {row[gap_column]:+.1f} pp beyond "
                            f"±{max_saving_gap_pp:g} pp")
    return failures


def markdown(frame: pd.DataFrame, floats: str = "{:.3g}") -> str:
    """A DataFrame as a Markdown table (no extra dependency)."""
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        cells = [floats.format(v) if isinstance(v, float) else str(v) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
