"""Bad scenarios and profiles: one line naming the file, the key and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.profile import load_profile
from simulator.scenario import load_scenario

from .conftest import REPO, TINY_SCENARIO, unit_profile_rows, write_profile


@pytest.mark.parametrize(("changes", "expected"), [
    ({"channel.uplnk_bps": 1.0}, "channel.uplnk_bps: unknown key; did you mean 'uplink_bps'?"),
    ({"chanel": {"x": 1}}, "chanel: unknown key; did you mean 'channel'?"),
    ({"channel.uplink_bps": -1.0}, "channel.uplink_bps: expected a number > 0, got -1.0"),
    ({"channel.uplink_bps": "fast"}, "channel.uplink_bps: expected a number, got 'fast'"),
    ({"channel.latency_s": -0.1}, "channel.latency_s: expected a number >= 0"),
    ({"workload.batch_size": 0}, "workload.batch_size: expected an integer >= 1, got 0"),
    ({"workload.batch_size": 2.5}, "workload.batch_size: expected an integer, got 2.5"),
    ({"workload.split": 7}, "workload.split: split 7 is not in profile unit.csv (allowed: 0..2"),
    ({"workload.split": "conv9"}, "workload.split: split 'conv9' is not in profile unit.csv"),
    ({"workload.profile": "missing.csv"}, "workload.profile: file not found"),
    ({"workload.optimizer": "rmsprop"}, "workload.optimizer: expected one of 'sgd'"),
    ({"workload.activation_bits": 12}, "workload.activation_bits: expected one of 8, 16, 32"),
    ({"hierarchical.send_after": "later"}, "hierarchical.send_after: expected one of 'forward'"),
    ({"hierarchical.edge_computes_while_sending": 1},
     "edge_computes_while_sending: expected true or false, got 1"),
    ({"schemes": ["sl", "hierarchical"]}, "schemes: unknown scheme 'hierarchical'"),
    ({"seed": -3}, "seed: expected an integer >= 0, got -3"),
    ({"channel.loss_rate": 1.0}, "channel.loss_rate: expected a probability in [0, 1)"),
    ({"channel.uplink_trace": "t.csv"}, "channel.uplink_bps: give exactly one of uplink_bps"),
    ({"channel.outage_windows_s": [[5.0, 2.0]]}, "outage_windows_s: expected pairs [start_s"),
    ({"channel.outage_windows_s": [5.0]}, "outage_windows_s: expected a list [a number, a"),
    ({"channel.outage_mean_interval_s": 9.0}, "give both outage_mean_interval_s and"),
    ({"fleet.devices": 0}, "fleet.devices: expected an integer >= 1, got 0"),
    ({"fleet.sl_mode": "mixed"}, "fleet.sl_mode: expected one of 'sequential', 'parallel'"),
])
def test_bad_scenario_is_one_clear_line(write_scenario: Callable[..., Path],
                                        changes: dict[str, object], expected: str) -> None:
    path = write_scenario(changes)
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_table_and_key(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[workload]\nprofile = "x.csv"\nsplit = 1\n')
    with pytest.raises(InputError, match=r"s.toml: \[edge\]: missing table"):
        load_scenario(path)
    path.write_text('[workload]\nsplit = 1\n[edge]\nfwd_flops_per_s = 1\n[cloud]\n'
                    'fwd_flops_per_s = 1\n[channel]\nuplink_bps = 1\n')
    with pytest.raises(InputError, match=r"workload.profile: missing required key"):
        load_scenario(path)


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[workload\n")
    with pytest.raises(InputError, match="broken.toml: not valid TOML"):
        load_scenario(path)
    with pytest.raises(InputError, match="nope.toml: scenario file not found"):
        load_scenario(tmp_path / "nope.toml")


@pytest.mark.parametrize(("override", "expected"), [
    ("channel.uplink_bps=abc", "channel.uplink_bps: expected a number, got 'abc'"),
    ("channel.uplink_bps=0", "channel.uplink_bps: expected a number > 0, got 0"),
    ("channel.bogus=1", "--set channel.bogus: unknown key"),
    ("radio.rate=1", "--set radio.rate: unknown section"),
    ("uplink_bps", "expected KEY=VALUE"),
])
def test_bad_override(override: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        load_scenario(TINY_SCENARIO, [override])


def test_override_is_typed_like_toml() -> None:
    scenario = load_scenario(TINY_SCENARIO, ["channel.uplink_bps=2e6", "workload.split=block2",
                                             "hierarchical.edge_computes_while_sending=false"])
    assert scenario.channel.uplink_bps == 2e6
    assert scenario.split_index == 2
    assert scenario.hierarchical.edge_computes_while_sending is False


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("edge_fwd_flops", -5, "column edge_fwd_flops, line 3: -5 is not a finite number >= 0"),
    ("activation_bytes", "lots", "column activation_bytes, line 3: 'lots' is not a finite"),
    ("split", 7, "column split must count 0, 1, ..., 2 in order"),
])
def test_bad_profile_values(tmp_path: Path, column: str, value: object, expected: str) -> None:
    rows = unit_profile_rows()
    rows[1][column] = value  # line 3 of the file, after the header and split 0
    path = write_profile(tmp_path / "p.csv", rows)
    with pytest.raises(InputError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_profile(path)


def test_profile_missing_column_and_repeated_name(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "cloud_bwd_flops_ht"} for r in unit_profile_rows()]
    with pytest.raises(InputError, match="p.csv: missing column"):
        load_profile(write_profile(tmp_path / "p.csv", rows))
    rows = unit_profile_rows()
    rows[2]["split_name"] = "mid"
    with pytest.raises(InputError, match="repeated name 'mid'"):
        load_profile(write_profile(tmp_path / "q.csv", rows))


def test_cli_bad_scenario_prints_one_line_and_exits_2(write_scenario: Callable[..., Path]) -> None:
    path = write_scenario({"workload.batch_size": 0})
    done = subprocess.run([sys.executable, "-m", "simulator", "simulate", str(path)],
                          capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
    assert "workload.batch_size: expected an integer >= 1, got 0" in done.stderr
