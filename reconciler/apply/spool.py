"""The response spool: fetched bodies kept on local disk until their data is in the lake.

A fetch is paid for once. As soon as a response has arrived it is written here (packed, as the
executor holds it), fsynced and renamed into place; from then on it no longer counts against the
responses an apply may hold unwritten, so the next request starts while the writer catches up.
Once the action's data is written and its units are checkpointed, the entry is dropped. An apply
killed with entries still here (kill -9, a lost ECS task's process, a stop that abandons the
backlog) replays them on the next apply instead of asking the API again: a resume repeats at most
the requests that were in flight.

An entry is one file, ``<key>.resp``: a JSON header line (format version, target, request,
parameters, when fetched, the body's size and CRC-32), then the packed body. Its key hashes the
target, the request path and the request parameters: an entry is replayed only for the same
request of the same target. Entries older than :data:`MAX_AGE_SECONDS` are dropped unread (the
API's data may have changed since); a torn or damaged entry is dropped and fetched again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler.apply.materialize import Response

__all__ = ["MAX_AGE_SECONDS", "Spool", "spool_key"]

log = logging.getLogger(__name__)

#: Entries older than this are dropped, not replayed (seconds).
MAX_AGE_SECONDS = 24 * 3600.0
_VERSION = 1
_SUFFIX = ".resp"
_PARTIAL = ".part"


def spool_key(target: str, path: str, params: Mapping[str, Any]) -> str:
    """The key of one request of one target.

    Args:
        target: The spec name.
        path: The request path (e.g. ``/plays/date``).
        params: The request's query parameters.

    Returns:
        A hex digest, the entry's file name without its suffix.
    """
    text = json.dumps([target, path, {str(k): str(v) for k, v in params.items()}], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


class Spool:
    """A directory of fetched responses not yet written to the lake."""

    def __init__(self, root: Path, *, max_age: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.time) -> None:
        """Open (and create) the spool, removing partial writes and entries too old to replay.

        Args:
            root: The spool's directory (one per lake: the apply lock makes one writer at a time).
            max_age: Entries older than this many seconds are dropped.
            clock: Returns epoch seconds.
        """
        self.root = root
        self.max_age = max_age
        self.clock = clock
        root.mkdir(parents=True, exist_ok=True)
        now = clock()
        for p in root.iterdir():
            if p.name.endswith(_PARTIAL):
                p.unlink(missing_ok=True)
            elif p.name.endswith(_SUFFIX):
                with contextlib.suppress(OSError):
                    if now - p.stat().st_mtime > max_age:
                        p.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / f"{key}{_SUFFIX}"

    def keys(self) -> set[str]:
        """The keys of the entries present.

        Returns:
            Their keys.
        """
        return {p.name[: -len(_SUFFIX)] for p in self.root.glob(f"*{_SUFFIX}")}

    def put(self, key: str, target: str, response: Response) -> int:
        """Write one response durably (fsync, then an atomic rename, then the directory's fsync).

        Args:
            key: Its key (:func:`spool_key`).
            target: The spec name.
            response: A response holding a body (packed or not).

        Returns:
            The bytes written.

        Raises:
            ValueError: If the parameters would not read back equal (only JSON values are spooled).
        """
        if json.loads(json.dumps(dict(response.params))) != dict(response.params):
            raise ValueError(f"spool: parameters of {response.where} are not plain JSON values")
        body = response.body if response.body is not None else b""
        header = {
            "v": _VERSION,
            "target": target,
            "where": response.where,
            "params": dict(response.params),
            "packed": response.packed,
            "fetched": self.clock(),
            "size": len(body),
            "crc": zlib.crc32(body),
        }
        line = json.dumps(header, separators=(",", ":"), default=str).encode("utf-8") + b"\n"
        final = self._path(key)
        partial = final.with_name(final.name + _PARTIAL)
        with partial.open("wb") as f:
            f.write(line)
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, final)
        self._sync_dir()
        return len(line) + len(body)

    def get(self, key: str, target: str) -> Response | None:
        """The response spooled under a key, if it is whole, fresh and of this target.

        Args:
            key: Its key.
            target: The spec name it must belong to.

        Returns:
            The response, or None (a damaged or stale entry is dropped).
        """
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        got = _parse(data, target, self.clock(), self.max_age)
        if got is None:
            log.warning("spool: dropping %s (damaged, stale or of another target)", path.name)
            self.drop(key)
        return got

    def drop(self, key: str) -> None:
        """Remove an entry (its data is in the lake and checkpointed, or it is unusable).

        Args:
            key: Its key.
        """
        self._path(key).unlink(missing_ok=True)

    def _sync_dir(self) -> None:
        with contextlib.suppress(OSError):
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _parse(data: bytes, target: str, now: float, max_age: float) -> Response | None:
    """A spooled entry's response, or None if it is torn, damaged, stale or another target's."""
    nl = data.find(b"\n")
    if nl < 0:
        return None
    try:
        header = json.loads(data[:nl])
    except ValueError:
        return None
    if not isinstance(header, dict) or header.get("v") != _VERSION or header.get("target") != target:
        return None
    body = data[nl + 1 :]
    if len(body) != header.get("size") or zlib.crc32(body) != header.get("crc"):
        return None
    fetched = header.get("fetched")
    if not isinstance(fetched, int | float) or now - fetched > max_age:
        return None
    params = header.get("params")
    if not isinstance(params, dict):
        return None
    return Response(params=params, body=body, where=str(header.get("where", "")), packed=bool(header.get("packed")))
