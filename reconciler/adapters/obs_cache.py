"""A local, best-effort cache of what observation reads from the lake.

Two things are cached, both keyed by the objects they were computed from, so a change to any of
those objects (a new, removed or rewritten file: another key, size, modification time or ETag)
is a miss and never a stale answer:

* query results of the embedded engine: key = the DuckDB SQL text plus the listing of every
  table the query reads (Arrow IPC files under ``results/``);
* Parquet footers read by the layout observation: key = (lake, object key) checked against the
  object's size, modification time and ETag (a SQLite table).

With a shared tier (:mod:`reconciler.adapters.shared_cache`, ``cache.shared``), a local miss asks
the tier, and what is computed or read is shared too: a fresh machine starts where the last plan
anywhere left off.

Lake objects are written once under unique keys (the reconciler never overwrites one), so a warm
plan re-reads only what changed. The cache only ever speeds observation up: any error reading or
writing it is logged and treated as a miss, and deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.ipc as ipc

from reconciler.lake.fingerprint import JsonMemo, code_version, listing_fingerprint, result_key
from reconciler.ports import CachedFooter

if TYPE_CHECKING:
    from reconciler.adapters.shared_cache import FooterRow, SharedCache

__all__ = ["CachedFooter", "JsonMemo", "ObservationCache", "code_version", "listing_fingerprint"]

log = logging.getLogger(__name__)


class ObservationCache:
    """The cache directory: ``results/*.arrow`` and ``footers.sqlite``."""

    def __init__(
        self, root: str | Path, *, max_bytes: int = 256 * 1024 * 1024, shared: SharedCache | None = None
    ) -> None:
        """Open (and create) a cache directory.

        Args:
            root: The directory.
            max_bytes: Query results beyond this total are pruned, least recently used first.
            shared: The shared tier, asked on a local miss and given what is computed (None: none).
        """
        self.root = Path(root)
        self.shared = shared
        self._shared_rows: dict[tuple[str, str], list[FooterRow]] = {}  # the tier's entries read this run
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._footers_off = False  # set after the footer database failed once: no retry per call

    # -- query results --------------------------------------------------------------------------

    def _result_path(self, digest: str) -> Path:
        return self.root / "results" / f"{digest}.arrow"

    def result(self, digest: str) -> pa.Table | None:
        """A cached query result.

        Args:
            digest: The result's key (see :meth:`result_key`).

        Returns:
            The table, or None on a miss (or an unreadable entry).
        """
        path = self._result_path(digest)
        try:
            with pa.memory_map(str(path)) as src:
                table = ipc.open_file(src).read_all()
        except (OSError, pa.ArrowException) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("observation cache: ignoring unreadable %s (%s)", path, exc)
            got = self.shared.result(digest) if self.shared is not None else None
            if got is None:
                self.misses += 1
                return None
            self._put_local(digest, got)
            self.hits += 1
            return got
        with contextlib.suppress(OSError):  # a read-only cache still answers
            os.utime(path)  # recently used: pruned last
        self.hits += 1
        return table

    #: The key of a query's result (:func:`reconciler.lake.fingerprint.result_key`).
    result_key = staticmethod(result_key)

    def put_result(self, digest: str, table: pa.Table) -> None:
        """Store a query result (atomically, and in the shared tier), then prune the oldest.

        Args:
            digest: The result's key.
            table: The rows.
        """
        self._put_local(digest, table)
        if self.shared is not None:
            self.shared.put_result(digest, table)

    def _put_local(self, digest: str, table: pa.Table) -> None:
        path = self._result_path(digest)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            os.replace(tmp, path)
        except (OSError, pa.ArrowException) as exc:
            log.warning("observation cache: could not store a result in %s (%s)", path.parent, exc)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return
        self._prune()

    def _prune(self) -> None:
        """Drop the least recently used results beyond the size limit, and stale temporary files."""
        try:
            entries = []
            for p in (self.root / "results").iterdir():
                st = p.stat()
                if p.suffix == ".tmp" and time.time() - st.st_mtime > 3600:  # left by a crash
                    p.unlink(missing_ok=True)
                elif p.suffix == ".arrow":
                    entries.append((st.st_mtime, st.st_size, p))
            total = sum(size for _, size, _ in entries)
            for _, size, p in sorted(entries):
                if total <= self.max_bytes:
                    break
                p.unlink(missing_ok=True)
                total -= size
        except OSError as exc:  # another process pruned first, or the cache is not ours to prune
            log.debug("observation cache: pruning stopped (%s)", exc)

    # -- footers --------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            self.root.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(str(self.root / "footers.sqlite"), timeout=30, check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS footers_v2 (lake TEXT, key TEXT, size INTEGER, mtime REAL, "
                    "etag TEXT, rows INTEGER, columns TEXT, unreadable TEXT, ranges TEXT, PRIMARY KEY (lake, key))"
                )
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def _footers_failed(self, exc: BaseException) -> None:
        log.warning("observation cache: footers not cached this run (%s)", exc)
        self._footers_off = True

    def footers(
        self, lake: str, objects: Sequence[tuple[str, int, float, str]], group: str = ""
    ) -> dict[str, CachedFooter]:
        """Cached footers of the objects that have not changed since they were read.

        Args:
            lake: The lake's URI.
            objects: (key, size, mtime, etag) of each object.
            group: The objects' table (its key prefix): the shared tier's entry to ask on local misses.

        Returns:
            Key → footer, for the hits only.
        """
        out = self._local_footers(lake, objects)
        if self.shared is None or not group or len(out) == len(objects):
            return out
        want = {o[0]: o for o in objects if o[0] not in out}
        text = _FooterText()
        found: list[tuple[tuple[str, int, float, str], CachedFooter]] = []
        rows = self.shared.footers(lake, group)
        if rows is None:  # the tier could not be asked: its entry is not replaced by a partial one
            return out
        self._shared_rows[(lake, group)] = rows
        for ident, n, columns, unreadable, ranges in rows:
            if want.get(ident[0]) == ident and not unreadable:
                try:
                    footer = text.decode(n, columns, unreadable, ranges)
                except (ValueError, TypeError):  # a broken entry: read the object instead
                    continue
                found.append((ident, footer))
        out.update((ident[0], f) for ident, f in found)
        self.put_footers(lake, found)
        self.hits += len(found)
        self.misses = max(0, self.misses - len(found))
        return out

    def share_footers(
        self,
        lake: str,
        group: str,
        entries: Sequence[tuple[tuple[str, int, float, str], CachedFooter]],
        listed: Collection[str],
    ) -> None:
        """Replace the shared tier's entry for one table, after footers had to be read (no tier: nothing).

        The entry keeps what it held for objects still ``listed`` that ``entries`` does not name
        (other seasons' objects) and drops the rest (objects deleted since).

        Args:
            lake: The lake's URI.
            group: The table's key prefix.
            entries: ((key, size, mtime, etag), footer) of the readable objects observed.
            listed: Keys of every object of the table now listed.
        """
        if self.shared is None or not group or (lake, group) not in self._shared_rows:
            return  # no tier, or its entry was not read this run (so it could not be merged)
        text = _FooterText()
        rows: list[FooterRow] = [(ident, *text.encode(f)) for ident, f in entries]
        named = {ident[0] for ident, _ in entries}
        keep = set(listed)
        rows += [r for r in self._shared_rows[(lake, group)] if r[0][0] in keep and r[0][0] not in named]
        self.shared.put_footers(lake, group, sorted(rows))

    def _local_footers(self, lake: str, objects: Sequence[tuple[str, int, float, str]]) -> dict[str, CachedFooter]:
        if not objects or self._footers_off:
            return {}
        want = {key: (size, mtime, etag) for key, size, mtime, etag in objects}
        lo, hi = min(want), max(want)
        out: dict[str, CachedFooter] = {}
        try:
            with self._lock:
                rows = self._conn().execute(
                    "SELECT key, size, mtime, etag, rows, columns, unreadable, ranges FROM footers_v2 "
                    "WHERE lake = ? AND key BETWEEN ? AND ?",
                    (lake, lo, hi),
                )
                text = _FooterText()
                for key, size, mtime, etag, n, columns, unreadable, ranges in rows:
                    if want.get(key) == (size, mtime, etag):
                        out[key] = text.decode(n, columns, unreadable, ranges)
        except (sqlite3.Error, ValueError, OSError) as exc:
            self._footers_failed(exc)
            return {}
        self.hits += len(out)
        self.misses += len(want) - len(out)
        return out

    def put_footers(self, lake: str, entries: Sequence[tuple[tuple[str, int, float, str], CachedFooter]]) -> None:
        """Remember footers just read.

        Args:
            lake: The lake's URI.
            entries: ((key, size, mtime, etag), footer) pairs.
        """
        if not entries or self._footers_off:
            return
        text = _FooterText()
        rows = [(lake, key, size, mtime, etag, *text.encode(f)) for (key, size, mtime, etag), f in entries]
        try:
            with self._lock:
                db = self._conn()
                with db:
                    db.executemany("INSERT OR REPLACE INTO footers_v2 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        except (sqlite3.Error, OSError) as exc:
            self._footers_failed(exc)

    def close(self) -> None:
        """Close the footer database."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class _FooterText:
    """Footers to and from the JSON text both tiers store, each distinct text coded once.

    A table's objects share a few schemas and a folder's objects their ranges.
    """

    def __init__(self) -> None:
        """Empty memos."""
        self._schemas, self._spans, self._out = JsonMemo(), JsonMemo(), JsonMemo()

    def decode(self, rows: int, columns: str, unreadable: str, ranges: str | None) -> CachedFooter:
        """A stored footer read back."""
        cols = self._schemas.loads(columns, _pairs)
        return CachedFooter(int(rows), cols, str(unreadable), self._spans.loads(ranges or "[]", _triples))

    def encode(self, f: CachedFooter) -> tuple[int, str, str, str]:
        """(rows, columns, unreadable, ranges) as stored."""
        return f.rows, self._out.dumps(f.columns), f.unreadable, self._out.dumps(f.ranges)


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """Decoded ``columns`` JSON: (name, type) pairs."""
    return tuple((str(a), str(b)) for a, b in value)


def _triples(value: Any) -> tuple[tuple[str, str, str], ...]:
    """Decoded ``ranges`` JSON: (column, min, max) triples."""
    return tuple((str(c), str(x), str(y)) for c, x, y in value)
