"""The DES equals the closed form to 1e-9 relative when nothing is random."""

from __future__ import annotations

import itertools

import pytest

from simulator.scenario import load_scenario
from simulator.simulate import simulate_scheme

from .conftest import TINY_SCENARIO

RATES_BPS = (1e5, 1e6, 1e7, 1e8, 1e9, 1e10)
GRID = list(itertools.product(
    RATES_BPS,
    (0, 1, 2, 3),            # split points, including nothing / everything on the edge
    (1, 2, 8),               # batches in flight
    ("forward", "update"),   # send after
    (True, False),           # edge computes while sending
))


@pytest.mark.parametrize(("rate_bps", "split", "window", "send_after", "overlap"), GRID)
def test_des_equals_closed_form(rate_bps: float, split: int, window: int, send_after: str,
                                overlap: bool) -> None:
    # 1000 samples at batch 32: 31 full batches and a partial one of 8 samples.
    scenario = load_scenario(TINY_SCENARIO, [
        f"channel.uplink_bps={rate_bps}", f"workload.split={split}",
        f"hierarchical.max_batches_in_flight={window}", f'hierarchical.send_after="{send_after}"',
        f"hierarchical.edge_computes_while_sending={str(overlap).lower()}",
        "channel.latency_s=0.05",
    ])
    for scheme in ("sl", "ht"):
        des = simulate_scheme(scenario, scheme, "des", keep_spans=False)
        closed = simulate_scheme(scenario, scheme, "closed_form")
        assert des.total_s == pytest.approx(closed.total_s, rel=1e-9, abs=0)
        for a, b in zip(des.epoch_s, closed.epoch_s, strict=True):
            assert a == pytest.approx(b, rel=1e-9, abs=0)
        for resource, busy in closed.busy_s.items():
            assert des.busy_s[resource] == pytest.approx(busy, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("samples", [1, 31, 32, 33, 100, 320])
@pytest.mark.parametrize("upload", ["once", "per_batch"])
def test_baselines_and_partial_batches(samples: int, upload: str) -> None:
    scenario = load_scenario(TINY_SCENARIO, [
        f"workload.samples_per_epoch={samples}", f'cloud_only.upload="{upload}"',
        "hierarchical.max_batches_in_flight=2", "channel.uplink_bps=3e5",
    ])
    for scheme in scenario.schemes:
        des = simulate_scheme(scenario, scheme, "des", keep_spans=False)
        closed = simulate_scheme(scenario, scheme, "closed_form")
        assert des.total_s == pytest.approx(closed.total_s, rel=1e-9, abs=0)
        assert des.up_wire_bytes == closed.up_wire_bytes
