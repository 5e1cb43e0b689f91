"""Response bodies: the JSON-array contract of every CBBD endpoint, and readable error messages."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from reconciler.errors import TerminalApiError

__all__ = ["int_or_none", "json_array", "server_message"]

_PRE = re.compile(r"<pre>(.*?)</pre>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)


def int_or_none(raw: str | None) -> int | None:
    """The header value as an int, or None when absent or not an integer."""
    try:
        return int(raw.strip()) if raw is not None else None
    except ValueError:
        return None


def server_message(response: httpx.Response) -> str:
    """A one-line message from an error response.

    Args:
        response: A non-2xx response.

    Returns:
        The JSON ``message`` (with ``details`` when present), or for HTML the text of its
        ``<pre>`` or ``<title>``, whitespace collapsed and shortened.
    """
    text = response.text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        message: str = body["message"]
        details = body.get("details")
        if isinstance(details, dict) and details:
            message += " " + json.dumps(details, separators=(",", ":"), default=str)
        return message[:300]
    for pattern in (_PRE, _TITLE):
        match = pattern.search(text)
        if match:
            text = match.group(1)
            break
    snippet = re.sub(r"<[^>]*>", " ", text)
    return " ".join(snippet.split())[:200] or response.reason_phrase


def json_array(content: bytes, where: str) -> list[dict[str, Any]]:
    """Parse a 2xx body that must be a JSON array of objects.

    Args:
        content: The body.
        where: The request, for the message (``/path?query``).

    Returns:
        The array's elements.

    Raises:
        TerminalApiError: If the body is not JSON, not an array, or holds a non-object.
    """
    try:
        body = json.loads(content)
    except ValueError as exc:
        raise TerminalApiError(
            f"contract error: GET {where} returned malformed JSON ({exc}); expected a JSON array",
            status=200,
            path=where,
        ) from None
    if not isinstance(body, list):
        raise TerminalApiError(
            f"contract error: GET {where} returned a JSON {type(body).__name__}; expected a JSON array",
            status=200,
            path=where,
        )
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            raise TerminalApiError(
                f"contract error: GET {where} element {index} is a {type(item).__name__}; "
                "expected a JSON array of objects",
                status=200,
                path=where,
            )
    return body
