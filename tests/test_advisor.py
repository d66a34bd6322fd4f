"""Split advisor: every candidate simulated, constraints applied, ranking and reasons right."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from simulator.advisor import (
    accuracy_curve,
    advise,
    epochs_to_reach,
    evaluate,
    load_accuracy,
    time_for_epochs,
)
from simulator.cli import main
from simulator.errors import InputError
from simulator.scenario import Scenario, load_scenario
from simulator.simulate import simulate_scheme

from .conftest import TINY_SCENARIO

# The tiny CNN scenario: 4 split points (0 input, 1 block1, 2 block2, 3 fc), 1000 samples per
# epoch in batches of 32 (31 full + one of 8), 2 epochs, uplink 1 Mbit/s, downlink 5 Mbit/s.


def tiny(*sets: str) -> Scenario:
    return load_scenario(TINY_SCENARIO, list(sets))


def test_every_split_and_scheme_is_simulated_once() -> None:
    scenario = tiny()
    candidates = evaluate(scenario)
    labels = [(c.scheme, c.split) for c in candidates]
    assert labels == [("sl", 0), ("sl", 1), ("sl", 2), ("sl", 3), ("ht", 0), ("ht", 1),
                      ("ht", 2), ("ht", 3), ("cloud_only", None), ("edge_only", None)]
    for c in candidates:
        split = 1 if c.split is None else c.split
        expected = simulate_scheme(tiny(f"workload.split={split}"), c.scheme,  # type: ignore[arg-type]
                                   "auto", keep_spans=False)
        assert c.total_s == expected.total_s
        assert c.result.method == "closed_form"


def test_constraints_privacy_duplicates_and_memory() -> None:
    advice = advise(tiny())
    why = {(c.scheme, c.split): c.exclusion for c in advice.excluded}
    assert why == {("sl", 0): "privacy", ("ht", 0): "privacy", ("cloud_only", None): "privacy",
                   ("sl", 3): "duplicate", ("ht", 3): "duplicate"}
    # Edge memory 5 MB: splits 2-3 and edge-only no longer fit (they need 5.4-5.9 MiB).
    small = advise(tiny("edge.memory_bytes=5e6"))
    assert {(c.scheme, c.split) for c in small.ranked} == {("ht", 1), ("sl", 1)}
    assert small.best is not None and (small.best.scheme, small.best.split) == ("ht", 1)
    lines = "\n".join(small.reasons)
    assert "SL at splits 2–3: edge memory (needs at least 5.43 MiB, 4.77 MiB available)" in lines
    assert "edge-only: edge memory" in lines
    assert "cloud-only and split 0 (input) of SL, HT: upload raw data, breaking privacy" in lines
    # Allowing raw uploads ranks them: cloud-only is then the fastest under that memory limit.
    raw = advise(tiny("edge.memory_bytes=5e6"), allow_raw_upload=True)
    assert raw.best is not None and raw.best.scheme == "cloud_only"


def test_ranking_is_by_the_objective_and_the_best_is_the_minimum() -> None:
    advice = advise(tiny())
    totals = [c.total_s for c in advice.ranked]
    assert totals == sorted(totals)
    assert advice.best is not None and advice.best.scheme == "edge_only"
    assert [(c.scheme, c.split) for c in advice.ranked] == [
        ("edge_only", None), ("ht", 2), ("sl", 2), ("ht", 1), ("sl", 1)]


def test_sl_reason_quotes_the_downlink_gradient_time_by_hand() -> None:
    """At split 2 the cut tensor is 8192 B per sample, sent down at 5 Mbit/s.

    Per epoch: 31 batches of 32 samples (262,144 B = 182 packets of 1448 B, 52 B header each)
    and one of 8 (65,536 B = 46 packets). Wire bytes 31 * (262144 + 182 * 52) + (65536 + 46 *
    52) = 8,485,944 B = 13.58 s at 5 Mbit/s. Latency: 2 * 20 ms * 32 batches = 1.28 s.
    """
    advice = advise(tiny())
    sl_line = next(line for line in advice.reasons if line.startswith("SL at all splits 1–2"))
    wire_bytes = 31 * (262_144 + 182 * 52) + (65_536 + 46 * 52)
    assert f"downlink gradient costs {wire_bytes * 8 / 5e6:.2f} s/epoch" in sl_line
    assert "2 x latency per batch 1.28 s/epoch" in sl_line
    assert "(best: split 2, block2)" in sl_line
    ht_line = next(line for line in advice.reasons if line.startswith("HT at all splits 1–2"))
    assert "bound by the uplink" in ht_line


def test_more_bandwidth_never_makes_the_best_choice_slower() -> None:
    best = [advise(tiny(f"channel.uplink_bps={rate}")).best for rate in (1e5, 1e6, 1e7, 1e8)]
    times = [b.total_s for b in best if b is not None]
    assert times == sorted(times, reverse=True)


def test_edge_energy_objective_needs_power_and_ranks_by_energy() -> None:
    with pytest.raises(InputError, match="busy_power_w"):
        advise(tiny(), "edge_energy")
    advice = advise(tiny("edge.busy_power_w=5.0", "edge.idle_power_w=0.5",
                         "edge.radio_tx_j_per_bit=4e-7"), "edge_energy")
    energies = [c.edge_energy_j for c in advice.ranked]
    assert energies == sorted(energies) and all(e > 0 for e in energies)
    ht = next(c for c in advice.ranked if (c.scheme, c.split) == ("ht", 1))
    # Radio energy by hand: 4e-7 J/bit x every wire byte sent up.
    assert ht.radio_energy_j == pytest.approx(4e-7 * ht.result.up_wire_bytes * 8)


def test_a_random_channel_is_evaluated_with_the_des() -> None:
    advice = advise(tiny("channel.jitter_s=0.001", "workload.samples_per_epoch=96"))
    assert {c.result.method for c in advice.ranked} == {"des"}


# --- time to accuracy -------------------------------------------------------------------------


def accuracy_table(path: Path, column: str = "test_accuracy") -> Path:
    """Hand-made: end to end (SL rows, at split 1) reaches 0.6 at epoch 3; HT at split 1 reaches
    it at epoch 2 (mean of two seeds), HT at split 2 never (best 0.5)."""
    rows = []
    curves = {("sl", 1): [[0.3, 0.5, 0.62], [0.3, 0.5, 0.60]],
              ("ht", 1): [[0.4, 0.62, 0.7], [0.4, 0.58, 0.7]],
              ("ht", 2): [[0.3, 0.4, 0.5], [0.3, 0.4, 0.5]]}
    for (scheme, split), seeds in curves.items():
        for seed, accuracies in enumerate(seeds):
            for epoch, accuracy in enumerate(accuracies, start=1):
                rows.append({"model": "tiny_cnn", "input": "cifar10", "split": split,
                             "split_name": f"block{split}", "scheme": scheme, "seed": seed,
                             "epoch": epoch, column: accuracy})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_time_to_accuracy_uses_each_candidates_curve(tmp_path: Path) -> None:
    table = load_accuracy(accuracy_table(tmp_path / "acc.csv"))
    advice = advise(tiny(), "time_to_accuracy", table, target=0.6)
    by = {(c.scheme, c.split): c for c in advice.ranked}
    # HT at split 1: mean (0.62 + 0.58) / 2 = 0.60 at epoch 2 = both simulated epochs.
    assert by[("ht", 1)].epochs_to_target == 2
    assert by[("ht", 1)].time_to_accuracy_s == pytest.approx(by[("ht", 1)].total_s)
    # End to end reaches 0.61 at epoch 3: one epoch more than simulated, as long as the last.
    sl = by[("sl", 1)]
    assert sl.epochs_to_target == 3
    assert sl.time_to_accuracy_s == pytest.approx(sl.total_s + sl.result.epoch_s[-1])
    assert by[("edge_only", None)].epochs_to_target == 3
    excluded = {(c.scheme, c.split): c.excluded_because for c in advice.excluded}
    assert excluded[("ht", 2)] == "never reaches 0.6 (best 0.500 in 3 epochs)"
    scores = [c.time_to_accuracy_s for c in advice.ranked]
    assert scores == sorted(scores)


def test_accuracy_table_problems_are_one_line_errors(tmp_path: Path) -> None:
    path = accuracy_table(tmp_path / "acc.csv", column="final_acc")
    table = load_accuracy(path)  # the alias column is accepted
    with pytest.raises(InputError, match="fractions"):
        advise(tiny(), "time_to_accuracy", table, target=60)
    other = table.assign(model="resnet18")
    with pytest.raises(InputError, match="no rows for profile 'tiny_cnn_cifar10'"):
        advise(tiny(), "time_to_accuracy", other, target=0.6)
    with pytest.raises(InputError, match="needs an accuracy table"):
        advise(tiny(), "time_to_accuracy")
    (tmp_path / "bad.csv").write_text("model,input,split,split_name,scheme,seed,epoch\n")
    with pytest.raises(InputError, match="no accuracy column"):
        load_accuracy(tmp_path / "bad.csv")


def test_helpers_by_hand() -> None:
    curve = pd.Series([0.2, 0.5, 0.45, 0.7], index=[1, 2, 3, 4])
    assert epochs_to_reach(curve, 0.5) == 2
    assert math.isnan(epochs_to_reach(curve, 0.8))
    assert time_for_epochs((10.0, 4.0), 1) == 10.0
    assert time_for_epochs((10.0, 4.0), 4) == 10.0 + 4.0 * 3


# --- command line -----------------------------------------------------------------------------


def test_cli_prints_top_candidates_reasons_and_choice(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["advise", str(TINY_SCENARIO), "--top", "2", "--set",
                 "edge.memory_bytes=5e6"]) == 0
    out = capsys.readouterr().out
    assert "top 2 of 2 eligible candidates" in out
    assert "why the others lose:" in out
    assert "choose HT @ 1 (block1)" in out


def test_cli_time_to_accuracy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = accuracy_table(tmp_path / "acc.csv")
    assert main(["advise", str(TINY_SCENARIO), "--objective", "time_to_accuracy",
                 "--accuracy", str(table), "--target", "0.6"]) == 0
    out = capsys.readouterr().out
    assert "to 0.6" in out and "epochs" in out


def test_cli_nothing_fits_exits_1_and_bad_input_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["advise", str(TINY_SCENARIO), "--set", "edge.memory_bytes=1"]) == 1
    assert "no split point and scheme" in capsys.readouterr().out
    assert main(["advise", str(TINY_SCENARIO), "--objective", "edge_energy"]) == 2
    assert "busy_power_w" in capsys.readouterr().err


def test_curve_keeps_only_epochs_every_seed_reached_and_matches_by_split_name() -> None:
    rows = [("ht", "block1", 0, 1, 0.2), ("ht", "block1", 0, 2, 0.9), ("ht", "block1", 0, 3, 0.95),
            ("ht", "block1", 1, 1, 0.4), ("ht", "block1", 1, 2, 0.7),
            ("ht", "block2", 0, 1, 0.99), ("sl", "block2", 0, 1, 0.5), ("sl", "block1", 0, 1, 0.5)]
    table = pd.DataFrame(rows, columns=["scheme", "split_name", "seed", "epoch", "accuracy"])
    table = table.assign(model="tiny_cnn", input="cifar10")
    curve = accuracy_curve(table, "tiny_cnn_cifar10", "ht", "block1", end_to_end=False)
    assert list(curve.index) == [1, 2]  # seed 1 stopped after epoch 2
    assert list(curve) == pytest.approx([0.3, 0.8])
    # SL rows of two splits of one seed are one run: averaged per seed first.
    e2e = accuracy_curve(table, "tiny_cnn_cifar10", "sl", None, end_to_end=True)
    assert list(e2e) == [0.5]
