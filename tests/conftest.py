"""Shared fixtures: a clean environment for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clear AWS_* and CBBD_* so no test reaches a real account or leaks a real key."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "CBBD_", "RECONCILE_")):
            monkeypatch.delenv(name, raising=False)
    yield
