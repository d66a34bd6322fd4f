"""Channel features: traces and outages by hand, jitter and loss against their means."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from simulator.channel import LinkTimeline, Outages, load_rate_trace
from simulator.errors import InputError
from simulator.scenario import Scenario
from simulator.simulate import simulate_scheme


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """1 byte/s for 1 s, then 2 bytes/s for 2 s; repeats every 3 s."""
    path = tmp_path / "trace.csv"
    path.write_text("time_s,bps\n0,8\n1,16\n3,0\n")
    return path


def test_message_crossing_rate_changes(trace: Path) -> None:
    timeline = LinkTimeline(None, load_rate_trace(trace), Outages())
    # 5 bytes from 0.5 s: 0.5 B by 1 s, 4 B more by 3 s, the last 0.5 B at 1 B/s after the loop.
    assert timeline.finish_s(0.5, 5 * 8) == pytest.approx(3.5)
    # Starting in the second period at 4 s (2 B/s): 5 B take 2 s of the fast segment... which
    # ends at 6 s holding 4 B; the last byte takes 1 s at 1 B/s.
    assert timeline.finish_s(4.0, 5 * 8) == pytest.approx(7.0)


def test_outage_pauses_a_transfer(trace: Path) -> None:
    timeline = LinkTimeline(None, load_rate_trace(trace), Outages(scheduled=[(0.7, 1.2)]))
    # 0.2 B by 0.7 s; down until 1.2; 3.6 B by 3 s; 1 B by 4 s; 0.2 B at 2 B/s → 4.1 s.
    assert timeline.finish_s(0.5, 5 * 8) == pytest.approx(4.1)
    constant = LinkTimeline(8.0, None, Outages(scheduled=[(1.0, 3.0), (4.0, 5.0)]))
    assert constant.finish_s(0.0, 4 * 8) == pytest.approx(7.0)
    assert constant.outages.down_s(10.0) == pytest.approx(3.0)


def test_trace_in_a_scenario(make_scenario: Callable[..., Scenario], trace: Path) -> None:
    """One SL batch (unit profile, batch 1) whose 100-byte upload follows the trace."""
    scenario = make_scenario({"channel.uplink_bps": None, "channel.uplink_trace": str(trace),
                              "channel.downlink_bps": 8e9, "channel.latency_s": 0.0,
                              "workload.samples_per_epoch": 1})
    result = simulate_scheme(scenario, "sl", "des")
    # edge forward 100 s; upload starts at 100 s = 33 periods + 1 s (2 B/s for 2 s, then a
    # 1 B/s second: 5 B per 3-s period) → 100 B take 20 periods = 60 s; cloud 6 s; gradient
    # 92 B at 1 GB/s; edge backward 100 s.
    assert result.total_s == pytest.approx(100 + 60 + 6 + 92 * 8 / 8e9 + 100)
    assert result.method == "des"


@pytest.mark.parametrize("bad", ["time_s,bps\n0,8\n", "time_s,bps\n1,8\n2,0\n",
                                 "time_s,bps\n0,-8\n2,0\n", "t,r\n0,8\n1,0\n",
                                 "time_s,bps\n0,0\n1,0\n"])
def test_bad_traces(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(bad)
    with pytest.raises(InputError, match="bad.csv"):
        load_rate_trace(path)


def sl_many(make_scenario: Callable[..., Scenario], **changes: object) -> Scenario:
    """2,000 SL batches of one sample: one message in flight at a time, so no reordering."""
    return make_scenario({"workload.samples_per_epoch": 2000, "edge.fwd_flops_per_s": 1e6,
                          "cloud.fwd_flops_per_s": 1e6, "channel.uplink_bps": 8e6,
                          "channel.latency_s": 0.01, **changes})


def test_jitter_adds_its_mean_per_message(make_scenario: Callable[..., Scenario]) -> None:
    base = simulate_scheme(sl_many(make_scenario), "sl", "des").total_s
    jitter_s = 0.02
    noisy = simulate_scheme(sl_many(make_scenario, **{"channel.jitter_s": jitter_s}), "sl",
                            "des").total_s
    # 4,000 exponential delays (2 per batch): their sum has relative sd 1/sqrt(4000) = 1.6%;
    # the tolerance is 4 sd.
    assert (noisy - base) / (4000 * jitter_s) == pytest.approx(1.0, abs=4 / np.sqrt(4000))


def test_loss_retransmits_packets(make_scenario: Callable[..., Scenario]) -> None:
    """Messages of 100 B in packets of 10 B: 10 packets each, 20,000 per direction."""
    p = 0.1
    changes = {"channel.packet_payload_bytes": 10, "channel.loss_rate": p,
               "channel.retransmission_timeout_s": 0.0}
    lossy = simulate_scheme(sl_many(make_scenario, **changes), "sl", "des")
    clean = simulate_scheme(sl_many(make_scenario, **{**changes, "channel.loss_rate": 0.0}),
                            "sl", "des")
    # Each packet is sent a geometric number of times, mean 1/(1-p); per-packet sd
    # sqrt(p)/(1-p) = 0.35, so the mean over 20,000 packets has sd 0.0025 (0.2%); tolerance 1%.
    assert lossy.up_wire_bytes / clean.up_wire_bytes == pytest.approx(1 / (1 - p), rel=0.01)
    assert lossy.up_payload_bytes == clean.up_payload_bytes


def test_retransmission_rounds_delay_arrival(make_scenario: Callable[..., Scenario]) -> None:
    """One-packet messages: rounds per message are geometric − 1, mean p / (1 − p)."""
    p, rto_s = 0.2, 0.5
    changes = {"channel.loss_rate": p, "channel.retransmission_timeout_s": rto_s}
    lossy = simulate_scheme(sl_many(make_scenario, **changes), "sl", "des")
    clean = simulate_scheme(sl_many(make_scenario, **{**changes, "channel.loss_rate": 0.0}),
                            "sl", "des")
    messages = 4000
    per_message = (lossy.total_s - clean.total_s) / messages
    packet_s = 100 * 8 / 8e6  # every retransmission also occupies the link (≈ 92 B downlink)
    # Rounds per message: mean p/(1-p) = 0.25, sd sqrt(p)/(1-p) = 0.56; over 4,000 messages the
    # mean has sd 0.009 (3.5% of 0.25); tolerance 4 sd ≈ 14%.
    assert per_message / ((rto_s + packet_s) * p / (1 - p)) == pytest.approx(1.0, rel=0.14)


def test_random_features_are_deterministic(make_scenario: Callable[..., Scenario]) -> None:
    changes = {"channel.jitter_s": 0.5, "channel.loss_rate": 0.05,
               "channel.outage_mean_interval_s": 300.0, "channel.outage_mean_duration_s": 20.0,
               "workload.samples_per_epoch": 50}
    for scheme in ("sl", "ht", "cloud_only"):
        first = simulate_scheme(make_scenario(changes), scheme, "des")
        again = simulate_scheme(make_scenario(changes), scheme, "des")
        other = simulate_scheme(make_scenario({**changes, "seed": 1}), scheme, "des")
        assert first.spans == again.spans
        assert first.total_s == again.total_s
        assert first.spans != other.spans  # another seed draws other delays and losses
        assert first.method == "des"


def test_outages_stall_split_learning_but_not_the_edge_in_ht(
    make_scenario: Callable[..., Scenario],
) -> None:
    """Unit profile, 6 batches; the link is down from 150 s to 1,150 s."""
    changes = {"workload.samples_per_epoch": 6, "channel.outage_windows_s": [[150.0, 1150.0]],
               "hierarchical.max_batches_in_flight": 4}
    window = (150.0, 1150.0)
    for scheme in ("sl", "ht"):
        result = simulate_scheme(make_scenario(changes), scheme, "des")
        clean = simulate_scheme(make_scenario({"workload.samples_per_epoch": 6}), scheme, "des")
        assert result.outage_lost_s == pytest.approx(result.total_s - clean.total_s)
        assert result.outage_lost_s > 0
        edge_work_s = sum(min(s.end_s, window[1]) - max(s.start_s, window[0])
                          for s in result.spans
                          if s.resource == "edge" and s.end_s > window[0] and s.start_s < window[1])
        if scheme == "sl":
            assert edge_work_s == 0  # waiting for a gradient that cannot come
        else:
            # Batch 0's upload stalls at 150 s. The edge goes on: the rest of batch 0 (80 s
            # inside the window), batches 1-3 (230 s each), batch 4's forward (100 s); then all
            # 4 slots are taken until batch 0's ack at 1,215 s.
            assert edge_work_s == pytest.approx(80 + 3 * 230 + 100)
