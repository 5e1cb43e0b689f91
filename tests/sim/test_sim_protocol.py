from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.sim import FAULT_KINDS, SimServer, parse_fault_rates
from reconciler.sim.faults import FaultInjector

Start = Callable[..., SimServer]
ReadLog = Callable[[Path], list[dict[str, Any]]]


def client(sim: SimServer, token: str | None = "test-key", timeout: float = 5.0) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(base_url=sim.url, headers=headers, timeout=timeout)


@pytest.mark.parametrize("header", [None, "test-key", "Token test-key", "Bearer"])
def test_missing_or_malformed_authorization_is_401_with_hint(start_sim: Start, header: str | None) -> None:
    sim = start_sim()
    headers = {"Authorization": header} if header is not None else {}
    resp = httpx.get(sim.url + "/games", headers=headers)
    assert resp.status_code == 401
    assert resp.json()["message"].startswith('Unauthorized. Did you forget to add "Bearer " before your key?')
    assert "x-calllimit-remaining" not in resp.headers


def test_any_token_accepted_without_api_key(start_sim: Start) -> None:
    sim = start_sim()
    with client(sim, token="whatever") as c:
        assert c.get("/teams").status_code == 200


def test_wrong_token_is_401_unauthorized(start_sim: Start) -> None:
    sim = start_sim(api_key="right-key")
    with client(sim, token="wrong-key") as c:
        resp = c.get("/teams")
    assert resp.status_code == 401 and resp.json() == {"message": "Unauthorized"}
    with client(sim, token="right-key") as c:
        assert c.get("/teams").status_code == 200


def test_quota_counts_only_2xx_and_429_at_zero(start_sim: Start) -> None:
    sim = start_sim(quota=2)
    with client(sim) as c:
        first = c.get("/teams")
        assert first.headers["X-CallLimit-Remaining"] == "1"
        bad = c.get("/plays/game/abc")
        assert bad.status_code == 400 and bad.headers["X-CallLimit-Remaining"] == "1"  # refunded
        assert c.get("/nope").status_code == 404
        second = c.get("/plays/game/1002")
        assert second.status_code == 200 and second.headers["X-CallLimit-Remaining"] == "0"
        spent = c.get("/teams")
    assert spent.status_code == 429
    assert spent.json() == {"message": "Monthly call quota exceeded."}
    assert "retry-after" not in spent.headers
    assert spent.headers["X-CallLimit-Remaining"] == "0"
    assert sim.quota_remaining == 0
    assert sim.requests.by_status == {200: 2, 400: 1, 404: 1, 429: 1}


def test_unlimited_quota_sends_no_header(start_sim: Start) -> None:
    sim = start_sim()
    with client(sim) as c:
        assert "x-calllimit-remaining" not in c.get("/teams").headers
    assert sim.quota_remaining is None


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("5xx", lambda r: r.status_code in (500, 503) and "message" in r.json()),
        ("504", lambda r: r.status_code == 504 and "Gateway Time-out" in r.text),
        ("nonarray", lambda r: r.status_code == 200 and isinstance(r.json(), dict)),
        ("empty", lambda r: r.status_code == 200 and r.json() == []),
    ],
)
def test_http_faults(
    read_log: ReadLog, start_sim: Start, tmp_path: Path, kind: str, check: Callable[[httpx.Response], bool]
) -> None:
    sim = start_sim(fault_rates={kind: 1.0}, quota=10)
    with client(sim) as c:
        resp = c.get("/plays/game/1002")
    assert check(resp)
    assert sim.quota_remaining == 10  # faults cost no quota
    assert read_log(tmp_path / "requests.jsonl")[-1]["fault"] == kind
    assert sim.requests.by_fault == {kind: 1}


def test_5xx_fault_gives_both_500_and_503(start_sim: Start) -> None:
    sim = start_sim(fault_rates={"5xx": 1.0})
    with client(sim) as c:
        statuses = {c.get("/teams").status_code for _ in range(30)}
    assert statuses == {500, 503}


def test_malformed_fault_is_truncated_json(start_sim: Start) -> None:
    sim = start_sim(fault_rates={"malformed": 1.0})
    with client(sim) as c:
        for path in ("/plays/game/1002", "/plays/game/999"):
            resp = c.get(path)
            assert resp.status_code == 200
            assert int(resp.headers["content-length"]) == len(resp.content)
            with pytest.raises(json.JSONDecodeError):
                json.loads(resp.content)


def test_reset_fault_aborts_the_connection(read_log: ReadLog, start_sim: Start, tmp_path: Path) -> None:
    sim = start_sim(fault_rates={"reset": 1.0})
    with client(sim) as c, pytest.raises(httpx.TransportError):
        c.get("/teams")
    line = read_log(tmp_path / "requests.jsonl")[-1]
    assert (line["status"], line["fault"]) == (None, "reset")


def test_reset_is_a_tcp_rst(start_sim: Start) -> None:
    sim = start_sim(fault_rates={"reset": 1.0})
    host, port = sim.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /teams HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            while sock.recv(1024):
                pass


def test_timeout_fault_hangs_past_client_timeout_and_stop_is_prompt(
    read_log: ReadLog, start_sim: Start, tmp_path: Path
) -> None:
    sim = start_sim(fault_rates={"timeout": 1.0}, hang_seconds=30)
    with client(sim, timeout=0.3) as c, pytest.raises(httpx.TimeoutException):
        c.get("/teams")
    line = read_log(tmp_path / "requests.jsonl")[-1]  # written when the hang began
    assert (line["status"], line["fault"]) == (None, "timeout")
    # A request still hanging must not hold up stop().
    hung = threading.Thread(target=lambda: _swallow(sim.url + "/teams"), daemon=True)
    hung.start()
    time.sleep(0.2)
    began = time.monotonic()
    sim.stop()
    assert time.monotonic() - began < 3
    hung.join(timeout=5)
    assert not hung.is_alive()


def _swallow(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, headers={"Authorization": "Bearer k"}, timeout=20)


def test_faults_are_reproducible_from_the_seed(read_log: ReadLog, start_sim: Start, tmp_path: Path) -> None:
    def kinds(seed: int, run: int) -> list[str | None]:
        log = tmp_path / f"{seed}-{run}.jsonl"
        sim = start_sim(fault_rates={"5xx": 0.3, "empty": 0.3}, seed=seed, request_log=log)
        with client(sim) as c:
            for _ in range(20):
                c.get("/teams")
        sim.stop()
        return [line["fault"] for line in read_log(log)]

    first = kinds(7, 1)
    assert first == kinds(7, 2)
    assert {"5xx", "empty", None} == set(first)
    assert first != kinds(8, 1)
    one, two = FaultInjector({"5xx": 0.5}, seed=3), FaultInjector({"5xx": 0.5}, seed=3)
    assert [one.draw() for _ in range(50)] == [two.draw() for _ in range(50)]


def test_fault_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        FaultInjector({"gremlins": 0.1})
    with pytest.raises(ValueError, match="sum"):
        FaultInjector({"5xx": 0.7, "504": 0.7})
    with pytest.raises(ValueError, match="probability"):
        FaultInjector({"5xx": 1.5})
    assert parse_fault_rates(["5xx=0.1", "timeout=0.05"]) == {"5xx": 0.1, "timeout": 0.05}
    with pytest.raises(ValueError, match="KIND=P"):
        parse_fault_rates(["5xx"])
    assert set(FAULT_KINDS) == {"5xx", "504", "timeout", "reset", "malformed", "nonarray", "empty"}


def test_request_read_log(read_log: ReadLog, start_sim: Start, tmp_path: Path) -> None:
    sim = start_sim(quota=100)
    log = tmp_path / "requests.jsonl"
    with client(sim) as c:
        before = time.time()
        c.get("/plays/date", params={"date": "2024-12-01", "apiKey": "sneaky"})
        # Flushed per line: readable while the server runs.
        lines = read_log(log)
        assert len(lines) == 1
        c.get("/nope")
    lines = read_log(log)
    first = lines[0]
    assert before - 1 <= first["ts"] <= time.time()
    assert first["method"] == "GET" and first["path"] == "/plays/date"
    assert first["query"] == {"date": "2024-12-01"}
    assert first["status"] == 200 and first["fault"] is None and first["bytes"] > 1000
    assert first["remaining"] == 99
    assert lines[1]["status"] == 404
    text = log.read_text()
    assert "test-key" not in text and "sneaky" not in text and "Bearer" not in text


def test_latency_is_added(start_sim: Start) -> None:
    sim = start_sim(latency_ms=150)
    with client(sim) as c:
        began = time.monotonic()
        c.get("/teams")
        assert time.monotonic() - began >= 0.15


def test_url_before_start_and_double_stop(tmp_path: Path) -> None:
    from reconciler.sim import fixture_data

    sim = SimServer(fixture_data())
    with pytest.raises(RuntimeError):
        _ = sim.url
    sim.start()
    assert sim.url.startswith("http://127.0.0.1:")
    sim.stop()
    sim.stop()


def test_serve_forever_in_a_thread(tmp_path: Path) -> None:
    from reconciler.sim import fixture_data

    sim = SimServer(fixture_data())
    thread = threading.Thread(target=sim.serve_forever, daemon=True)
    thread.start()
    for _ in range(100):
        try:
            url = sim.url
            break
        except RuntimeError:
            time.sleep(0.01)
    assert httpx.get(url + "/teams", headers={"Authorization": "Bearer k"}).status_code == 200
    sim.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_provider_error_is_a_500(start_sim: Start, caplog: pytest.LogCaptureFixture) -> None:
    from reconciler.sim import InMemoryApiData

    class Broken(InMemoryApiData):
        def plays(self, game_id: int) -> list[dict[str, Any]]:
            raise RuntimeError("provider bug")

    sim = start_sim(Broken(), quota=5)
    with client(sim) as c:
        resp = c.get("/plays/game/1")
        assert sim.quota_remaining == 5
        assert resp.status_code == 500 and resp.json() == {"message": "Internal Server Error"}
        assert c.get("/teams").status_code == 200  # the server carries on
    assert "provider bug" in caplog.text
