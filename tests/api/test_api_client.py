from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.api import ApiResponse, CbbdClient, StrictPacer
from reconciler.config import ApiSettings, RetrySettings
from reconciler.errors import (
    AuthError,
    BudgetExhausted,
    QuotaExhausted,
    TerminalApiError,
    TransientApiError,
)

pytestmark = pytest.mark.anyio

KEY = "sEcReT-KeY-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def ok(records: Any = None, *, remaining: int | None = 999) -> httpx.Response:
    headers = {"X-CallLimit-Remaining": str(remaining)} if remaining is not None else {}
    return httpx.Response(200, json=[{"id": 1}] if records is None else records, headers=headers)


def error(status: int, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"message": message}, headers=headers)


class Recorder:
    """A MockTransport handler that plays a script of responses or exceptions, one per request."""

    def __init__(self, *script: httpx.Response | type[Exception]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(step, type):
            raise step("boom", request=request)  # type: ignore[call-arg]
        return step


def make_client(
    handler: Handler,
    *,
    key: str | None = KEY,
    max_attempts: int = 5,
    sleeps: list[float] | None = None,
    **kwargs: Any,
) -> CbbdClient:
    settings = ApiSettings(
        base_url="http://cbbd.test",
        rate_limit_per_sec=100,
        max_concurrency=4,
        retry=RetrySettings(max_attempts=max_attempts, base_delay_seconds=0.5, max_delay_seconds=8.0),
        **kwargs.pop("settings", {}),
    )
    record = sleeps if sleeps is not None else []

    async def fake_sleep(seconds: float) -> None:
        record.append(seconds)

    return CbbdClient(
        settings,
        key,
        transport=httpx.MockTransport(handler),
        retry_sleep=fake_sleep,
        rng=random.Random(7),
        **kwargs,
    )


async def test_success_returns_records_and_metadata() -> None:
    rec = Recorder(ok([{"id": 1}, {"id": 2}], remaining=41))
    async with make_client(rec) as client:
        resp = await client.get_json_array("/games", {"season": 2025, "team": None, "flag": True})
    assert isinstance(resp, ApiResponse)
    assert resp.records == [{"id": 1}, {"id": 2}]
    assert (resp.status, resp.attempts, resp.calllimit_remaining) == (200, 1, 41)
    assert resp.nbytes == len(b'[{"id":1},{"id":2}]')
    req = rec.requests[0]
    assert req.url.path == "/games"
    assert dict(req.url.params) == {"season": "2025", "flag": "true"}
    assert req.headers["Authorization"] == f"Bearer {KEY}"
    assert req.headers["Accept"] == "application/json"
    assert client.requests_started == 1
    assert client.last_calllimit_remaining == 41


async def test_key_already_prefixed_is_not_prefixed_twice() -> None:
    rec = Recorder(ok())
    async with make_client(rec, key=f"Bearer {KEY}") as client:
        await client.get_json_array("/teams")
    assert rec.requests[0].headers["Authorization"] == f"Bearer {KEY}"


async def test_no_key_sends_no_authorization() -> None:
    rec = Recorder(error(401, 'Unauthorized. Did you forget to add "Bearer " before your key?'))
    async with make_client(rec, key=None) as client:
        with pytest.raises(AuthError, match="CBBD_API_KEY"):
            await client.get_json_array("/teams")
    assert "Authorization" not in rec.requests[0].headers


@pytest.mark.parametrize(
    "failure",
    [
        error(500, "Internal Server Error"),
        error(503, "Unable to verify call quota. Please retry later."),
        httpx.Response(504, text="<html><body><h1>504 Gateway Time-out</h1></body></html>"),
        httpx.ReadTimeout,
        httpx.ConnectTimeout,
        httpx.ReadError,
        httpx.RemoteProtocolError,
        httpx.ConnectError,
    ],
    ids=["500", "503", "504", "read-timeout", "connect-timeout", "reset", "protocol", "connect"],
)
async def test_transient_failures_are_retried_then_succeed(failure: Any) -> None:
    rec = Recorder(failure, failure, ok([{"id": 9}]))
    sleeps: list[float] = []
    async with make_client(rec, sleeps=sleeps) as client:
        resp = await client.get_json_array("/plays/game/1")
    assert resp.records == [{"id": 9}]
    assert resp.attempts == 3
    assert client.requests_started == 3 == len(rec.requests)
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter under base * 2^(n-1)


async def test_gives_up_after_max_attempts_with_transient_error() -> None:
    rec = Recorder(error(500, "Internal Server Error"))
    sleeps: list[float] = []
    async with make_client(rec, max_attempts=4, sleeps=sleeps, jitter="none") as client:
        with pytest.raises(TransientApiError) as info:
            await client.get_json_array("/plays/date", {"date": "2025-01-01"})
    assert len(rec.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]  # no sleep after the last attempt
    assert info.value.status == 500
    assert "gave up after 4 attempts" in str(info.value)
    assert "/plays/date?date=2025-01-01" in str(info.value)


async def test_backoff_is_capped_at_max_delay() -> None:
    rec = Recorder(error(502, "bad gateway"))
    sleeps: list[float] = []
    async with make_client(rec, max_attempts=8, sleeps=sleeps, jitter="none") as client:
        with pytest.raises(TransientApiError):
            await client.get_json_array("/games")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


async def test_equal_jitter_stays_in_upper_half() -> None:
    rec = Recorder(error(500, "x"))
    sleeps: list[float] = []
    async with make_client(rec, max_attempts=6, sleeps=sleeps, jitter="equal") as client:
        with pytest.raises(TransientApiError):
            await client.get_json_array("/games")
    for n, s in enumerate(sleeps, start=1):
        ceiling = min(8.0, 0.5 * 2 ** (n - 1))
        assert ceiling / 2 <= s <= ceiling


async def test_retry_after_is_honoured() -> None:
    rec = Recorder(error(503, "busy", **{"Retry-After": "7"}), ok())
    sleeps: list[float] = []
    async with make_client(rec, sleeps=sleeps) as client:
        resp = await client.get_json_array("/games")
    assert resp.attempts == 2
    assert sleeps == [7.0]


async def test_429_stops_at_once_with_one_request() -> None:
    rec = Recorder(error(429, "Monthly call quota exceeded.", **{"X-CallLimit-Remaining": "0"}), ok())
    sleeps: list[float] = []
    async with make_client(rec, sleeps=sleeps) as client:
        with pytest.raises(QuotaExhausted) as info:
            await client.get_json_array("/plays/game/5")
    assert len(rec.requests) == 1
    assert client.requests_started == 1
    assert sleeps == []
    assert "monthly" in str(info.value) and "quota" in str(info.value)
    assert info.value.status == 429
    assert client.last_calllimit_remaining == 0


async def test_401_is_auth_error_one_line() -> None:
    rec = Recorder(error(401, "Unauthorized"))
    async with make_client(rec) as client:
        with pytest.raises(AuthError) as info:
            await client.get_json_array("/games")
    assert len(rec.requests) == 1
    assert "\n" not in str(info.value)
    assert "401" in str(info.value)


@pytest.mark.parametrize(
    ("response", "fragment"),
    [
        (
            httpx.Response(
                400,
                json={
                    "message": "Validation Failed",
                    "details": {"season": {"message": "bad", "value": "x"}},
                },
            ),
            "Validation Failed",
        ),
        (
            httpx.Response(404, html="<!DOCTYPE html><html><body><pre>Cannot GET /nope</pre></body></html>"),
            "Cannot GET /nope",
        ),
        (error(403, "Forbidden"), "Forbidden"),
    ],
)
async def test_other_4xx_are_terminal_with_server_message(response: httpx.Response, fragment: str) -> None:
    rec = Recorder(response)
    async with make_client(rec) as client:
        with pytest.raises(TerminalApiError) as info:
            await client.get_json_array("/nope")
    assert len(rec.requests) == 1
    assert fragment in str(info.value)
    assert info.value.status == response.status_code


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"message": "not a list"}', "expected a JSON array"),
        (b'[{"id": 1}, {"id": 2', "malformed JSON"),
        (b"", "malformed JSON"),
        (b"<html>oops</html>", "malformed JSON"),
        (b"[1, 2]", "array of objects"),
        (b"null", "expected a JSON array"),
    ],
)
async def test_contract_errors_on_200(body: bytes, fragment: str) -> None:
    rec = Recorder(httpx.Response(200, content=body, headers={"Content-Type": "application/json"}))
    async with make_client(rec) as client:
        with pytest.raises(TerminalApiError) as info:
            await client.get_json_array("/plays/game/1")
    assert "contract error" in str(info.value)
    assert fragment in str(info.value)
    assert len(rec.requests) == 1


async def test_empty_array_is_fine() -> None:
    async with make_client(Recorder(ok([]))) as client:
        resp = await client.get_json_array("/plays/game/1")
    assert resp.records == []


async def test_calllimit_remaining_tracked_on_every_response() -> None:
    rec = Recorder(
        error(500, "x", **{"X-CallLimit-Remaining": "50"}),
        ok(remaining=49),
        ok(remaining=None),
        error(404, "no", **{"X-CallLimit-Remaining": "48"}),
    )
    async with make_client(rec) as client:
        assert client.last_calllimit_remaining is None
        first = await client.get_json_array("/games")
        assert first.calllimit_remaining == 49
        second = await client.get_json_array("/games")
        assert second.calllimit_remaining is None
        assert client.last_calllimit_remaining == 49  # a response without the header keeps the last
        with pytest.raises(TerminalApiError):
            await client.get_json_array("/games")
        assert client.last_calllimit_remaining == 48


async def test_max_requests_budget_counts_retries() -> None:
    rec = Recorder(error(500, "x"), ok(), ok())
    async with make_client(rec, max_requests=3) as client:
        await client.get_json_array("/games")  # 2 requests: a failure and a success
        await client.get_json_array("/games")  # the 3rd
        with pytest.raises(BudgetExhausted, match="budget of 3"):
            await client.get_json_array("/games")
    assert len(rec.requests) == 3
    assert client.requests_started == 3


async def test_max_requests_stops_a_retry_loop() -> None:
    rec = Recorder(error(500, "x"))
    async with make_client(rec, max_requests=2) as client:
        with pytest.raises(BudgetExhausted):
            await client.get_json_array("/games")
    assert len(rec.requests) == 2


async def test_quota_reserve_stops_before_the_quota_runs_out() -> None:
    rec = Recorder(ok(remaining=6), ok(remaining=5), ok(remaining=4))
    async with make_client(rec, settings={"quota_reserve": 5}) as client:
        await client.get_json_array("/games")
        await client.get_json_array("/games")
        with pytest.raises(BudgetExhausted, match="quota reserve"):
            await client.get_json_array("/games")
    assert len(rec.requests) == 2


async def test_every_attempt_goes_through_the_pacer() -> None:
    rec = Recorder(error(500, "x"), error(503, "y"), ok())
    pacer = StrictPacer(100, 1)
    async with make_client(rec, pacer=pacer) as client:
        await client.get_json_array("/games")
    assert pacer.started == 3
    assert pacer.in_flight == 0


async def test_the_key_never_leaks(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    scenarios: list[Recorder] = [
        Recorder(error(401, f"Unauthorized {KEY}")),  # even a server echoing the key is redacted
        Recorder(error(500, f"boom {KEY}")),
        Recorder(error(429, "Monthly call quota exceeded.")),
        Recorder(error(400, "Validation Failed")),
        Recorder(httpx.ReadTimeout),
        Recorder(httpx.ReadError),
        Recorder(httpx.Response(200, content=b'{"a":')),
        Recorder(httpx.Response(200, json={"a": 1})),
    ]
    for rec in scenarios:
        async with make_client(rec, max_attempts=2) as client:
            texts.append(repr(client))
            with pytest.raises(Exception) as info:
                await client.get_json_array("/games", {"season": 2025})
            texts += [
                str(info.value),
                repr(info.value),
                str(info.value.__cause__),
                str(info.value.__context__),
            ]
    async with make_client(Recorder(ok()), max_requests=0) as client:
        with pytest.raises(BudgetExhausted) as budget:
            await client.get_json_array("/games")
        texts.append(str(budget.value))
    async with make_client(Recorder(ok())) as client:
        resp = await client.get_json_array("/games")
        texts.append(repr(resp))
    texts.append(caplog.text)
    texts += [json.dumps(r.__dict__, default=str) for r in caplog.records]
    assert caplog.records  # the client did log
    for text in texts:
        assert KEY not in text


async def test_large_bodies_parse_off_the_event_loop() -> None:
    big = [{"id": n, "playText": "x" * 100} for n in range(5000)]  # ~600 KB
    async with make_client(Recorder(ok(big))) as client:
        resp = await client.get_json_array("/plays/date", {"date": "2025-01-01"})
    assert resp.records == big and resp.nbytes > 256 * 1024
    broken = httpx.Response(200, content=json.dumps(big).encode()[:-1])
    async with make_client(Recorder(broken)) as client:
        with pytest.raises(TerminalApiError, match="malformed JSON"):
            await client.get_json_array("/plays/date", {"date": "2025-01-01"})


async def test_a_refused_connection_after_every_retry_is_unreachable_naming_the_base_url() -> None:
    from reconciler.errors import ApiUnreachable

    rec = Recorder(httpx.ConnectError)
    async with make_client(rec, max_attempts=3) as client:
        with pytest.raises(ApiUnreachable) as info:
            await client.get_json_array("/plays/date", {"date": "2025-01-01"})
    assert "cannot connect to the CBBD API at http://cbbd.test (api.base_url)" in str(info.value)
    assert len(rec.requests) == 3  # retried first: a server restarting is not an outage


async def test_401_without_a_key_says_the_key_is_not_set() -> None:
    rec = Recorder(error(401, "Unauthorized"))
    async with make_client(rec, key=None) as client:
        with pytest.raises(AuthError) as info:
            await client.get_json_array("/games")
    assert "no API key was sent (CBBD_API_KEY is not set)" in str(info.value)
    assert "rejected" not in str(info.value)


class _BrokenStream(httpx.AsyncByteStream):
    """A body that fails after its first chunk (a connection dropped mid-response)."""

    async def __aiter__(self):  # type: ignore[override]
        yield b'[{"id": 1},'
        raise httpx.ReadError("connection reset mid-body")


async def test_a_packed_body_is_compressed_as_it_arrives_and_reads_the_same() -> None:
    records = [{"id": i, "playText": "a jump shot " * 20} for i in range(500)]
    rec = Recorder(error(503, "busy"), ok(records))
    async with make_client(rec) as client:
        packed = await client.get_json_body("/plays/date", {"date": "2025-01-01"}, packed=True)
        plain = await client.get_json_body("/plays/date", {"date": "2025-01-01"})
    assert packed.packed and not plain.packed
    assert packed.attempts == 2 and packed.status == 200 and packed.calllimit_remaining == 999
    assert packed.nbytes == plain.nbytes == len(plain.body) > 4 * len(packed.body)
    assert packed.records() == plain.records() == records


async def test_a_body_cut_mid_stream_is_retried_like_any_read_error() -> None:
    rec = Recorder(httpx.Response(200, stream=_BrokenStream()), ok([{"id": 2}]))
    async with make_client(rec) as client:
        got = await client.get_json_body("/plays/date", {"date": "2025-01-01"}, packed=True)
    assert got.records() == [{"id": 2}] and got.attempts == 2


async def test_a_packed_request_that_fails_reads_its_error_as_before() -> None:
    async with make_client(Recorder(error(400, "Validation Failed"))) as client:
        with pytest.raises(TerminalApiError, match="Validation Failed"):
            await client.get_json_body("/plays/date", {"date": "x"}, packed=True)
