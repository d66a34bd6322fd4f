"""Markdown summary of the committed profiles, for ``profiles/README.md``.

Two parts: a table of split points per profile (cut tensor, bytes, edge share of the FLOPs, exit
cost, edge memory), and — for profiles made with ``--time`` — how well one FLOP/s figure per
device explains the measured seconds of the parts. Reads only CSV and JSON (no torch).

    python -m simulator.torchkit.profile_report profiles [--write profiles/README.md]

``--write`` replaces the text between the ``<!-- generated:start -->`` and
``<!-- generated:end -->`` markers of that file; otherwise the Markdown goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.torchkit.names import STANDARD_PROFILES, profile_stem
from simulator.units import GFLOP, KIB, MIB, PERCENT

START_MARK = "<!-- generated:start -->"
END_MARK = "<!-- generated:end -->"

PARTS: tuple[tuple[str, str, str], ...] = (
    ("edge fwd", "edge_fwd_flops", "edge_fwd_s"),
    ("edge bwd", "edge_bwd_flops", "edge_bwd_s"),
    ("exit fwd", "exit_fwd_flops", "exit_fwd_s"),
    ("exit bwd", "exit_bwd_flops", "exit_bwd_s"),
    ("cloud fwd", "cloud_fwd_flops", "cloud_fwd_s"),
    ("cloud bwd SL", "cloud_bwd_flops_sl", "cloud_bwd_sl_s"),
    ("cloud bwd HT", "cloud_bwd_flops_ht", "cloud_bwd_ht_s"),
)
"""(label, FLOPs column, seconds column) of every timed part."""

OTHER_COLUMNS: dict[str, str] = {
    "edge_fwd_flops": "edge_other_fwd_flops",
    "edge_bwd_flops": "edge_other_bwd_flops",
    "exit_fwd_flops": "exit_other_fwd_flops",
    "exit_bwd_flops": "exit_other_bwd_flops",
    "cloud_fwd_flops": "cloud_other_fwd_flops",
    "cloud_bwd_flops_sl": "cloud_other_bwd_flops_sl",
    "cloud_bwd_flops_ht": "cloud_other_bwd_flops_ht",
}

LARGE_PART_SHARE = 0.05
"""A part is "large" when it has at least this share of the whole model's training FLOPs."""


def _kib(size_bytes: float) -> str:
    return f"{size_bytes / KIB:,.1f}"


def split_table(frame: pd.DataFrame) -> str:
    """Markdown table of the split points of one profile."""
    whole_fwd = float(frame["cloud_fwd_flops"].iloc[0])
    whole_train = whole_fwd + float(frame["cloud_bwd_flops_sl"].iloc[0])
    lines = [
        "| split | name | cut tensor | activation KiB | × input | edge share fwd | "
        "edge share fwd+bwd | exit fwd+bwd / whole | edge saved MiB/sample |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in frame.to_dict("records"):
        value = {k: float(v) for k, v in row.items() if k not in ("split_name", "activation_shape")}
        edge_train = value["edge_fwd_flops"] + value["edge_bwd_flops"]
        exit_train = value["exit_fwd_flops"] + value["exit_bwd_flops"]
        lines.append(
            f"| {int(value['split'])} | `{row['split_name']}` | {row['activation_shape']} "
            f"| {_kib(value['activation_bytes'])} "
            f"| {value['activation_bytes'] / value['input_bytes']:.1f} "
            f"| {PERCENT * value['edge_fwd_flops'] / whole_fwd:.1f} % "
            f"| {PERCENT * edge_train / whole_train:.1f} % "
            f"| {PERCENT * exit_train / whole_train:.1f} % "
            f"| {value['edge_train_bytes_per_sample'] / MIB:.2f} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Fit:
    """A throughput model fitted to timed parts and its relative errors."""

    name: str
    coefficients: dict[str, float]
    median_error: float
    p90_error: float
    max_error: float


def timed_parts(frame: pd.DataFrame, profile: str) -> pd.DataFrame:
    """One row per timed part instance (split × part) with FLOPs, other-op FLOPs and seconds."""
    whole_train = float(frame["cloud_fwd_flops"].iloc[0] + frame["cloud_bwd_flops_sl"].iloc[0])
    rows = []
    for label, flops_column, seconds_column in PARTS:
        for row in frame.to_dict("records"):
            flops, seconds = float(row[flops_column]), float(row[seconds_column])
            if flops <= 0 or seconds <= 0:
                continue
            rows.append(
                {
                    "profile": profile,
                    "split": row["split"],
                    "part": label,
                    "backward": "bwd" in label,
                    "flops": flops,
                    "other_flops": float(row[OTHER_COLUMNS[flops_column]]),
                    "seconds": seconds,
                    "large": flops >= LARGE_PART_SHARE * whole_train,
                }
            )
    return pd.DataFrame(rows)


def _relative_fit(design: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Coefficients minimising the sum of squared relative errors of ``design @ c`` vs seconds."""
    scaled = design / seconds[:, None]
    coefficients, *_ = np.linalg.lstsq(scaled, np.ones(len(seconds)), rcond=None)
    return np.asarray(coefficients, dtype=float)


def fit_models(parts: pd.DataFrame) -> list[Fit]:
    """Three throughput models fitted to ``parts`` by relative least squares.

    - one FLOP/s: ``t = F / P``;
    - forward and backward FLOP/s: ``t = F / P_fwd`` or ``F / P_bwd``;
    - one FLOP/s plus the skipped ops: ``t = F / P + O / Q`` (O: ``*_other_*_flops``).
    """
    seconds = parts["seconds"].to_numpy()
    flops = parts["flops"].to_numpy()
    other = parts["other_flops"].to_numpy()
    backward = parts["backward"].to_numpy()
    fits = []
    designs = {
        "one FLOP/s": (flops[:, None], ["GFLOP/s"]),
        "fwd / bwd FLOP/s": (
            np.column_stack([flops * ~backward, flops * backward]),
            ["fwd GFLOP/s", "bwd GFLOP/s"],
        ),
        "FLOP/s + skipped ops": (
            np.column_stack([flops, other]),
            ["GFLOP/s", "G skipped-op elements/s"],
        ),
    }
    for name, (design, labels) in designs.items():
        coefficients = _relative_fit(design, seconds)
        predicted = design @ coefficients
        errors = np.abs(predicted - seconds) / seconds
        rates = {
            label: (1 / c / GFLOP if c > 0 else float("inf"))
            for label, c in zip(labels, coefficients, strict=True)
        }
        fits.append(
            Fit(
                name=name,
                coefficients=rates,
                median_error=float(np.median(errors)),
                p90_error=float(np.quantile(errors, 0.9)),
                max_error=float(np.max(errors)),
            )
        )
    return fits


def throughput_table(parts: pd.DataFrame) -> str:
    """Markdown: effective GFLOP/s of each part kind (median, min, max over split points)."""
    lines = [
        "| part | n | median GFLOP/s | min | max | max / min |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    rates = parts.assign(rate=parts["flops"] / parts["seconds"] / GFLOP)
    for label, _, _ in PARTS:
        chosen = rates[rates["part"] == label]["rate"]
        if chosen.empty:
            continue
        lines.append(
            f"| {label} | {len(chosen)} | {chosen.median():.1f} | {chosen.min():.1f} "
            f"| {chosen.max():.1f} | {chosen.max() / chosen.min():.1f} |"
        )
    return "\n".join(lines)


def fits_table(parts_by_scope: Iterable[tuple[str, pd.DataFrame]]) -> str:
    """Markdown: the fitted models and their relative errors, for several scopes of parts."""
    lines = [
        "| parts | n | model | fitted rates | median error | 90th pct | max |",
        "|---|---:|---|---|---:|---:|---:|",
    ]
    for scope, parts in parts_by_scope:
        if parts.empty:
            continue
        for fit in fit_models(parts):
            rates = ", ".join(f"{k} {v:.1f}" for k, v in fit.coefficients.items())
            lines.append(
                f"| {scope} | {len(parts)} | {fit.name} | {rates} "
                f"| {PERCENT * fit.median_error:.0f} % | {PERCENT * fit.p90_error:.0f} % "
                f"| {PERCENT * fit.max_error:.0f} % |"
            )
    return "\n".join(lines)


def load(profile_dir: Path, stem: str) -> tuple[pd.DataFrame, dict[str, object]]:
    """A profile frame and its metadata."""
    frame = pd.read_csv(profile_dir / f"{stem}.csv")
    meta = json.loads((profile_dir / f"{stem}.meta.json").read_text())
    return frame, meta


def render(profile_dir: Path, stems: Iterable[str] | None = None) -> str:
    """The generated Markdown section for the profiles in ``profile_dir``."""
    stems = list(stems or (profile_stem(m, i) for m, i in STANDARD_PROFILES))
    sections: list[str] = []
    all_parts = []
    for stem in stems:
        frame, meta = load(profile_dir, stem)
        head = meta["head"]
        assert isinstance(head, dict)
        whole = frame["cloud_fwd_flops"].iloc[0]
        sections += [
            f"### `{stem}`",
            "",
            f"{len(frame)} split points; whole model {whole / GFLOP:.3f} GFLOP forward per "
            f"sample, parameters {frame['cloud_param_bytes'].iloc[0] / MIB:.1f} MiB; exit head "
            f"`{head['design']}`.",
            "",
            split_table(frame),
            "",
        ]
        if "edge_fwd_s" in frame.columns:
            parts = timed_parts(frame, stem)
            all_parts.append(parts)
            timing = meta.get("timing")
            assert isinstance(timing, dict)
            sections += [
                f"Timed on {timing['cpu']}, {timing['threads']} threads, batch "
                f"{timing['batch_size']}, median of {timing['repeats']} (load average "
                f"{timing['load_average_1min_before']} → {timing['load_average_1min_after']}).",
                "",
                throughput_table(parts),
                "",
            ]
    if all_parts:
        parts = pd.concat(all_parts, ignore_index=True)
        scopes: list[tuple[str, pd.DataFrame]] = [
            ("all parts, all profiles", parts),
            (f"parts ≥ {PERCENT * LARGE_PART_SHARE:.0f} % of the model", parts[parts["large"]]),
        ]
        scopes += [(f"`{stem}` all parts", parts[parts["profile"] == stem]) for stem in stems]
        sections += [
            "### One FLOP/s per device: how well it explains the timed parts",
            "",
            "Relative error |predicted − measured| / measured of each timed part (split point × "
            "part), with the rates fitted by least squares on the relative error.",
            "",
            fits_table(scopes),
            "",
        ]
    return "\n".join(sections)


def write_into(readme: Path, text: str) -> None:
    """Replaces the generated section of ``readme`` with ``text``."""
    content = readme.read_text()
    start, end = content.index(START_MARK), content.index(END_MARK)
    readme.write_text(content[: start + len(START_MARK)] + "\n" + text + "\n" + content[end:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Markdown summary of split-point profiles")
    parser.add_argument("profiles", type=Path, help="folder holding the profiles")
    parser.add_argument("--write", type=Path, help="README whose generated section to replace")
    args = parser.parse_args(argv)
    text = render(args.profiles)
    if args.write:
        write_into(args.write, text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
