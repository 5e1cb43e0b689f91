"""What the executor works with and hands back: its client and progress ports, its result, date windows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "ApiBodyLike",
    "ApiClientLike",
    "ApiResponseLike",
    "ApplyResult",
    "NullProgress",
    "ProgressSink",
]


class ApiResponseLike(Protocol):
    """What the executor needs from an API response."""

    @property
    def records(self) -> list[dict[str, Any]]:
        """The response's records."""
        ...


class ApiBodyLike(Protocol):
    """What the executor needs from an API response whose body is not decoded yet."""

    @property
    def body(self) -> bytes:
        """The raw body (a JSON array of objects by contract)."""
        ...

    @property
    def where(self) -> str:
        """The request (``/path?query``), for messages."""
        ...


class ApiClientLike(Protocol):
    """What the executor needs from the API client."""

    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> ApiResponseLike:
        """GET a JSON array."""
        ...

    async def get_json_body(self, path: str, params: Mapping[str, Any]) -> ApiBodyLike:
        """GET a JSON array, leaving the body undecoded (it is decoded where it is written)."""
        ...

    @property
    def requests_started(self) -> int:
        """Requests started so far."""
        ...

    @property
    def last_calllimit_remaining(self) -> int | None:
        """The last X-CallLimit-Remaining seen."""
        ...


class ProgressSink(Protocol):
    """Receives progress (the CLI shows a bar; tests collect nothing)."""

    def start(self, total_units: int, total_calls: int) -> None:
        """Work is about to start."""
        ...

    def advance(self, units: int, calls: int, status: str) -> None:
        """An action finished."""
        ...


class NullProgress:
    """Progress that goes nowhere."""

    def start(self, total_units: int, total_calls: int) -> None:
        """Nothing to show."""

    def advance(self, units: int, calls: int, status: str) -> None:
        """Nothing to show."""


@dataclass
class ApplyResult:
    """What an apply did.

    Attributes:
        done: Units filled.
        empty: Units verified empty.
        failed: Units that failed.
        remaining: Units not attempted (stopped early).
        actions_done: Actions completed.
        api_calls: Requests started.
        stopped: Why the apply stopped early, if it did.
        skipped_deletes: Actions that remove data (relayout, dedupe, delete) left for --allow-delete.
        errors: Sample error messages.
        rows: Rows written.
        signal: The signal that interrupted the apply, if any.
        maintenance: Non-data actions done, by type.
        stop_kind: What stopped it: ``budget`` (--max-requests, --max-duration, the quota
            reserve), ``quota`` (429), ``auth``, ``unreachable``, ``signal`` or ``lock``.
    """

    done: int = 0
    empty: int = 0
    failed: int = 0
    remaining: int = 0
    actions_done: int = 0
    api_calls: int = 0
    stopped: str = ""
    skipped_deletes: int = 0
    errors: list[str] = field(default_factory=list)
    rows: int = 0
    signal: int = 0
    maintenance: dict[str, int] = field(default_factory=dict)
    stop_kind: str = ""
