"""An in-memory CBBD API for the executor (ApiClientLike) with a scripted fault schedule, and crash points.

The records come from the simulator's request logic (:class:`reconciler.sim.app.SimApp`) over
the sandbox's synthetic universe, without sockets. Faults are a deterministic function of the
request and how often it was asked, so a schedule does not depend on task interleaving.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import QuotaExhausted, TerminalApiError, TransientApiError
from reconciler.ports import ObjectStore, StateStore, UnitRecord
from reconciler.sim.app import SimApp

FAULT_KINDS = ("transient", "terminal", "bad_payload", "quota")


class Crash(Exception):
    """Stands for kill -9: raised at a write point, nothing after it runs."""


@dataclass(frozen=True)
class FakeResponse:
    records: list[dict[str, Any]]


@dataclass(frozen=True)
class FakeBody:
    body: bytes
    where: str
    packed: bool = False


@dataclass
class FakeApi:
    """Implements ``ApiClientLike`` over a SimApp.

    Attributes:
        app: The simulator's request logic.
        rates: Fault kind → probability (per request, decided by hashing it with ``seed``).
        seed: Varies the fault schedule.
        crash_at: Raise :class:`Crash` when the n-th request (1-based) starts.
        log: Every request started, as ``(path, params, outcome)``.
    """

    app: SimApp
    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    crash_at: int | None = None
    log: list[tuple[str, str, str]] = field(default_factory=list)
    _asked: Counter[str] = field(default_factory=Counter)

    @property
    def requests_started(self) -> int:
        return len(self.log)

    @property
    def last_calllimit_remaining(self) -> int | None:
        return None

    def _fault(self, where: str) -> str | None:
        self._asked[where] += 1
        h = hashlib.sha256(f"{self.seed}|{where}|{self._asked[where]}".encode()).digest()
        roll = int.from_bytes(h[:8], "big") / 2**64
        edge = 0.0
        for kind in FAULT_KINDS:
            edge += self.rates.get(kind, 0.0)
            if roll < edge:
                return kind
        return None

    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> FakeResponse:
        raw = await self.get_json_body(path, params)
        return FakeResponse(json.loads(raw.body))

    async def get_json_body(self, path: str, params: Mapping[str, Any], *, packed: bool = False) -> FakeBody:
        where = path + "?" + json.dumps({k: str(v) for k, v in params.items()}, sort_keys=True)
        if self.crash_at is not None and len(self.log) + 1 >= self.crash_at:
            raise Crash(f"killed at request {len(self.log) + 1}")
        fault = self._fault(where)
        self.log.append((path, where, fault or "ok"))
        if fault == "transient":
            raise TransientApiError(f"GET {where}: 503; gave up after 5 attempts", status=503, path=where)
        if fault == "terminal":
            raise TerminalApiError(f"contract error: GET {where} returned malformed JSON", status=200, path=where)
        if fault == "quota":
            raise QuotaExhausted(f"GET {where}: 429, the monthly CBBD call quota is spent", status=429, path=where)
        reply = self.app.respond("GET", path, {k: str(v) for k, v in params.items()}, "Bearer test")
        assert reply.status == 200, (where, reply.status, reply.body[:200])
        records = json.loads(reply.body)
        if fault == "bad_payload" and records:
            # Well-formed JSON that breaks the contract: ids that are not integers.
            records = [{**r, "id": f"bad-{r.get('id')}"} for r in records]
        return FakeBody(json.dumps(records).encode(), where)


class CrashingStore:
    """An ObjectStore that dies (raises Crash) before its n-th write."""

    def __init__(self, inner: ObjectStore, crash_at: int | None) -> None:
        self._inner = inner
        self._crash_at = crash_at
        self.puts = 0

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        self.puts += 1
        if self._crash_at is not None and self.puts >= self._crash_at:
            raise Crash(f"killed before write {self.puts} ({key})")
        return self._inner.put(key, data, if_absent=if_absent)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class CrashingState:
    """A StateStore that dies (raises Crash) before its n-th checkpoint."""

    def __init__(self, inner: StateStore, crash_at: int | None) -> None:
        self._inner = inner
        self._crash_at = crash_at
        self.records = 0

    def record_units(self, records: Iterable[UnitRecord]) -> None:
        self.records += 1
        if self._crash_at is not None and self.records >= self._crash_at:
            raise Crash(f"killed before checkpoint {self.records}")
        self._inner.record_units(records)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def crashed(exc: BaseException) -> bool:
    """Whether an exception (or every leaf of an exception group) is a Crash."""
    if isinstance(exc, BaseExceptionGroup):
        return all(crashed(e) for e in exc.exceptions)
    return isinstance(exc, Crash)


def leaves(exc: BaseException) -> Sequence[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [x for e in exc.exceptions for x in leaves(e)]
    return [exc]
