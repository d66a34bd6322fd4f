"""Synthetic bit-rate traces: a seeded generator shaped like measured cellular links.

A trace is a piecewise-constant bit rate, stored as CSV (``time_s,bps``; format and looping in
``docs/traces.md``). The generator multiplies two independent processes, sampled every
``step_s`` seconds:

* **Fading**: a log-normal AR(1) process. With ``x_k = ln(rate)``,
  ``x_{k+1} = mu + phi (x_k - mu) + s sqrt(1 - phi^2) eps_k``, ``eps_k ~ N(0, 1)``,
  ``phi = exp(-step_s / correlation_s)``. The stationary log-rate is ``N(mu, s^2)`` with
  ``s^2 = ln(1 + cv^2)``, so the fading factor has coefficient of variation ``cv`` and its
  log has autocorrelation ``phi^k`` at lag ``k`` (correlation time ``correlation_s``).
* **Dips** (optional): a two-state Markov chain, *good* (factor 1) and *dip* (factor
  ``dip_factor``): coverage holes, tunnels, handovers. Each step a good link enters a dip with
  probability ``step_s / dip_mean_interval_s`` and a dip ends with probability
  ``step_s / dip_mean_duration_s`` (geometric durations with those means). The stationary dip
  fraction is ``pi = p_in / (p_in + p_out)``.

``mu`` is set so that the stationary mean rate is ``mean_bps``:
``E[rate] = exp(mu + s^2 / 2) (1 - pi + pi f)``. Both processes start from their stationary
distributions, and each has its own ``numpy.random.Generator`` spawned from the spec's seed.

``python -m simulator.trace_gen --out traces/`` regenerates the shipped traces bit for bit
(same numpy version: numpy keeps its Generator streams stable in practice, without a formal
guarantee across versions).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.units import MBIT


@dataclass(frozen=True)
class TraceSpec:
    """Parameters of one synthetic trace (rates in bit/s, times in s)."""

    name: str
    shaped_after: str
    mean_bps: float
    cv: float
    """Coefficient of variation of the fading factor (dips add more)."""
    correlation_s: float
    step_s: float = 1.0
    duration_s: float = 600.0
    dip_mean_interval_s: float | None = None
    dip_mean_duration_s: float | None = None
    dip_factor: float = 1.0
    seed: int = 0

    @property
    def log_sigma(self) -> float:
        """Standard deviation ``s`` of the stationary log fading factor."""
        return math.sqrt(math.log1p(self.cv**2))

    @property
    def phi(self) -> float:
        """AR(1) coefficient per step: autocorrelation of the log fading factor at lag 1."""
        return math.exp(-self.step_s / self.correlation_s)

    @property
    def dip_probabilities(self) -> tuple[float, float]:
        """Per-step probabilities of entering and of leaving a dip (0, 1 without dips)."""
        if self.dip_mean_interval_s is None or self.dip_mean_duration_s is None:
            return 0.0, 1.0
        return (min(1.0, self.step_s / self.dip_mean_interval_s),
                min(1.0, self.step_s / self.dip_mean_duration_s))

    @property
    def dip_fraction(self) -> float:
        """Stationary share of steps spent in a dip."""
        p_in, p_out = self.dip_probabilities
        return p_in / (p_in + p_out)

    @property
    def log_mu(self) -> float:
        """Mean ``mu`` of the log fading factor that gives the stationary mean ``mean_bps``."""
        pi, f = self.dip_fraction, self.dip_factor
        return math.log(self.mean_bps / (1 - pi + pi * f)) - self.log_sigma**2 / 2

    @property
    def expected_cv(self) -> float:
        """Stationary coefficient of variation of the rate, fading and dips together."""
        pi, f, s2 = self.dip_fraction, self.dip_factor, self.log_sigma**2
        second = math.exp(s2) * (1 - pi + pi * f * f) / (1 - pi + pi * f) ** 2
        return math.sqrt(second - 1)


TRACE_SPECS: dict[str, TraceSpec] = {
    spec.name: spec
    for spec in (
        TraceSpec(
            name="lte_walking",
            shaped_after="van der Hooft et al. 2016, 'HTTP/2-Based Adaptive Streaming of HEVC "
                         "Video over 4G/LTE Networks' (IEEE Communications Letters): 1-s "
                         "throughput logs of LTE on foot. Mean: the LTE uplink median of Huang "
                         "et al. 2012 (6 Mbit/s).",
            mean_bps=6 * MBIT, cv=0.5, correlation_s=10.0,
            dip_mean_interval_s=120.0, dip_mean_duration_s=3.0, dip_factor=0.2, seed=2016,
        ),
        TraceSpec(
            name="lte_driving",
            shaped_after="van der Hooft et al. 2016 LTE logs in a car and bus, and Winstein et "
                         "al. 2013 'Stochastic Forecasts Achieve High Throughput and Low Delay "
                         "over Cellular Networks' (NSDI, Sprout traces): fast fading on a time "
                         "scale of seconds, short outages. Mean 4 Mbit/s uplink (assumption).",
            mean_bps=4 * MBIT, cv=0.8, correlation_s=3.0,
            dip_mean_interval_s=60.0, dip_mean_duration_s=4.0, dip_factor=0.05, seed=2013,
        ),
        TraceSpec(
            name="hspa_commute",
            shaped_after="Riiser et al. 2013, 'Commute Path Bandwidth Traces from 3G Networks: "
                         "Analysis and Applications' (MMSys): 1-s HSPA throughput on buses, "
                         "trams and trains, with tunnels of near-zero rate. Mean 0.5 Mbit/s, "
                         "the 3g preset's uplink.",
            mean_bps=0.5 * MBIT, cv=0.6, correlation_s=8.0,
            dip_mean_interval_s=90.0, dip_mean_duration_s=10.0, dip_factor=0.02, seed=2012,
        ),
    )
}
"""The shipped traces (``traces/<name>.csv``); docs/traces.md describes each."""


def components(spec: TraceSpec, duration_s: float | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The two processes per step: fading factor (bit/s, before dips) and whether in a dip.

    ``duration_s`` overrides the spec's length (the tests draw long traces for statistics).
    """
    duration_s = spec.duration_s if duration_s is None else duration_s
    steps = round(duration_s / spec.step_s)
    fading_rng, dip_rng = (np.random.default_rng(s)
                           for s in np.random.SeedSequence(spec.seed).spawn(2))
    s, phi, mu = spec.log_sigma, spec.phi, spec.log_mu
    noise = fading_rng.standard_normal(steps)
    log_rate = np.empty(steps)
    log_rate[0] = mu + s * noise[0]
    innovation = s * math.sqrt(1 - phi * phi)
    for k in range(1, steps):
        log_rate[k] = mu + phi * (log_rate[k - 1] - mu) + innovation * noise[k]
    p_in, p_out = spec.dip_probabilities
    uniforms = dip_rng.random(steps)
    in_dip = np.zeros(steps, dtype=bool)
    state = bool(uniforms[0] < spec.dip_fraction)
    for k in range(steps):
        if k > 0:
            state = bool(uniforms[k] < (1 - p_out if state else p_in))
        in_dip[k] = state
    return np.exp(log_rate), in_dip


def generate(spec: TraceSpec, duration_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Segment start times (s) and rates (bit/s, whole numbers, at least 1) of one trace."""
    fading, in_dip = components(spec, duration_s)
    rates = fading * np.where(in_dip, spec.dip_factor, 1.0)
    times = np.arange(len(rates)) * spec.step_s
    return times, np.maximum(1.0, np.rint(rates))


def trace_csv(times_s: np.ndarray, rates_bps: np.ndarray, period_s: float) -> str:
    """CSV text of a trace; the last row marks the end of the period (rate of the first row)."""
    lines = ["time_s,bps"]
    lines += [f"{t:g},{int(r)}" for t, r in zip(times_s, rates_bps, strict=True)]
    lines.append(f"{period_s:g},{int(rates_bps[0])}")
    return "\n".join(lines) + "\n"


def write_trace(spec: TraceSpec, folder: Path) -> Path:
    """Generate ``spec`` and write ``folder/<name>.csv``; returns the path."""
    times, rates = generate(spec)
    path = folder / f"{spec.name}.csv"
    path.write_text(trace_csv(times, rates, spec.duration_s))
    return path


def trace_stats(times_s: np.ndarray, rates_bps: np.ndarray, period_s: float) -> dict[str, float]:
    """Time-weighted mean (bit/s), coefficient of variation, and 5th/95th percentiles."""
    durations = np.diff(np.append(times_s, period_s))
    weights = durations / durations.sum()
    mean = float(np.dot(weights, rates_bps))
    std = float(np.sqrt(np.dot(weights, (rates_bps - mean) ** 2)))
    order = np.argsort(rates_bps)
    cumulative = np.cumsum(weights[order])
    p5 = float(rates_bps[order][np.searchsorted(cumulative, 0.05)])
    p95 = float(rates_bps[order][np.searchsorted(cumulative, 0.95)])
    return {"mean_bps": mean, "cv": std / mean, "p5_bps": p5, "p95_bps": p95}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulator.trace_gen",
        description="Write the synthetic bit-rate traces (time_s,bps CSV) into a folder.")
    parser.add_argument("--out", type=Path, default=Path("traces"), help="folder (default traces)")
    parser.add_argument("--only", choices=sorted(TRACE_SPECS), action="append",
                        help="write only this trace (repeatable)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or list(TRACE_SPECS):
        spec = TRACE_SPECS[name]
        path = write_trace(spec, args.out)
        times, rates = generate(spec)
        stats = trace_stats(times, rates, spec.duration_s)
        print(f"wrote {path}: {len(times)} segments of {spec.step_s:g} s, mean "
              f"{stats['mean_bps'] / MBIT:.2f} Mbit/s, cv {stats['cv']:.2f}, 5-95% "
              f"{stats['p5_bps'] / MBIT:.2f}-{stats['p95_bps'] / MBIT:.2f} Mbit/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
