"""Presets: valid scenario keys, plausible values, a source for each, usable from a scenario."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from simulator.presets import CHANNEL_PRESETS, DEVICE_PRESETS, PRESET_SOURCES
from simulator.scenario import Channel, Device, scenario_from_dict

from .conftest import TINY_PROFILE

EDGE_KEYS = {"fwd_flops_per_s", "bwd_flops_per_s", "step_overhead_s", "memory_bytes",
             "busy_power_w", "idle_power_w", "radio_tx_j_per_bit", "radio_rx_j_per_bit"}
SERVER_KEYS = EDGE_KEYS - {"radio_tx_j_per_bit", "radio_rx_j_per_bit"}


def test_every_preset_has_a_source_or_a_stated_assumption() -> None:
    assert set(PRESET_SOURCES) == set(CHANNEL_PRESETS) | set(DEVICE_PRESETS)
    for name, text in PRESET_SOURCES.items():
        assert len(text) > 40, name
        assert any(word in text for word in ("20", "assumption")), name


def test_keys_are_fields_of_the_scenario_tables_and_values_are_finite() -> None:
    channel_fields = {f.name for f in dataclasses.fields(Channel)}
    device_fields = {f.name for f in dataclasses.fields(Device)}
    for values in CHANNEL_PRESETS.values():
        assert set(values) <= channel_fields
        assert {"uplink_bps", "downlink_bps", "latency_s"} <= set(values)
    for name, values in DEVICE_PRESETS.items():
        assert set(values) <= device_fields
        assert set(values) in (EDGE_KEYS, SERVER_KEYS), name
        assert all(math.isfinite(v) and v >= 0 for v in values.values())
        # Effective throughput is below peak: backward no faster than forward.
        assert values["bwd_flops_per_s"] <= values["fwd_flops_per_s"]
        assert values["idle_power_w"] < values["busy_power_w"]


def test_servers_outrun_edge_devices_and_links_are_ordered() -> None:
    slowest_server = min(DEVICE_PRESETS[s]["fwd_flops_per_s"] for s in ("a100", "t4"))
    fastest_edge = max(v["fwd_flops_per_s"] for v in DEVICE_PRESETS.values()
                       if "radio_tx_j_per_bit" in v)
    assert slowest_server > 10 * fastest_edge
    up = [CHANNEL_PRESETS[c]["uplink_bps"] for c in ("3g", "4g", "5g")]
    assert up == sorted(up)


@pytest.mark.parametrize("channel", sorted(CHANNEL_PRESETS))
@pytest.mark.parametrize("edge", sorted(n for n, v in DEVICE_PRESETS.items()
                                        if "radio_tx_j_per_bit" in v))
def test_presets_load_in_a_scenario_and_explicit_keys_override(channel: str, edge: str) -> None:
    data = {
        "workload": {"profile": str(TINY_PROFILE), "split": 1},
        "edge": {"preset": edge, "memory_bytes": 1e9},
        "cloud": {"preset": "a100"},
        "channel": {"preset": channel, "latency_s": 0.5},
    }
    scenario = scenario_from_dict(data, "presets.toml", Path("."))
    assert scenario.edge.fwd_flops_per_s == DEVICE_PRESETS[edge]["fwd_flops_per_s"]
    assert scenario.edge.memory_bytes == 1e9
    assert scenario.channel.latency_s == 0.5
    assert scenario.channel.uplink_bps == CHANNEL_PRESETS[channel]["uplink_bps"]
