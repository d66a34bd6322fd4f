"""Discrete-event simulator of hierarchical (edge–cloud) neural-network training runtime.

The core (this package's modules) needs only the standard library, numpy, pandas, SimPy and
matplotlib; it never imports torch. ``simulator.torchkit`` holds everything that does.

Typical use::

    from simulator import load_scenario, simulate
    run = simulate(load_scenario("scenarios/default.toml"))
    run.schemes["ht"].total_s, run.saving_ht_vs_sl()
"""

from simulator.closed_form import epoch_times
from simulator.errors import InputError
from simulator.profile import Profile, SplitCosts, load_profile
from simulator.records import RunResult, SchemeResult, Span
from simulator.scenario import Scenario, load_scenario
from simulator.simulate import simulate, simulate_scheme

__all__ = [
    "InputError",
    "Profile",
    "RunResult",
    "Scenario",
    "SchemeResult",
    "Span",
    "SplitCosts",
    "epoch_times",
    "load_profile",
    "load_scenario",
    "simulate",
    "simulate_scheme",
]
