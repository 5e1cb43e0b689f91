from __future__ import annotations

import pytest

from reconciler.synth import Universe


@pytest.fixture(scope="session")
def universe() -> Universe:
    """A small universe with an old season, the substitutions season and the lineups season."""
    return Universe(seed=11, scale=0.01, seasons=[2012, 2024, 2025])
