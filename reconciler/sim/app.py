"""The simulator's request logic, free of sockets: route → auth → quota → params → fault → handler.

The order follows the real server (cbbd_api.md §1): an unknown route is Express's HTML 404
before any auth; auth failures are 401 JSON; a spent quota is 429 with no ``Retry-After``; bad
params are 400 ``Validation Failed``. A call is reserved from the quota before the handler runs
and refunded unless the response is a 2xx; injected faults are refunded too.
``X-CallLimit-Remaining`` goes on every authenticated response when a quota is set.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.sim.data import ApiData
from reconciler.sim.faults import FaultInjector
from reconciler.sim.routes import Route, SimStore, ValidationFailed, match, validate

__all__ = ["JSON_TYPE", "Quota", "Reply", "SimApp"]

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
NO_BEARER = (
    'Unauthorized. Did you forget to add "Bearer " before your key? Go to CollegeBasketballData.com '
    "to register for your free API key. See the CFBD Blog for examples on usage..."
)
GATEWAY_504 = (
    b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)
_BEARER = re.compile(r"Bearer (?P<token>.+)")


@dataclass(frozen=True, slots=True)
class Reply:
    """What to do with one request.

    Attributes:
        status: The HTTP status, or None when no response is sent (``reset``, ``hang``).
        body: The body bytes.
        content_type: The Content-Type header.
        headers: Extra headers.
        fault: The injected fault kind, or None.
        action: ``reply`` normally; ``reset`` to abort the connection; ``hang`` to stall.
    """

    status: int | None
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    fault: str | None = None
    action: Literal["reply", "reset", "hang"] = "reply"


class Quota:
    """A thread-safe monthly call counter (None = unlimited)."""

    def __init__(self, total: int | None) -> None:
        """Start with ``total`` calls left (None for no limit)."""
        if total is not None and total < 0:
            raise ValueError("quota must be non-negative")
        self._left = total
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int | None:
        """Calls left, or None when unlimited."""
        return self._left

    def reserve(self) -> bool:
        """Take one call if any is left; False when the quota is spent."""
        with self._lock:
            if self._left is None:
                return True
            if self._left <= 0:
                return False
            self._left -= 1
            return True

    def refund(self) -> None:
        """Give back a reserved call (the response was not a 2xx)."""
        with self._lock:
            if self._left is not None:
                self._left += 1


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def not_found(method: str, path: str) -> Reply:
    """Express's default 404: an HTML page, not JSON."""
    body = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n'
        f"</head>\n<body>\n<pre>Cannot {method} {_escape(path)}</pre>\n</body>\n</html>\n"
    )
    return Reply(404, body.encode(), HTML_TYPE)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SimApp:
    """Answers requests from an :class:`ApiData` provider, with auth, quota and faults."""

    def __init__(
        self,
        data: ApiData,
        *,
        api_key: str | None = None,
        quota: int | None = None,
        fault_rates: Mapping[str, float] | None = None,
        seed: int = 0,
    ) -> None:
        """Build the game index and the counters.

        Args:
            data: The records to serve.
            api_key: The only accepted bearer token; any token is accepted when None.
            quota: Monthly calls available; None for unlimited.
            fault_rates: Fault kind → probability.
            seed: Seed of the fault RNG.
        """
        self.store = SimStore(data)
        self.quota = Quota(quota)
        self.faults = FaultInjector(fault_rates, seed=seed)
        self._api_key = api_key

    def respond(self, method: str, path: str, query: Mapping[str, str], authorization: str | None) -> Reply:
        """Answer one request.

        Args:
            method: The HTTP method.
            path: The URL path, without the query string.
            query: Query params, first value of each.
            authorization: The Authorization header, if sent.

        Returns:
            The reply to send (or the fault to act out).
        """
        found = match(path) if method == "GET" else None
        if found is None:
            return not_found(method, path)
        token = _BEARER.search(authorization or "")
        if token is None:
            return Reply(401, _json({"message": NO_BEARER}))
        if self._api_key is not None and token.group("token") != self._api_key:
            return Reply(401, _json({"message": "Unauthorized"}))
        if not self.quota.reserve():
            return Reply(429, _json({"message": "Monthly call quota exceeded."}), headers=self._remaining())
        try:
            reply = self._serve(found[0], found[1], query)
        except BaseException:
            self.quota.refund()  # the caller answers 500, which costs nothing
            raise
        if reply.status is None or not 200 <= reply.status < 300 or reply.fault is not None:
            self.quota.refund()
        if reply.action != "reply" or reply.fault == "504":
            return reply
        return Reply(reply.status, reply.body, reply.content_type, self._remaining(), reply.fault)

    def _remaining(self) -> tuple[tuple[str, str], ...]:
        left = self.quota.remaining
        return () if left is None else (("X-CallLimit-Remaining", str(left)),)

    def _serve(self, found: Route, path_params: Mapping[str, str], query: Mapping[str, str]) -> Reply:
        try:
            params = validate(found, path_params, query)
        except ValidationFailed as exc:
            return Reply(400, _json({"message": "Validation Failed", "details": exc.details}))
        kind, variant = self.faults.draw()
        if kind == "5xx":
            if variant < 0.5:
                return Reply(500, _json({"message": "Internal Server Error"}), fault=kind)
            unavailable = {"message": "Unable to verify call quota. Please retry later."}
            return Reply(503, _json(unavailable), fault=kind)
        if kind == "504":
            return Reply(504, GATEWAY_504, HTML_TYPE, fault=kind)
        if kind in ("timeout", "reset"):
            return Reply(None, fault=kind, action="hang" if kind == "timeout" else "reset")
        if kind == "nonarray":
            return Reply(200, _json({"message": "OK", "data": []}), fault=kind)
        if kind == "empty":
            return Reply(200, b"[]", fault=kind)
        body = _json(found.handler(self.store, params))
        if kind == "malformed":
            # Cut inside the document so that it can never parse; Content-Length will match.
            cut = max(1, min(len(body) - 1, int(len(body) * (0.25 + variant / 2))))
            return Reply(200, body[:cut], fault=kind)
        return Reply(200, body)
