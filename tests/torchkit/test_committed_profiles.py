"""The profiles committed under ``profiles/``: complete, consistent, current, usable."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from simulator.torchkit.names import STANDARD_PROFILES, profile_stem
from simulator.torchkit.profiler import EXTRA_COLUMNS, REQUIRED_COLUMNS, TIME_COLUMNS

pytestmark = pytest.mark.torch

PROFILES = Path(__file__).resolve().parents[2] / "profiles"
STEMS = [profile_stem(model, input_name) for model, input_name in STANDARD_PROFILES]


@pytest.mark.parametrize("stem", STEMS)
def test_profile_is_complete_and_loads(stem: str) -> None:
    from simulator.profile import load_profile

    frame = pd.read_csv(PROFILES / f"{stem}.csv")
    assert tuple(frame.columns) == (*REQUIRED_COLUMNS, *EXTRA_COLUMNS, *TIME_COLUMNS)
    meta = json.loads((PROFILES / f"{stem}.meta.json").read_text())
    assert meta["split_names"] == list(frame["split_name"])
    assert meta["timing"] is not None and meta["fvcore"] is not None
    profile = load_profile(PROFILES / f"{stem}.csv")
    n = profile.last_split
    first, last = frame.iloc[0], frame.iloc[n]
    assert first["activation_bytes"] == first["input_bytes"]
    assert first["cloud_bwd_flops_sl"] == first["cloud_bwd_flops_ht"]
    assert last["cloud_fwd_flops"] == last["exit_fwd_flops"] == 0
    assert (frame["edge_fwd_flops"] == 2 * frame["edge_fvcore_fwd_macs"]).all()
    assert (frame["cloud_fwd_flops"] == 2 * frame["cloud_fvcore_fwd_macs"]).all()
    assert (frame["exit_fwd_flops"] == 2 * frame["exit_fvcore_fwd_macs"]).all()
    timed = frame.iloc[1:n]
    assert (timed[list(TIME_COLUMNS)] > 0).all().all()


@pytest.mark.parametrize("model", ["resnet18", "vgg16"])
def test_committed_counts_are_current(
    model: str, profile_of: Callable[[str], pd.DataFrame]
) -> None:
    """Regenerating the CIFAR-10 profile reproduces every counted column of the committed one."""
    committed = pd.read_csv(PROFILES / f"{model}_cifar10.csv")
    fresh = profile_of(model)
    counted = [c for c in fresh.columns if c != "activation_shape"]
    pd.testing.assert_frame_equal(committed[counted], fresh[counted], check_dtype=False)


@pytest.mark.parametrize("stem", STEMS)
def test_simulate_runs_on_the_profile(stem: str) -> None:
    from simulator.scenario import load_scenario
    from simulator.simulate import simulate

    frame = pd.read_csv(PROFILES / f"{stem}.csv")
    middle = frame["split_name"].iloc[len(frame) // 2]
    scenario = load_scenario(
        PROFILES.parent / "scenarios" / "tiny_cnn.toml",
        [
            f'workload.profile="{PROFILES / (stem + ".csv")}"',
            f'workload.split="{middle}"',
            "edge.memory_bytes=64e9",
            "cloud.memory_bytes=1e12",
        ],
    )
    run = simulate(scenario, method="closed_form", keep_spans=False)
    for scheme in ("sl", "ht"):
        result = run.schemes[scheme]
        assert result.status == "ok" and result.total_s > 0, (scheme, result)


def test_readme_tables_match_the_committed_profiles() -> None:
    from simulator.torchkit.profile_report import END_MARK, START_MARK, render

    readme = (PROFILES / "README.md").read_text()
    generated = readme[readme.index(START_MARK) + len(START_MARK) : readme.index(END_MARK)]
    assert generated.strip() == render(PROFILES).strip(), (
        "regenerate: python -m simulator.torchkit.profile_report profiles "
        "--write profiles/README.md"
    )


def test_report_fits_recover_a_known_rate() -> None:
    """On made-up parts timed at exactly 50 GFLOP/s the one-rate fit is exact."""
    from simulator.torchkit.profile_report import fit_models

    flops = [1e9, 2e9, 5e8, 3e9]
    parts = pd.DataFrame(
        {
            "flops": flops,
            "other_flops": [1e6, 3e6, 2e6, 1e6],
            "seconds": [f / 50e9 for f in flops],
            "backward": [False, True, False, True],
        }
    )
    one_rate = fit_models(parts)[0]
    assert one_rate.coefficients["GFLOP/s"] == pytest.approx(50.0)
    assert one_rate.max_error == pytest.approx(0.0, abs=1e-9)
