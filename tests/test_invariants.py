"""Metamorphic relations of design.md §5, on random scenarios (hypothesis)."""

from __future__ import annotations

import dataclasses
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.scenario import load_scenario
from simulator.simulate import simulate_scheme

from .conftest import TINY_SCENARIO

scenarios = st.fixed_dictionaries({
    "channel.uplink_bps": st.floats(1e4, 1e10),
    "channel.downlink_bps": st.floats(1e4, 1e10),
    "channel.latency_s": st.floats(0, 0.5),
    "edge.fwd_flops_per_s": st.floats(1e7, 1e12),
    "edge.step_overhead_s": st.floats(0, 0.05),
    "cloud.fwd_flops_per_s": st.floats(1e9, 1e14),
    "workload.split": st.integers(0, 3),
    "workload.batch_size": st.integers(1, 64),
    "workload.samples_per_epoch": st.integers(1, 300),
    "hierarchical.max_batches_in_flight": st.integers(1, 6),
    "hierarchical.send_after": st.sampled_from(['"forward"', '"update"']),
    "hierarchical.edge_computes_while_sending": st.sampled_from(["true", "false"]),
    "cloud_only.upload": st.sampled_from(['"once"', '"per_batch"']),
})
SCHEMES = ("sl", "ht", "cloud_only", "edge_only")


def load(params: dict[str, Any], **changes: Any) -> Any:
    merged = {**params, **changes}
    return load_scenario(TINY_SCENARIO, [f"{k}={v}" for k, v in merged.items()])


def total(params: dict[str, Any], scheme: str, method: str = "des", **changes: Any) -> float:
    return simulate_scheme(load(params, **changes), scheme, method, keep_spans=False).total_s  # type: ignore[arg-type]


@settings(max_examples=40, deadline=None)
@given(scenarios, st.floats(1.01, 100))
def test_more_bandwidth_is_never_slower(params: dict[str, Any], factor: float) -> None:
    faster = params["channel.uplink_bps"] * factor
    for scheme in SCHEMES:
        assert total(params, scheme, **{"channel.uplink_bps": faster}) <= total(params, scheme)


@settings(max_examples=40, deadline=None)
@given(scenarios, st.floats(1.01, 100))
def test_faster_devices_are_never_slower(params: dict[str, Any], factor: float) -> None:
    for key in ("edge.fwd_flops_per_s", "cloud.fwd_flops_per_s"):
        for scheme in SCHEMES:
            quicker = {key: params[key] * factor}
            assert total(params, scheme, **quicker) <= total(params, scheme)


@settings(max_examples=30, deadline=None)
@given(scenarios)
def test_split_after_the_last_layer_equals_edge_only(params: dict[str, Any]) -> None:
    edge_only = total(params, "edge_only")
    assert total(params, "sl", **{"workload.split": 3}) == edge_only
    assert total(params, "ht", **{"workload.split": 3}) == edge_only


@settings(max_examples=60, deadline=None)
@given(scenarios)
def test_hierarchical_is_never_slower_when_the_exit_is_free(params: dict[str, Any]) -> None:
    """Free exit: the HT batch is the SL batch minus the gradient and the input-gradient FLOPs."""
    scenario = load(params)
    splits = tuple(dataclasses.replace(s, exit_fwd_flops=0.0, exit_bwd_flops=0.0)
                   for s in scenario.profile.splits)
    scenario = dataclasses.replace(
        scenario, profile=dataclasses.replace(scenario.profile, splits=splits))
    ht = simulate_scheme(scenario, "ht", "des", keep_spans=False).total_s
    sl = simulate_scheme(scenario, "sl", "des", keep_spans=False).total_s
    assert ht <= sl * (1 + 1e-12)


@settings(max_examples=20, deadline=None)
@given(scenarios)
def test_same_scenario_same_numbers(params: dict[str, Any]) -> None:
    for scheme in SCHEMES:
        first = simulate_scheme(load(params), scheme, "des")
        again = simulate_scheme(load(params), scheme, "des")
        assert first.spans == again.spans
        assert first.total_s == again.total_s
