"""The API side's ports: the client the executor fetches through, and where progress goes."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Protocol

__all__ = ["QUOTA_META_KEY", "ApiBodyLike", "ApiClientLike", "ApiResponseLike", "ProgressSink"]

#: The state store's metadata key of the last X-CallLimit-Remaining an apply saw (the quota left).
QUOTA_META_KEY = "api.calllimit_remaining"


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

    @property
    def packed(self) -> bool:
        """Whether ``body`` is zlib-compressed."""
        ...


class ApiClientLike(Protocol):
    """What the executor needs from the API client."""

    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> ApiResponseLike:
        """GET a JSON array."""
        ...

    async def get_json_body(self, path: str, params: Mapping[str, Any], *, packed: bool = False) -> ApiBodyLike:
        """GET a JSON array, leaving the body undecoded (it is decoded where it is written).

        With ``packed``, a 2xx body may come back zlib-compressed (``packed`` says whether it did).
        """
        ...

    @property
    def requests_started(self) -> int:
        """Requests started so far."""
        ...

    @property
    def last_calllimit_remaining(self) -> int | None:
        """The last X-CallLimit-Remaining seen."""
        ...

    async def __aenter__(self) -> Any:
        """Open the client's connections."""
        ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Any:
        """Close them."""
        ...


class ProgressSink(Protocol):
    """Receives progress (the CLI shows a bar; tests collect nothing)."""

    def start(self, total_units: int, total_calls: int) -> None:
        """Work is about to start."""
        ...

    def advance(self, units: int, calls: int, status: str) -> None:
        """An action finished."""
        ...
