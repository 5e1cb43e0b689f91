"""Digests the observation cache keys its entries by: of a listing, of this package's code.

Pure helpers shared by the cache's adapter (:mod:`reconciler.adapters.obs_cache`) and the
observation that builds the keys (:mod:`reconciler.observe`), so neither imports the other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["CACHE_VERSION", "JsonMemo", "code_version", "listing_fingerprint", "result_key"]

#: Bump when the meaning of a cached entry changes (invalidates every older entry).
CACHE_VERSION = "1"


@lru_cache(maxsize=1)
def code_version() -> str:
    """This package's version and a digest of its source, which every cached entry is keyed by.

    The source is in it because entries are shared between machines (``cache.shared``) that may
    run different commits of one version: a CI runner planning a branch must not be answered from
    the main branch's entries, nor the other way round.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        ver = version("cbbd-reconciler")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree without metadata
        ver = "unknown"
    root = Path(__file__).resolve().parents[1]  # the package: reconciler/
    digest = hashlib.sha256()
    try:
        for path in sorted(root.rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:  # pragma: no cover - an unreadable installation: the version alone
        return ver
    return f"{ver}+{digest.hexdigest()[:16]}"


class JsonMemo:
    """JSON text of values many objects share, each encoded or decoded once per memo.

    A table's objects share a few schemas and a folder's objects their ranges, so a cache of
    129k footers holds far fewer distinct texts than objects.
    """

    def __init__(self) -> None:
        """An empty memo."""
        self._text: dict[Any, str] = {}
        self._value: dict[str, Any] = {}

    def dumps(self, value: Any) -> str:
        """``json.dumps(value)`` (a hashable value), computed once per distinct value."""
        got = self._text.get(value)
        if got is None:
            got = self._text[value] = json.dumps(value)
        return got

    def loads(self, text: str, convert: Callable[[Any], Any]) -> Any:
        """``convert(json.loads(text))``, computed once per distinct text (one ``convert`` per memo)."""
        got = self._value.get(text)
        if got is None:
            got = self._value[text] = convert(json.loads(text))
        return got


def listing_fingerprint(entries: Iterable[tuple[str, int, float, str]]) -> str:
    """A digest of a table's objects: (key, size, mtime, etag) of each, in key order.

    Args:
        entries: The objects.

    Returns:
        A hex digest.
    """
    h = hashlib.sha256(CACHE_VERSION.encode())
    for key, size, mtime, etag in sorted(entries):
        h.update(f"{key}\0{size}\0{mtime!r}\0{etag}\n".encode())
    return h.hexdigest()


def result_key(sql: str, listings: Mapping[str, str], context: str = "") -> str:
    """The key of a query's result: its text and the fingerprints of the tables it reads.

    Args:
        sql: The query as the engine runs it.
        listings: Table name → :func:`listing_fingerprint`.
        context: What else the answer depends on (the lake's URI, engine and code versions).

    Returns:
        A hex digest.
    """
    payload = json.dumps({"v": CACHE_VERSION, "sql": sql, "tables": dict(sorted(listings.items())), "context": context})
    return hashlib.sha256(payload.encode()).hexdigest()
