"""SimPy wiring: 2-batch runs with round constant costs give exact span logs.

Unit profile at split 1, batch 1, 2 samples: edge 1 FLOP/s, cloud 100 FLOP/s, links 1 byte/s,
latency 5 s, no packet headers. Per batch: edge forward 100 s, exit 30 s, edge backward 100 s,
upload 92 + 8 = 100 s, cloud SL 2 + 4 s, cloud HT 2 + 3 s, SL gradient 92 s.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.records import Span
from simulator.scenario import Scenario
from simulator.simulate import simulate_scheme


def log(scenario: Scenario, scheme: str) -> list[tuple[str, str, int, float, float]]:
    result = simulate_scheme(scenario, scheme, "des")  # type: ignore[arg-type]
    spans: list[Span] = sorted(result.spans, key=lambda s: (s.start_s, s.resource, s.kind))
    return [(s.resource, s.kind, s.batch, s.start_s, s.end_s) for s in spans]


def test_split_learning_log(make_scenario: Callable[..., Scenario]) -> None:
    assert log(make_scenario(), "sl") == [
        ("edge", "fwd", 0, 0, 100),
        ("uplink", "send", 0, 100, 200),
        ("cloud", "fwd", 0, 205, 207),
        ("cloud", "bwd", 0, 207, 211),
        ("downlink", "send", 0, 211, 303),
        ("edge", "bwd", 0, 308, 408),
        ("edge", "fwd", 1, 408, 508),
        ("uplink", "send", 1, 508, 608),
        ("cloud", "fwd", 1, 613, 615),
        ("cloud", "bwd", 1, 615, 619),
        ("downlink", "send", 1, 619, 711),
        ("edge", "bwd", 1, 716, 816),
    ]


def test_hierarchical_log_overlaps_transfer_with_edge_work(
    make_scenario: Callable[..., Scenario],
) -> None:
    assert log(make_scenario(), "ht") == [
        ("edge", "fwd", 0, 0, 100),
        ("edge", "exit", 0, 100, 130),
        ("uplink", "send", 0, 100, 200),
        ("edge", "bwd", 0, 130, 230),
        ("cloud", "fwd", 0, 205, 207),
        ("cloud", "bwd", 0, 207, 210),
        ("edge", "fwd", 1, 230, 330),
        ("edge", "exit", 1, 330, 360),
        ("uplink", "send", 1, 330, 430),
        ("edge", "bwd", 1, 360, 460),
        ("cloud", "fwd", 1, 435, 437),
        ("cloud", "bwd", 1, 437, 440),
    ]
    result = simulate_scheme(make_scenario(), "ht", "des")
    assert result.total_s == 460  # the edge finishes last
    assert result.busy_s == {"edge": 460, "uplink": 200, "cloud": 10, "downlink": 0}


def test_send_after_update_and_radio_occupying_the_edge(
    make_scenario: Callable[..., Scenario],
) -> None:
    scenario = make_scenario({"hierarchical.send_after": "update",
                              "hierarchical.edge_computes_while_sending": False})
    assert log(scenario, "ht") == [
        ("edge", "fwd", 0, 0, 100),
        ("edge", "exit", 0, 100, 130),
        ("edge", "bwd", 0, 130, 230),
        ("edge", "send", 0, 230, 330),
        ("uplink", "send", 0, 230, 330),
        ("edge", "fwd", 1, 330, 430),
        ("cloud", "fwd", 0, 335, 337),
        ("cloud", "bwd", 0, 337, 340),
        ("edge", "exit", 1, 430, 460),
        ("edge", "bwd", 1, 460, 560),
        ("edge", "send", 1, 560, 660),
        ("uplink", "send", 1, 560, 660),
        ("cloud", "fwd", 1, 665, 667),
        ("cloud", "bwd", 1, 667, 670),
    ]
    assert simulate_scheme(scenario, "ht", "des").total_s == 670


def test_full_window_blocks_the_edge(make_scenario: Callable[..., Scenario]) -> None:
    """Uplink 0.1 B/s: uploads take 1000 s. With one slot, batch 1 waits for batch 0's ack."""
    slow = {"channel.uplink_bps": 0.8}
    one = simulate_scheme(make_scenario({**slow, "hierarchical.max_batches_in_flight": 1}),
                          "ht", "des")
    two = simulate_scheme(make_scenario({**slow, "hierarchical.max_batches_in_flight": 2}),
                          "ht", "des")
    # one slot: S1 = A0 + L = 1110 + 5, U1 = 2115, A1 = 2125
    assert one.total_s == 2125
    assert one.peak_batches_in_flight == 1
    # two slots: S1 = 330, U1 = max(330, 1100) + 1000, A1 = 2110
    assert two.total_s == 2110
    assert two.peak_batches_in_flight == 2
    assert two.peak_uplink_queue == 2


def test_cloud_only_and_edge_only(make_scenario: Callable[..., Scenario]) -> None:
    once = simulate_scheme(make_scenario(), "cloud_only", "des")
    # data set 2 x 108 B = 216 s, latency 5 s, two cloud steps of (300 + 600) / 100 = 9 s
    assert once.total_s == 239
    streamed = simulate_scheme(make_scenario({"cloud_only.upload": "per_batch"}),
                               "cloud_only", "des")
    # U0 = 108, A0 = 122; U1 = 216, A1 = max(221, 122) + 9 = 230
    assert streamed.total_s == 230
    edge = simulate_scheme(make_scenario(), "edge_only", "des")
    assert edge.total_s == 2 * (300 + 500)
