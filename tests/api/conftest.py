"""Fixtures for the API client tests: the anyio backend and a virtual clock."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeClock:
    """Virtual time: ``sleep`` moves the clock forward instead of waiting.

    Concurrent sleepers do not overlap as real ones would (time only moves forward to the latest
    wake-up asked for), but time is monotonic, which is all a pacing invariant depends on.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        target = self.now + max(seconds, 0.0)
        await anyio.lowlevel.checkpoint()
        self.now = max(self.now, target)


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_clock() -> type[FakeClock]:
    """The FakeClock class, for tests (hypothesis ones) that need a fresh clock per example."""
    return FakeClock
