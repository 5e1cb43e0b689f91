"""What a successful call of the API client returns: decoded records, or the raw body."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any

from reconciler.api.payload import json_array

__all__ = ["ApiBody", "ApiResponse"]


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """One successful call: the records and how getting them went.

    Attributes:
        records: The JSON array's elements, each an object.
        status: The HTTP status of the final attempt (2xx).
        elapsed: Seconds from the first attempt's start to the final response, backoff included.
        attempts: Attempts made, 1 when the first one succeeded.
        calllimit_remaining: ``X-CallLimit-Remaining`` of the final response, when sent.
        nbytes: Size of the final response body in bytes.
    """

    records: list[dict[str, Any]] = field(repr=False)
    status: int
    elapsed: float
    attempts: int
    calllimit_remaining: int | None
    nbytes: int


@dataclass(frozen=True, slots=True)
class ApiBody:
    """One successful call whose JSON body is not decoded yet.

    A day of plays is 10-16 MB of JSON and several times that as Python objects: a caller that
    holds responses before writing them (the executor) keeps them as bytes and decodes one at a
    time, where it writes them.

    Attributes:
        body: The raw body of the final response (2xx).
        where: The request (``/path?query``), for messages.
        status: The HTTP status of the final attempt (2xx).
        elapsed: Seconds from the first attempt's start to the final response, backoff included.
        attempts: Attempts made, 1 when the first one succeeded.
        calllimit_remaining: ``X-CallLimit-Remaining`` of the final response, when sent.
        packed: Whether ``body`` is zlib-compressed (``get_json_body(packed=True)``).
        size: The size of the body as sent, when ``body`` is compressed.
    """

    body: bytes = field(repr=False)
    where: str
    status: int
    elapsed: float
    attempts: int
    calllimit_remaining: int | None
    packed: bool = False
    size: int | None = None

    @property
    def nbytes(self) -> int:
        """Size of the body in bytes (as the API sent it)."""
        return self.size if self.size is not None else len(self.body)

    def records(self) -> list[dict[str, Any]]:
        """Decode the body, which must be a JSON array of objects.

        Returns:
            The array's elements (decoded afresh at each call).

        Raises:
            TerminalApiError: If the body is not a JSON array of objects (a contract error).
        """
        return json_array(zlib.decompress(self.body) if self.packed else self.body, self.where)
