"""Simulated HT-vs-SL savings of the reference scenarios, as the Markdown tables of the README.

For every scenario in ``scenarios/reference/`` it prints the saving at the scenario's own split
point and bit rates around it, then how the saving of one scenario moves when one assumption
changes (downlink rate, latency, edge speed, batch size, exit cost). Every number is computed
here by the closed form; nothing is typed in by hand.

Run: ``python benchmarks/reference_scenarios.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from simulator.scenario import Scenario, load_scenario
from simulator.simulate import simulate
from simulator.units import MBIT, PERCENT

REPO = Path(__file__).resolve().parents[1]
REFERENCE = sorted((REPO / "scenarios" / "reference").glob("*.toml"))
UPLINKS_BPS = (0.5 * MBIT, 1 * MBIT, 5 * MBIT, 20 * MBIT)


def saving_pct(scenario: Scenario) -> float:
    return simulate(scenario, method="closed_form", keep_spans=False).saving_ht_vs_sl() * PERCENT


def hours(scenario: Scenario, scheme: str) -> float:
    run = simulate(scenario, method="closed_form", keep_spans=False)
    return run.schemes[scheme].total_s / 3600


def main() -> None:
    header = " | ".join(f"{r / MBIT:g} Mbit/s" for r in UPLINKS_BPS)
    print(f"| scenario | split | SL h | HT h | saving | {header} |")
    print("|---|---|---|---|---|" + "---|" * len(UPLINKS_BPS))
    for path in REFERENCE:
        scenario = load_scenario(path)
        split = scenario.profile.splits[scenario.split_index].split_name
        by_rate = " | ".join(
            f"{saving_pct(load_scenario(path, [f'channel.uplink_bps={r}'])):.0f}%"
            for r in UPLINKS_BPS)
        print(f"| `{path.stem}` | `{split}` | {hours(scenario, 'sl'):.2f} | "
              f"{hours(scenario, 'ht'):.2f} | {saving_pct(scenario):.1f}% | {by_rate} |")

    base_path = REPO / "scenarios" / "reference" / "resnet18_cifar10_lte_uplink.toml"
    base = load_scenario(base_path)
    free_exit = dataclasses.replace(base.profile, splits=tuple(
        dataclasses.replace(s, exit_fwd_flops=0.0, exit_bwd_flops=0.0)
        for s in base.profile.splits))
    variants = {
        "as shipped": base,
        "downlink = uplink (1 Mbit/s)": load_scenario(base_path, ["channel.downlink_bps=1e6"]),
        "latency 150 ms": load_scenario(base_path, ["channel.latency_s=0.15"]),
        "edge 10x slower (phone-class CPU)": load_scenario(
            base_path, [f"edge.fwd_flops_per_s={base.edge.fwd_flops_per_s / 10}",
                        f"edge.bwd_flops_per_s={base.edge.backward_flops_per_s / 10}"]),
        "batch 128": load_scenario(base_path, ["workload.batch_size=128"]),
        "early exit free": dataclasses.replace(base, profile=free_exit),
        "split layer4_1": load_scenario(base_path, ["workload.split=layer4_1"]),
        "split layer2_1": load_scenario(base_path, ["workload.split=layer2_1"]),
        "fp16 activations": load_scenario(base_path, ["workload.activation_bits=16"]),
    }
    print()
    print(f"Sensitivity of `{base_path.stem}` (one assumption changed at a time):")
    print()
    print("| variant | SL h | HT h | saving |")
    print("|---|---|---|---|")
    for name, scenario in variants.items():
        print(f"| {name} | {hours(scenario, 'sl'):.2f} | {hours(scenario, 'ht'):.2f} | "
              f"{saving_pct(scenario):.1f}% |")


if __name__ == "__main__":
    main()
