"""Shared fixtures of the torch tests: CIFAR-10 profiles, computed once per session."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

pytest.importorskip("torch")
pytest.importorskip("fvcore")

_CACHE: dict[tuple[str, str], pd.DataFrame] = {}


def cifar_profile(model: str) -> pd.DataFrame:
    """The profile of ``model`` on CIFAR-10 at width 1 with the default head (cached)."""
    from simulator.torchkit.profiler import profile_model

    key = (model, "cifar10")
    if key not in _CACHE:
        _CACHE[key], _ = profile_model(model, "cifar10")
    return _CACHE[key]


@pytest.fixture(scope="session")
def profile_of() -> Callable[[str], pd.DataFrame]:
    return cifar_profile
