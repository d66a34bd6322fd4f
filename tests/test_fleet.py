"""Several edge devices sharing one cloud server, and edge energy."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.scenario import Scenario, load_scenario
from simulator.simulate import closed_form_applies, simulate_scheme

from .conftest import TINY_SCENARIO

SCHEMES = ("sl", "ht", "cloud_only", "edge_only")


def test_one_device_equals_the_single_device_model(
    make_scenario: Callable[..., Scenario],
) -> None:
    for mode in ("sequential", "parallel"):
        fleet = make_scenario({"fleet.devices": 1, "fleet.sl_mode": mode,
                               "fleet.shared_uplink": True})
        for scheme in SCHEMES:
            assert simulate_scheme(fleet, scheme, "des").spans == simulate_scheme(
                make_scenario(), scheme, "des").spans


def test_vanilla_split_learning_trains_devices_in_turn(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Two identical devices: 816 s each (see test_engine_log) plus the weights' relay."""
    two = simulate_scheme(make_scenario({"fleet.devices": 2}), "sl", "des")
    # edge weights: 400 B up (400 s) + 5 s, then 400 B down + 5 s
    assert two.total_s == pytest.approx(816 + 810 + 816)
    assert two.device_s[0] == pytest.approx(816 + 400)  # its last upload (the weights)
    assert two.instances == {"edge": 2, "uplink": 2, "downlink": 2, "cloud": 1}


def test_splitfed_runs_devices_at_once_and_averages_weights(
    make_scenario: Callable[..., Scenario],
) -> None:
    two = simulate_scheme(make_scenario({"fleet.devices": 2, "fleet.sl_mode": "parallel"}),
                          "sl", "des")
    # Both devices in parallel; their cloud steps (6 s) queue, so device 1 ends 6 s later at
    # worst; then 405 s up and 405 s down for the weights.
    assert 816 + 810 <= two.total_s <= 816 + 12 + 810
    assert two.busy_s["cloud"] == pytest.approx(2 * 2 * 6)


def test_ht_queues_every_devices_batches_at_the_cloud(
    make_scenario: Callable[..., Scenario],
) -> None:
    one = simulate_scheme(make_scenario({"workload.samples_per_epoch": 20}), "ht", "des")
    three = simulate_scheme(make_scenario({"workload.samples_per_epoch": 20,
                                           "fleet.devices": 3}), "ht", "des")
    assert three.busy_s["cloud"] == pytest.approx(3 * one.busy_s["cloud"])
    assert three.busy_fraction("cloud") == pytest.approx(3 * one.busy_fraction("cloud"),
                                                         rel=0.05)


fleets = st.fixed_dictionaries({
    "channel.uplink_bps": st.floats(1e4, 1e8),
    "channel.latency_s": st.floats(0, 0.2),
    "edge.fwd_flops_per_s": st.floats(1e7, 1e11),
    "cloud.fwd_flops_per_s": st.floats(1e8, 1e11),
    "workload.split": st.integers(0, 3),
    "workload.samples_per_epoch": st.integers(1, 200),
    "fleet.shared_uplink": st.sampled_from(["true", "false"]),
    "fleet.sl_mode": st.sampled_from(['"sequential"', '"parallel"']),
    "cloud_only.upload": st.sampled_from(['"once"', '"per_batch"']),
})


@settings(max_examples=25, deadline=None)
@given(fleets, st.integers(2, 4))
def test_adding_devices_never_makes_the_others_faster(params: dict[str, Any],
                                                      devices: int) -> None:
    sets = [f"{k}={v}" for k, v in params.items()]
    for scheme in SCHEMES:
        fewer = simulate_scheme(load_scenario(TINY_SCENARIO, [*sets, "fleet.devices=1"]),
                                scheme, "des", keep_spans=False)
        more = simulate_scheme(load_scenario(TINY_SCENARIO, [*sets, f"fleet.devices={devices}"]),
                               scheme, "des", keep_spans=False)
        assert more.device_s[0] >= fewer.device_s[0] * (1 - 1e-12)
        assert more.total_s >= fewer.total_s * (1 - 1e-12)


def test_a_fleet_is_not_closed_form(make_scenario: Callable[..., Scenario]) -> None:
    scenario = make_scenario({"fleet.devices": 2})
    assert not closed_form_applies(scenario)
    assert simulate_scheme(scenario, "ht", "auto").method == "des"
    with pytest.raises(InputError, match="closed_form needs one edge device"):
        simulate_scheme(scenario, "ht", "closed_form")


def test_slower_device_in_speed_factors(make_scenario: Callable[..., Scenario]) -> None:
    result = simulate_scheme(make_scenario({"fleet.devices": 2,
                                            "fleet.edge_speed_factors": [1.0, 0.5]}),
                             "edge_only", "des")
    assert result.device_s == pytest.approx((1600.0, 3200.0))
    with pytest.raises(InputError, match="edge_speed_factors: expected 2 numbers"):
        make_scenario({"fleet.devices": 2, "fleet.edge_speed_factors": [1.0]})


def test_energy_by_hand(make_scenario: Callable[..., Scenario]) -> None:
    power = {"edge.busy_power_w": 5.0, "edge.idle_power_w": 1.0,
             "edge.radio_tx_j_per_bit": 1e-3, "edge.radio_rx_j_per_bit": 5e-4}
    ht = simulate_scheme(make_scenario(power), "ht", "des")
    # HT (see test_engine_log): busy 460 of 460 s; 200 B sent, nothing received.
    assert ht.edge_energy_j == pytest.approx(5 * 460 + 1e-3 * 200 * 8)
    sl = simulate_scheme(make_scenario(power), "sl", "des")
    # SL: busy 400 of 816 s; 200 B sent, 184 B received.
    assert sl.edge_energy_j == pytest.approx(5 * 400 + 1 * 416 + 1e-3 * 1600 + 5e-4 * 184 * 8)
    closed = simulate_scheme(make_scenario(power), "sl", "closed_form")
    assert closed.edge_energy_j == pytest.approx(sl.edge_energy_j)
    assert math.isnan(simulate_scheme(make_scenario(), "sl", "des").edge_energy_j)
