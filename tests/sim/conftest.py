"""Fixtures for the simulator tests: a running simulator over the fixture universe, and a client."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sim import InMemoryApiData, SimServer, fixture_data

AUTH = {"Authorization": "Bearer test-key"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def data() -> InMemoryApiData:
    return fixture_data()


@pytest.fixture
def start_sim(tmp_path: Path) -> Iterator[Callable[..., SimServer]]:
    """Start a simulator (fixture data unless given), stopped at teardown."""
    started: list[SimServer] = []

    def start(data: Any = None, **kwargs: Any) -> SimServer:
        kwargs.setdefault("request_log", tmp_path / "requests.jsonl")
        sim = SimServer(data if data is not None else fixture_data(), **kwargs).start()
        started.append(sim)
        return sim

    yield start
    for sim in started:
        sim.stop()


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[SimServer]:
    """One plain simulator (no quota, no faults) shared by the read-only route tests."""
    with SimServer(fixture_data()) as sim:
        yield sim


@pytest.fixture(scope="module")
def get(shared_sim: SimServer) -> Iterator[Callable[..., httpx.Response]]:
    with httpx.Client(base_url=shared_sim.url, headers=AUTH, timeout=10) as client:

        def fetch(path: str, **params: Any) -> httpx.Response:
            return client.get(path, params=params)

        yield fetch


@pytest.fixture
def read_log() -> Callable[[Path], list[dict[str, Any]]]:
    """Parse a simulator request log (JSON Lines)."""

    def read(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    return read
