"""The observation cache's shared tier: the same entries, kept beside the lake for every machine.

A plan on a fresh machine (a CI runner on every pull request) has no local cache: on S3 it would
read every Parquet footer of the lake again, one GET per object. With ``cache.shared`` set to a
key prefix of the lake's own store, the cache keeps a copy of its entries there:

* ``results/<digest>.arrow``: a query result or a table's observed objects, under the same
  content-derived key as locally (the query text, the listing of every table it read and the
  code's version), so an entry answers only for exactly the objects it was computed from;
* ``footers/<digest>.arrow``: one object per lake, table and code version, the footers of the
  table's objects as last read, each row checked against the object's key, size, modification
  time and ETag.

Entries are Arrow IPC files (zstd), as the local tier's: a result comes back with exactly the types
it was stored with.

Every entry is checked as a local one is; a wrong or missing entry is a miss, never a stale answer.
Any failure to read or write the tier (no permission, throttling, a broken object) is logged once,
turns that direction off for the run and costs only speed. The prefix must lie outside every table
(readers scan every object under a table); the configuration refuses one inside a layer prefix.
"""

from __future__ import annotations

import hashlib
import logging
import threading

import pyarrow as pa
import pyarrow.ipc as ipc

from reconciler.errors import LakeError, ReconcilerError
from reconciler.lake.fingerprint import code_version
from reconciler.ports import ObjectStore

__all__ = ["FooterRow", "SharedCache"]

log = logging.getLogger(__name__)

#: One footer as the shared tier keeps it: (key, size, mtime, etag), rows, columns, unreadable,
#: ranges; the columns and ranges as JSON text (the local cache's encoding).
FooterRow = tuple[tuple[str, int, float, str], int, str, str, str]

_FOOTER_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("size", pa.int64()),
        ("mtime", pa.float64()),
        ("etag", pa.string()),
        ("rows", pa.int64()),
        ("columns", pa.string()),
        ("unreadable", pa.string()),
        ("ranges", pa.string()),
    ]
)


class SharedCache:
    """Cache entries kept as Arrow IPC objects under a prefix of an object store."""

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        """A shared tier under ``prefix`` (a key prefix ending with ``/``) of ``store``.

        Args:
            store: The lake's object store.
            prefix: Where the entries live.
        """
        self.store = store
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.reads = 0
        self.writes = 0
        self._lock = threading.Lock()
        self._read_off = False
        self._write_off = False

    def _failed(self, direction: str, key: str, exc: Exception) -> None:
        with self._lock:
            if direction == "read":
                self._read_off = True
            else:
                self._write_off = True
        log.warning(
            "shared observation cache: not %s for the rest of this run (%s: %s)",
            "read" if direction == "read" else "written",
            self.store.uri(key),
            exc,
        )

    def _get(self, key: str) -> tuple[pa.Table | None, bool]:
        """The entry at ``key``, and whether the tier could be asked (a plain miss is ``(None, True)``)."""
        if self._read_off:
            return None, False
        try:
            data = self.store.get(key)
        except LakeError:  # no such entry
            return None, True
        except (ReconcilerError, OSError) as exc:
            self._failed("read", key, exc)
            return None, False
        try:
            table = ipc.open_file(pa.BufferReader(data)).read_all()
        except (OSError, pa.ArrowException) as exc:
            log.warning("shared observation cache: ignoring unreadable %s (%s)", self.store.uri(key), exc)
            return None, True
        self.reads += 1
        return table, True

    def _put(self, key: str, table: pa.Table) -> None:
        if self._write_off:
            return
        try:
            sink = pa.BufferOutputStream()
            with ipc.new_file(sink, table.schema, options=ipc.IpcWriteOptions(compression="zstd")) as writer:
                writer.write_table(table)
            data = sink.getvalue().to_pybytes()
        except (OSError, pa.ArrowException) as exc:  # not storable: this entry stays local
            log.warning("shared observation cache: an entry could not be encoded (%s)", exc)
            return
        try:
            self.store.put(key, data)
        except (ReconcilerError, OSError) as exc:
            self._failed("write", key, exc)
            return
        self.writes += 1

    # -- results --------------------------------------------------------------------------------

    def result(self, digest: str) -> pa.Table | None:
        """A shared result, or None."""
        return self._get(f"{self.prefix}results/{digest}.arrow")[0]

    def put_result(self, digest: str, table: pa.Table) -> None:
        """Share a result (its key is content-derived: a rewrite is only ever the same entry)."""
        self._put(f"{self.prefix}results/{digest}.arrow", table)

    # -- footers --------------------------------------------------------------------------------

    def _footers_key(self, lake: str, group: str) -> str:
        # The code (and pyarrow, which gives the type text) that read the footers is in the key.
        where = f"{lake}\n{group}\n{code_version()}\npyarrow {pa.__version__}"
        digest = hashlib.sha256(where.encode()).hexdigest()[:32]
        return f"{self.prefix}footers/{digest}.arrow"

    def footers(self, lake: str, group: str) -> list[FooterRow] | None:
        """The footers last shared for one table (``group``: its prefix) of a lake.

        Args:
            lake: The lake's URI.
            group: The table's key prefix.

        Returns:
            Every row of the shared object (empty on a miss or a broken entry), or None when the
            tier could not be asked; the caller checks each row against the object it stands for.
        """
        table, asked = self._get(self._footers_key(lake, group))
        if not asked:
            return None
        if table is None or not set(_FOOTER_SCHEMA.names) <= set(table.column_names):
            return []
        cols = [table.column(n).to_pylist() for n in _FOOTER_SCHEMA.names]
        try:
            return [
                ((str(k), int(s), float(m), e or ""), int(r), str(c), u or "", g or "")
                for k, s, m, e, r, c, u, g in zip(*cols, strict=True)
            ]
        except (TypeError, ValueError) as exc:  # a null where a value must be: the entry is not ours
            log.warning("shared observation cache: ignoring a broken footer entry for %s (%s)", group, exc)
            return []

    def put_footers(self, lake: str, group: str, rows: list[FooterRow]) -> None:
        """Share the footers of one table's objects (replacing the table's previous entry).

        Args:
            lake: The lake's URI.
            group: The table's key prefix.
            rows: The footers of the table's objects as now listed.
        """
        table = pa.table(
            [
                pa.array([r[0][0] for r in rows], pa.string()),
                pa.array([r[0][1] for r in rows], pa.int64()),
                pa.array([r[0][2] for r in rows], pa.float64()),
                pa.array([r[0][3] for r in rows], pa.string()),
                pa.array([r[1] for r in rows], pa.int64()),
                pa.array([r[2] for r in rows], pa.string()),
                pa.array([r[3] for r in rows], pa.string()),
                pa.array([r[4] for r in rows], pa.string()),
            ],
            schema=_FOOTER_SCHEMA,
        )
        self._put(self._footers_key(lake, group), table)
