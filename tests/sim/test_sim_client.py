"""The API client of reconciler.api against the real loopback simulator."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from reconciler.api import CbbdClient, busiest_window
from reconciler.config import ApiSettings, RetrySettings
from reconciler.errors import AuthError, QuotaExhausted, TerminalApiError
from reconciler.sim import SimServer

pytestmark = pytest.mark.anyio
Start = Callable[..., SimServer]
ReadLog = Callable[[Path], list[dict[str, Any]]]


def settings(sim: SimServer, **overrides: Any) -> ApiSettings:
    values: dict[str, Any] = {
        "base_url": sim.url,
        "rate_limit_per_sec": 100,
        "max_concurrency": 4,
        "timeout_seconds": 5.0,
        "retry": RetrySettings(max_attempts=8, base_delay_seconds=0.01, max_delay_seconds=0.05),
    }
    values.update(overrides)
    return ApiSettings(**values)


async def test_retries_through_5xx_504_and_resets(start_sim: Start) -> None:
    sim = start_sim(fault_rates={"5xx": 0.2, "504": 0.1, "reset": 0.1}, seed=11)
    async with CbbdClient(settings(sim), "k") as client:
        for _ in range(10):
            resp = await client.get_json_array("/plays/game/1002")
            assert len(resp.records) > 100
    stats = sim.requests
    assert stats.by_status[200] == 10
    assert sum(stats.by_fault.values()) >= 3  # the seed gives a fair share of failures
    assert stats.total == client.requests_started


async def test_retries_through_timeouts(start_sim: Start) -> None:
    sim = start_sim(fault_rates={"timeout": 0.4}, seed=5, hang_seconds=10)
    async with CbbdClient(settings(sim, timeout_seconds=0.3), "k") as client:
        for _ in range(4):
            resp = await client.get_json_array("/teams")
            assert len(resp.records) == 5
    assert sim.requests.by_fault.get("timeout", 0) >= 1
    assert sim.requests.total == client.requests_started


async def test_quota_429_stops_after_exactly_one_request(start_sim: Start) -> None:
    sim = start_sim(quota=2)
    async with CbbdClient(settings(sim), "k") as client:
        first = await client.get_json_array("/teams")
        assert first.calllimit_remaining == 1
        await client.get_json_array("/teams")
        with pytest.raises(QuotaExhausted):
            await client.get_json_array("/plays/game/1002")
    assert sim.requests.total == 3 == client.requests_started
    assert client.last_calllimit_remaining == 0


async def test_wrong_key_is_auth_error(start_sim: Start) -> None:
    sim = start_sim(api_key="the-right-key")
    async with CbbdClient(settings(sim), "the-wrong-key") as client:
        with pytest.raises(AuthError) as info:
            await client.get_json_array("/teams")
    assert "the-wrong-key" not in str(info.value) and "the-right-key" not in str(info.value)
    async with CbbdClient(settings(sim), "Bearer the-right-key") as client:
        assert (await client.get_json_array("/teams")).records


@pytest.mark.parametrize("kind", ["malformed", "nonarray"])
async def test_contract_faults_are_terminal_and_not_retried(start_sim: Start, kind: str) -> None:
    sim = start_sim(fault_rates={kind: 1.0})
    async with CbbdClient(settings(sim), "k") as client:
        with pytest.raises(TerminalApiError, match="contract error"):
            await client.get_json_array("/plays/game/1002")
    assert sim.requests.total == 1


async def test_validation_and_404_are_terminal(start_sim: Start) -> None:
    sim = start_sim()
    async with CbbdClient(settings(sim), "k") as client:
        with pytest.raises(TerminalApiError, match="Validation Failed"):
            await client.get_json_array("/plays/team", {"season": 2025})
        with pytest.raises(TerminalApiError, match="Cannot GET /nope"):
            await client.get_json_array("/nope")


async def test_pacing_seen_by_the_server(read_log: ReadLog, start_sim: Start, tmp_path: Path) -> None:
    log = tmp_path / "paced.jsonl"
    sends = tmp_path / "sends.jsonl"
    sim = start_sim(request_log=log)
    fast = settings(sim, rate_limit_per_sec=3, max_concurrency=3)
    async with CbbdClient(fast, "k", send_log=sends) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(client.get_json_array, "/teams")
        async with anyio.create_task_group() as tg:
            for day in range(1, 9):
                tg.start_soon(client.get_json_array, "/plays/date", {"date": f"2024-12-{day:02d}"})
    # The server saw every request the client started, and only those.
    served = read_log(log)
    started = read_log(sends)
    assert len(served) == len(started) == 11
    assert sorted(line["path"] for line in served) == sorted(line["path"].split("?")[0] for line in started)
    # Pacing is asserted on the client's own start stamps: the server stamps a request when its
    # handler thread runs, which on a loaded machine can lag by more than the pacing margin.
    ts = [line["ts"] for line in started]
    assert busiest_window(ts) <= 3
    paced = sorted(line["ts"] for line in started if line["path"].startswith("/plays/date"))
    assert paced[-1] - paced[0] >= 2.0  # 8 starts at 3 per second need two full windows


async def test_key_never_reaches_logs_or_errors_over_real_http(
    start_sim: Start, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # httpx and httpcore trace every request at DEBUG
    key = "real-looking-key-5f0c9e2a"
    log = tmp_path / "keyed.jsonl"
    sim = start_sim(api_key=key, quota=3, fault_rates={"5xx": 0.5}, seed=2, request_log=log)
    texts: list[str] = []
    async with CbbdClient(settings(sim), key) as client:
        texts.append(repr(client))
        for _ in range(4):
            try:
                texts.append(repr(await client.get_json_array("/teams")))
            except QuotaExhausted as exc:
                texts += [str(exc), repr(exc)]
    async with CbbdClient(settings(sim), key + "-wrong") as client:
        with pytest.raises(AuthError) as info:
            await client.get_json_array("/teams")
        texts.append(str(info.value))
    assert any("429" in t for t in texts)
    texts += [caplog.text, log.read_text()]
    assert all(key not in text for text in texts)
