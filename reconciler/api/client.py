"""The async CBBD API client: paced, retrying, quota-aware, and careful with the key.

Every attempt goes through one :class:`~reconciler.api.pacing.StrictPacer`, so retries count
against the rate limit like any other request. Failures are translated into the exception tree of
:mod:`reconciler.errors` at this boundary:

* 5xx, 408, timeouts, connection errors and resets: retried with capped exponential backoff and
  jitter (``Retry-After`` honoured), then :class:`TransientApiError`;
* 429: :class:`QuotaExhausted` at once (the monthly quota is spent; retrying cannot help);
* 401: :class:`AuthError`; other 4xx: :class:`TerminalApiError` with the server's message;
* a 2xx that is not a JSON array of objects: :class:`TerminalApiError` (a contract error).

The API key is sent only in the ``Authorization`` header. It never appears in an exception
message, a log line or a ``repr``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any
from urllib.parse import urlencode

import anyio
import httpx

from reconciler.api.pacing import Sleep, StrictPacer
from reconciler.api.payload import int_or_none, server_message
from reconciler.api.responses import ApiBody, ApiResponse
from reconciler.api.retry import Jitter, backoff_delay, parse_retry_after
from reconciler.config import ApiSettings
from reconciler.errors import (
    ApiUnreachable,
    AuthError,
    BudgetExhausted,
    ConfigError,
    QuotaExhausted,
    TerminalApiError,
    TransientApiError,
)

__all__ = ["ApiBody", "ApiResponse", "CbbdClient", "check_send_log"]


@dataclass(frozen=True, slots=True)
class _Packed:
    """A 2xx body compressed as it arrived: the zlib bytes and the body's size."""

    data: bytes
    size: int


async def _read_packed(response: httpx.Response) -> _Packed:
    """Read a streamed response's (decoded) body into zlib level 1, chunk by chunk."""
    deflate = zlib.compressobj(1)
    parts: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        out = deflate.compress(chunk)
        if out:
            parts.append(out)
    parts.append(deflate.flush())
    return _Packed(b"".join(parts), size)


logger = logging.getLogger(__name__)

#: Where the client appends its request starts when set (a diagnostics hook; see ``send_log``).
SEND_LOG_ENV = "RECONCILE_SEND_LOG"

CALL_LIMIT_HEADER = "X-CallLimit-Remaining"
_PARSE_IN_THREAD_BYTES = 256 * 1024
_BEARER = "Bearer "


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(
        self, reason: str, *, status: int | None = None, retry_after: float | None = None, connect: bool = False
    ) -> None:
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.connect = connect  # no connection was made at all
        super().__init__(reason)


class CbbdClient:
    """Async client for the CBBD API.

    Use as ``async with CbbdClient(settings, key) as client: await client.get_json_array(...)``,
    or call :meth:`aclose` when done.
    """

    def __init__(
        self,
        settings: ApiSettings,
        api_key: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_requests: int | None = None,
        pacer: StrictPacer | None = None,
        retry_sleep: Sleep | None = None,
        jitter: Jitter = "full",
        rng: random.Random | None = None,
        pacing_margin: float | None = None,
        send_log: str | os.PathLike[str] | None = None,
    ) -> None:
        """Create a client.

        Args:
            settings: Base URL, pacing, timeout and retry policy.
            api_key: The CBBD key (with or without a leading ``Bearer ``), or None to send none.
            transport: An httpx transport (``httpx.MockTransport`` in unit tests).
            max_requests: Most requests this client may start, retries included; None = no limit.
            pacer: A pacer to share with other clients; built from ``settings`` when None.
            retry_sleep: The sleep used between retries (injectable so tests need not wait).
            jitter: Backoff jitter scheme: ``full`` or ``equal`` (``none`` for tests).
            rng: Random source for jitter.
            pacing_margin: Seconds added to the pacing window so that the server, which sees
                requests a moment after they start here, never sees more than the rate in any
                second (default: ``settings.pacing_margin_seconds``).
            send_log: Append one JSON line (``ts``, ``path``) per request when it starts, i.e.
                when its headers are written (default: ``$RECONCILE_SEND_LOG`` if set). The
                pacing rule is about these starts; a server's log shows them plus its own delays.

        Raises:
            ValueError: If ``max_requests`` is negative.
            ConfigError: If the send log cannot be opened for appending.
        """
        if max_requests is not None and max_requests < 0:
            raise ValueError("max_requests must be non-negative")
        self._settings = settings
        self._key = _bare_key(api_key)
        self._max_requests = max_requests
        margin = settings.pacing_margin_seconds if pacing_margin is None else pacing_margin
        self._pacer = pacer or StrictPacer(settings.rate_limit_per_sec, settings.max_concurrency, margin=margin)
        self._retry_sleep: Sleep = retry_sleep or _anyio_sleep
        self._jitter: Jitter = jitter
        self._rng = rng or random.Random()
        log_path = send_log if send_log is not None else os.environ.get(SEND_LOG_ENV)
        self._send_log = _open_send_log(log_path) if log_path else None
        self._started = 0
        self._pending = 0  # started, response not yet seen: each may still spend a call
        self._last_remaining: int | None = None
        self._min_remaining: int | None = None
        headers = {"Accept": "application/json"}
        if self._key is not None:
            headers["Authorization"] = _BEARER + self._key
        limits = httpx.Limits(
            max_connections=settings.max_concurrency, max_keepalive_connections=settings.max_concurrency
        )
        self._http = httpx.AsyncClient(
            base_url=settings.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_seconds),
            transport=transport,
            limits=limits,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        key = "set" if self._key else "unset"
        return f"CbbdClient(base_url={self._settings.base_url!r}, key={key}, started={self._started})"

    async def __aenter__(self) -> CbbdClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying HTTP connections (and the send log)."""
        await self._http.aclose()
        if self._send_log is not None:
            self._send_log.close()
            self._send_log = None

    @property
    def requests_started(self) -> int:
        """Requests started so far, every retry included."""
        return self._started

    @property
    def last_calllimit_remaining(self) -> int | None:
        """``X-CallLimit-Remaining`` from the most recent response that carried it."""
        return self._last_remaining

    @property
    def base_url(self) -> str:
        """The API's base URL (``api.base_url``), for messages."""
        return self._settings.base_url

    @property
    def pacer(self) -> StrictPacer:
        """The pacer every attempt goes through."""
        return self._pacer

    async def get_json_array(self, path: str, params: Mapping[str, Any] | None = None) -> ApiResponse:
        """GET ``path`` and return its JSON array, retrying transient failures.

        Args:
            path: The endpoint path, e.g. ``/plays/game/123``.
            params: Query parameters; None values are dropped.

        Returns:
            The records and the call's metadata.

        Raises:
            BudgetExhausted: ``max_requests`` or the quota reserve was reached before a start.
            QuotaExhausted: 429, the monthly quota is spent.
            AuthError: 401, the key is missing or wrong.
            TerminalApiError: Another 4xx, or a 2xx that is not a JSON array of objects.
            TransientApiError: Every attempt failed with a 5xx, timeout or connection error.
        """
        raw = await self.get_json_body(path, params)
        if raw.nbytes > _PARSE_IN_THREAD_BYTES:
            # A day of plays can be tens of MB: parsing it on the event loop would stall every
            # other request (and delay their sends past the pacer's start stamps).
            records = await anyio.to_thread.run_sync(raw.records)
        else:
            records = raw.records()
        return ApiResponse(
            records=records,
            status=raw.status,
            elapsed=raw.elapsed,
            attempts=raw.attempts,
            calllimit_remaining=raw.calllimit_remaining,
            nbytes=raw.nbytes,
        )

    async def get_json_body(
        self, path: str, params: Mapping[str, Any] | None = None, *, packed: bool = False
    ) -> ApiBody:
        """GET ``path`` like :meth:`get_json_array`, but leave the body undecoded.

        The JSON-array contract is checked when the body is decoded (:meth:`ApiBody.records`).

        Args:
            path: The endpoint path, e.g. ``/plays/date``.
            params: Query parameters; None values are dropped.
            packed: Keep a 2xx body zlib-compressed, compressing it as it arrives: a day of
                plays (10-20 MB) is never whole in memory until it is decoded.

        Returns:
            The raw body (compressed when ``packed``) and the call's metadata.

        Raises:
            BudgetExhausted: ``max_requests`` or the quota reserve was reached before a start.
            QuotaExhausted: 429, the monthly quota is spent.
            AuthError: 401, the key is missing or wrong.
            TerminalApiError: Another 4xx.
            TransientApiError: Every attempt failed with a 5xx, timeout or connection error.
        """
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        where = f"{path}?{urlencode(query)}" if query else path
        first = time.monotonic()
        max_attempts = self._settings.retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                response, body = await self._attempt(path, query, where, packed)
                return await self._accept(response, where, first, attempt, body)
            except _Retryable as failure:
                if attempt >= max_attempts and failure.connect:
                    raise ApiUnreachable(
                        self._redact(
                            f"cannot connect to the CBBD API at {self._settings.base_url} (api.base_url): "
                            f"{failure.reason}; gave up after {attempt} attempts"
                        ),
                        path=where,
                    ) from None
                if attempt >= max_attempts:
                    raise TransientApiError(
                        self._redact(f"GET {where}: {failure.reason}; gave up after {attempt} attempts"),
                        status=failure.status,
                        path=where,
                    ) from None
                delay = self._delay(attempt, failure.retry_after)
                logger.warning(
                    "GET %s: %s; retry %d/%d in %.2f s",
                    where,
                    self._redact(failure.reason),
                    attempt + 1,
                    max_attempts,
                    delay,
                )
                await self._retry_sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        retry = self._settings.retry
        delay = backoff_delay(
            attempt,
            base=retry.base_delay_seconds,
            cap=retry.max_delay_seconds,
            jitter=self._jitter,
            rng=self._rng,
        )
        return max(delay, retry_after) if retry_after is not None else delay

    def _reserve_start(self, where: str) -> None:
        # Check and count in one synchronous step so concurrent callers cannot overshoot.
        if self._max_requests is not None and self._started >= self._max_requests:
            raise BudgetExhausted(f"request budget of {self._max_requests} reached before GET {where}")
        # The reserve is what must be left: a call may start only if, after it and every call
        # still in flight, at least ``quota_reserve`` calls remain.
        reserve = self._settings.quota_reserve
        left = self._min_remaining
        if reserve > 0 and left is not None and left - self._pending <= reserve:
            raise BudgetExhausted(
                f"quota reserve reached: {left} calls left, {self._pending} in flight "
                f"(reserve {reserve}) before GET {where}"
            )
        self._started += 1
        self._pending += 1

    async def _attempt(
        self, path: str, query: Mapping[str, str], where: str, packed: bool = False
    ) -> tuple[httpx.Response, _Packed | None]:
        self._reserve_start(where)
        try:
            ticket = await self._pacer.acquire()
        except BaseException:
            # Cancelled while waiting for the pacer: nothing was started.
            self._started -= 1
            self._pending -= 1
            raise

        async def trace(event: str, info: Mapping[str, Any]) -> None:
            # The request is on the wire once its headers are written: that is its real start.
            if event.endswith("send_request_headers.complete"):
                self._pacer.mark_sent(ticket)
                if self._send_log is not None:
                    self._send_log.write(json.dumps({"ts": time.time(), "path": where}) + "\n")

        began = time.monotonic()
        body: _Packed | None = None
        try:
            request = self._http.build_request("GET", path, params=query, extensions={"trace": trace})
            response = await self._http.send(request, stream=True)
            try:
                if packed and 200 <= response.status_code < 300:
                    body = await _read_packed(response)
                else:
                    await response.aread()
            finally:
                await response.aclose()
        except httpx.ConnectTimeout as exc:
            raise _Retryable(f"connection timed out ({type(exc).__name__})", connect=True) from None
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out ({type(exc).__name__})") from None
        except (httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})", connect=True) from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection error ({type(exc).__name__}: {exc})") from None
        except httpx.HTTPError as exc:
            raise TerminalApiError(self._redact(f"GET {where}: {type(exc).__name__}: {exc}"), path=where) from None
        finally:
            self._pacer.release(ticket)
            self._pending -= 1
        logger.debug(
            "GET %s -> %d (%d bytes, %.3f s)",
            where,
            response.status_code,
            body.size if body is not None else len(response.content),
            time.monotonic() - began,
        )
        self._note_remaining(response)
        return response, body

    def _note_remaining(self, response: httpx.Response) -> None:
        raw = response.headers.get(CALL_LIMIT_HEADER)
        if raw is None:
            return
        value = int_or_none(raw)
        if value is None:
            logger.debug("ignoring a non-integer %s header", CALL_LIMIT_HEADER)
            return
        self._last_remaining = value
        # Responses can arrive out of order; within a run the quota only goes down.
        self._min_remaining = value if self._min_remaining is None else min(self._min_remaining, value)

    async def _accept(
        self, response: httpx.Response, where: str, first: float, attempt: int, packed: _Packed | None = None
    ) -> ApiBody:
        status = response.status_code
        if 200 <= status < 300:
            return ApiBody(
                body=packed.data if packed is not None else response.content,
                packed=packed is not None,
                size=packed.size if packed is not None else None,
                where=where,
                status=status,
                elapsed=time.monotonic() - first,
                attempts=attempt,
                calllimit_remaining=int_or_none(response.headers.get(CALL_LIMIT_HEADER)),
            )
        message = self._redact(server_message(response))
        if status == 429:
            raise QuotaExhausted(
                f"GET {where}: 429, the monthly CBBD call quota is spent ({message}); "
                "stopping, re-run after the quota resets",
                status=status,
                path=where,
            )
        if status == 401:
            what = (
                "no API key was sent (CBBD_API_KEY is not set)"
                if self._key is None
                else "the CBBD API rejected the key (check CBBD_API_KEY)"
            )
            raise AuthError(f"GET {where}: 401 Unauthorized, {what}", status=status, path=where)
        if status >= 500 or status == 408:
            raise _Retryable(
                f"{status} {message}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        raise TerminalApiError(f"GET {where}: {status} {message}", status=status, path=where)

    def _redact(self, text: str) -> str:
        if self._key:
            text = text.replace(self._key, "***")
        return text


def check_send_log() -> None:
    """Check that ``$RECONCILE_SEND_LOG``, when set, can be appended to (before any work starts).

    Raises:
        ConfigError: If it cannot.
    """
    path = os.environ.get(SEND_LOG_ENV)
    if path:
        _open_send_log(path).close()


def _open_send_log(path: str | os.PathLike[str]) -> IO[str]:
    """Open the send log for appending, or say in one line why it cannot be."""
    try:
        return open(path, "a", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise ConfigError(f"${SEND_LOG_ENV}: cannot write {os.fspath(path)} ({exc.strerror or exc})") from None


def _bare_key(api_key: str | None) -> str | None:
    if api_key is None:
        return None
    key = api_key.strip()
    if key.startswith(_BEARER):
        key = key[len(_BEARER) :].strip()
    return key or None


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


async def _anyio_sleep(seconds: float) -> None:
    await anyio.sleep(seconds)
