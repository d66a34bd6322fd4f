"""Presets in scenarios: a preset fills a table, explicit keys override it, unknown ones fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.presets import CHANNEL_PRESETS, DEVICE_PRESETS
from simulator.scenario import load_scenario


def test_preset_fills_and_keys_override(write_scenario: Callable[..., Path]) -> None:
    path = write_scenario({"channel": {"preset": "4g", "latency_s": 0.1},
                           "edge": {"preset": "jetson_nano"}})
    scenario = load_scenario(path)
    assert scenario.channel.uplink_bps == CHANNEL_PRESETS["4g"]["uplink_bps"]
    assert scenario.channel.latency_s == 0.1
    assert scenario.edge.fwd_flops_per_s == DEVICE_PRESETS["jetson_nano"]["fwd_flops_per_s"]


def test_unknown_preset(write_scenario: Callable[..., Path]) -> None:
    path = write_scenario({"channel": {"preset": "6g"}})
    with pytest.raises(InputError, match=r"channel.preset: unknown preset '6g'.*allowed: 3g"):
        load_scenario(path)
