"""Response bodies: the JSON-array contract of every CBBD endpoint, and readable error messages."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any

import httpx

from reconciler.errors import TerminalApiError

__all__ = ["int_or_none", "iter_json_array", "json_array", "server_message"]

_PRE = re.compile(r"<pre>(.*?)</pre>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL | re.IGNORECASE)
_DECODER = json.JSONDecoder()


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


def _fail(content: bytes, where: str) -> TerminalApiError:
    """The contract error for a body that is not a JSON array of objects (the one :func:`json_array` raises)."""
    try:
        json_array(content, where)
    except TerminalApiError as exc:
        return exc
    return TerminalApiError(
        f"contract error: GET {where} returned a body that does not read as a JSON array of objects",
        status=200,
        path=where,
    )


#: Bytes of a body decoded to text at a time by :func:`iter_json_array`.
TEXT_CHUNK = 1 << 20


class _Text:
    """A body's text, decoded a chunk at a time: the text kept runs from the element being read."""

    def __init__(self, content: bytes, chunk: int) -> None:
        self._content = memoryview(content)
        self._chunk = chunk
        self._next = 0
        self._done = False
        self._decoder = codecs.getincrementaldecoder(json.detect_encoding(content))("surrogatepass")
        self.buf = ""
        self.pos = 0

    def more(self) -> bool:
        """Decode the next chunk onto the text (dropping what was read); False at the end."""
        if self._done:
            return False
        piece = self._content[self._next : self._next + self._chunk]
        self._next += len(piece)
        self._done = self._next >= len(self._content)
        self.buf = self.buf[self.pos :] + self._decoder.decode(piece, self._done)
        self.pos = 0
        return True

    def skip(self) -> str:
        """Skip JSON whitespace, decoding more as needed; the next character, or "" at the end."""
        while True:
            buf, pos = self.buf, self.pos
            while pos < len(buf) and buf[pos] in " \t\n\r":
                pos += 1
            self.pos = pos
            if pos < len(buf):
                return buf[pos]
            if not self.more():
                return ""


def iter_json_array(content: bytes, where: str, chunk: int = TEXT_CHUNK) -> Iterator[dict[str, Any]]:
    """The elements of a 2xx body that must be a JSON array of objects, decoded one at a time.

    A day of plays is 10-20 MB of JSON; decoded whole it is several times that in Python
    objects. Here only a chunk of the text and the element being read are alive: each element
    is decoded by the same decoder as :func:`json_array` (so values, duplicate keys and
    non-finite numbers read exactly as they do there) and handed over before the next is read.

    Args:
        content: The body.
        where: The request (``/path?query``), for the message.
        chunk: Bytes decoded to text at a time.

    Yields:
        The array's elements, in order.

    Raises:
        TerminalApiError: If the body is not a JSON array of objects, with the message
            :func:`json_array` gives (elements before the fault may have been yielded already).
    """
    try:
        yield from _elements(_Text(content, max(1, chunk)))
    except (ValueError, _NotAnArray):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise _fail(content, where) from None


class _NotAnArray(Exception):
    """The body read so far is not a JSON array of objects."""


def _elements(text: _Text) -> Iterator[dict[str, Any]]:
    if text.skip() != "[":
        raise _NotAnArray
    text.pos += 1
    if text.skip() == "]":
        text.pos += 1
        if text.skip():
            raise _NotAnArray
        return
    while True:
        while True:
            try:
                item, end = _DECODER.raw_decode(text.buf, text.pos)
                break
            except json.JSONDecodeError:
                if not text.more():  # an element cut by the chunk's end reads whole with more text
                    raise
        if not isinstance(item, dict):
            raise _NotAnArray
        text.pos = end
        yield item
        c = text.skip()
        if c == ",":
            text.pos += 1
            text.skip()
            continue
        if c != "]":
            raise _NotAnArray
        text.pos += 1
        if text.skip():
            raise _NotAnArray
        return
