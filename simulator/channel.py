"""The channel over time: rate traces, outages, packet loss and jitter of one link direction.

A message of S payload bytes becomes ``wire_bytes(S)`` on the wire (a header per packet). It
occupies its link from the moment the link is free until those bits have been carried at the
link's rate, which may follow a looping trace and drops to zero during outages. Then it arrives
after a propagation delay: the latency, plus an exponentially distributed jitter of mean
``jitter_s``. Messages on one link arrive in the order they were sent (as over TCP).

Packet loss: each packet is lost independently with probability ``loss_rate`` and sent again
until it gets through, so a packet takes a geometric number of transmissions. Retransmissions
occupy the link; each round of retransmission also delays the message's arrival by
``retransmission_timeout_s`` (the sender notices a loss only after that timeout).

Every random draw comes from its own ``numpy.random.Generator``, derived from the scenario seed
and a fixed key per source (see :func:`source_rng`), so adding a source never shifts another.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.errors import InputError
from simulator.tables import read_csv_table

SOURCE_KEYS = {
    "uplink_jitter": 1,
    "uplink_loss": 2,
    "downlink_jitter": 3,
    "downlink_loss": 4,
    "outages": 5,
}
"""Fixed spawn keys of the random sources; per edge device, the device index is added."""


def source_rng(seed: int, source: str, device: int = 0) -> np.random.Generator:
    """The generator of one random source of one device, independent of all others."""
    sequence = np.random.SeedSequence(entropy=seed, spawn_key=(SOURCE_KEYS[source], device))
    return np.random.default_rng(sequence)


@dataclass(frozen=True)
class RateTrace:
    """A piecewise-constant bit rate that repeats every ``period_s`` seconds.

    Segment i runs from ``times_s[i]`` to ``times_s[i + 1]`` (the last one to ``period_s``) at
    ``rates_bps[i]``.
    """

    times_s: tuple[float, ...]
    rates_bps: tuple[float, ...]
    period_s: float

    def rate_at(self, time_s: float) -> tuple[float, float]:
        """Rate at ``time_s`` and the time at which it next changes."""
        cycles, phase = divmod(time_s, self.period_s)
        i = bisect.bisect_right(self.times_s, phase) - 1
        end = self.times_s[i + 1] if i + 1 < len(self.times_s) else self.period_s
        return self.rates_bps[i], cycles * self.period_s + end

    @property
    def mean_bps(self) -> float:
        edges = (*self.times_s, self.period_s)
        durations = np.diff(edges)
        return float(np.dot(durations, self.rates_bps) / self.period_s)


def load_rate_trace(path: Path) -> RateTrace:
    """Read a trace CSV (``time_s,bps``; the last row marks the end of the period)."""
    frame = read_csv_table(path, "trace")
    if list(frame.columns[:2]) != ["time_s", "bps"]:
        raise InputError(f"{path}: expected columns time_s,bps, found {list(frame.columns)}")
    times = pd.to_numeric(frame["time_s"], errors="coerce").to_numpy(float)
    rates = pd.to_numeric(frame["bps"], errors="coerce").to_numpy(float)
    if len(times) < 2:
        raise InputError(f"{path}: needs at least two rows (a segment and the end of the period)")
    if not (np.isfinite(times).all() and np.isfinite(rates).all()) or (rates < 0).any():
        raise InputError(f"{path}: time_s and bps must be finite numbers, bps >= 0")
    if times[0] != 0 or (np.diff(times) <= 0).any():
        raise InputError(f"{path}: time_s must start at 0 and increase strictly")
    if not (rates[:-1] > 0).any():
        raise InputError(f"{path}: every rate is 0; the link would never carry anything")
    return RateTrace(tuple(times[:-1]), tuple(rates[:-1]), float(times[-1]))


@dataclass
class Outages:
    """Windows during which the link carries nothing: scheduled ones and a random on/off process.

    The random process alternates up periods (exponential, mean ``mean_interval_s``) and outages
    (exponential, mean ``mean_duration_s``), starting up at time 0; windows are drawn lazily.
    """

    scheduled: list[tuple[float, float]] = field(default_factory=list)
    mean_interval_s: float | None = None
    mean_duration_s: float | None = None
    rng: np.random.Generator | None = None
    _random: list[tuple[float, float]] = field(default_factory=list)
    _drawn_until_s: float = 0.0

    @property
    def any(self) -> bool:
        return bool(self.scheduled) or self.mean_interval_s is not None

    def _draw_until(self, time_s: float) -> None:
        if self.mean_interval_s is None or self.mean_duration_s is None or self.rng is None:
            return
        while self._drawn_until_s <= time_s:
            start = self._drawn_until_s + self.rng.exponential(self.mean_interval_s)
            end = start + self.rng.exponential(self.mean_duration_s)
            self._random.append((start, end))
            self._drawn_until_s = end

    def next_window(self, time_s: float) -> tuple[float, float] | None:
        """The first window that ends after ``time_s`` (it may already have begun)."""
        self._draw_until(time_s)
        candidates = [w for w in self.scheduled if w[1] > time_s]
        candidates += [w for w in self._random if w[1] > time_s][:1]
        return min(candidates) if candidates else None

    def down_s(self, until_s: float) -> float:
        """Total outage time in [0, until_s]."""
        self._draw_until(until_s)
        windows = sorted(self.scheduled + self._random)
        total, covered = 0.0, 0.0
        for start, end in windows:
            start, end = max(start, covered), min(end, until_s)
            if end > start:
                total += end - start
                covered = end
        return total


@dataclass
class LinkTimeline:
    """When a transfer of a given number of bits ends, starting at a given time."""

    rate_bps: float | None
    trace: RateTrace | None
    outages: Outages

    @property
    def constant(self) -> bool:
        return self.trace is None and not self.outages.any

    def finish_s(self, start_s: float, bits: float) -> float:
        """End of a transfer of ``bits`` that starts at ``start_s`` (waits out outages)."""
        if self.constant:
            assert self.rate_bps is not None
            return start_s + bits / self.rate_bps
        t, remaining = start_s, bits
        while remaining > 0:
            window = self.outages.next_window(t)
            if window is not None and window[0] <= t:
                t = window[1]
                continue
            if self.trace is not None:
                rate, change_s = self.trace.rate_at(t)
            else:
                assert self.rate_bps is not None
                rate, change_s = self.rate_bps, math.inf
            segment_end = min(change_s, window[0] if window is not None else math.inf)
            if rate > 0 and rate * (segment_end - t) >= remaining:
                return t + remaining / rate
            remaining -= rate * (segment_end - t)
            t = segment_end
        return t


def transmissions_per_packet(rng: np.random.Generator, packets: int,
                             loss_rate: float) -> np.ndarray:
    """Number of times each of ``packets`` packets is sent until it gets through (≥ 1)."""
    return rng.geometric(1.0 - loss_rate, size=packets)
