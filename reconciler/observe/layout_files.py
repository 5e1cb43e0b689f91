"""Reading a table's objects for layout work: listings, Parquet footers, key columns.

Footers and key columns are read through the store's pyarrow filesystem, so on S3 only the
byte ranges needed are fetched (the footer; the key column chunks), never whole objects.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.core.layout_observed import FileObs, TableDecl
from reconciler.errors import BackendError, LakeError
from reconciler.lake.fingerprint import JsonMemo, code_version, listing_fingerprint, result_key
from reconciler.lake.footers import read_footer
from reconciler.lake.keys import KeyPart, key_tuples, source_columns
from reconciler.lake.layout import is_data_object, partition_pairs
from reconciler.ports import CachedFooter, ObjectInfo, ObjectStore, ObservationCache

__all__ = [
    "RANGE_COLUMNS",
    "file_obs",
    "files_from_table",
    "files_key",
    "files_table",
    "list_table",
    "object_keys",
    "read_footers",
    "read_object",
    "stat",
]

#: Columns whose statistics say which partition a file's rows belong to (season; the game's date).
RANGE_COLUMNS = ("season", "date", "gameStartDate", "startDate")

_READERS = 16
#: Most objects a reader takes at once.
_CHUNK = 256


def is_remote(store: ObjectStore) -> bool:
    """Whether each call to the store waits on the network (S3), so that calls are best made at once."""
    return store.uri("").startswith(("s3://", "s3a://"))


def _readers(store: ObjectStore) -> int:
    """Footer readers: many for a remote store (each read waits on the network), few for a local one.

    A local read is CPU (parsing the footer), mostly under the GIL: threads past the cores only
    contend for it.
    """
    if is_remote(store):
        return _READERS
    return max(1, min(4, os.cpu_count() or 1))


def file_obs(decl: TableDecl, info: ObjectInfo) -> FileObs:
    """An object of a table, with its partition path parsed (footer not read yet).

    Args:
        decl: The table.
        info: The listed object.

    Returns:
        The observation.
    """
    return FileObs(key=info.key, size=info.size, mtime=info.mtime, partition=partition_pairs(decl.prefix, info.key))


def list_table(store: ObjectStore, decl: TableDecl, prefix: str | None = None) -> list[ObjectInfo]:
    """The Parquet objects under a table (or one of its partition prefixes).

    ``.keep``, ``.tmp``, hidden (``.``/``_``) and non-Parquet objects are ignored, as readers do.

    Args:
        store: The object store.
        decl: The table.
        prefix: A narrower prefix inside the table (default: the whole table).

    Returns:
        The objects, in key order.
    """
    return [o for o in store.list_objects(prefix or decl.prefix) if is_data_object(o.key)]


def stat(store: ObjectStore, key: str) -> ObjectInfo | None:
    """One object's listing entry.

    Args:
        store: The object store.
        key: The key.

    Returns:
        The entry, or None when the object does not exist.
    """
    return next((o for o in store.list_objects(key) if o.key == key), None)


def _path(store: ObjectStore, key: str) -> tuple[Any, str]:
    fs, root = store.arrow()
    return fs, f"{root.rstrip('/')}/{key}"


#: Distinct schemas seen by one :func:`read_footers` call: (Arrow schema stored in the footer,
#: leaf count) → [(Parquet schema, (name, Arrow type) pairs, leaf names)].
_SchemaMemo = dict[tuple[bytes | None, int], list[tuple[pq.ParquetSchema, tuple[tuple[str, str], ...], list[str]]]]


def _described(md: pq.FileMetaData, memo: _SchemaMemo) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The (name, Arrow type) pairs and leaf column names of a footer's schema, worked out once per schema.

    The Arrow types depend on the Parquet schema and on the Arrow schema pyarrow stores beside it
    (``ARROW:schema``), so both must match a schema seen before; a table's objects share a few.
    """
    stored = (md.metadata or {}).get(b"ARROW:schema")
    seen = memo.setdefault((stored, md.num_columns), [])
    schema = md.schema
    for known, cols, names in seen:
        if schema.equals(known):
            return cols, names
    cols = tuple((fld.name, str(fld.type)) for fld in schema.to_arrow_schema())
    names = [schema.column(i).name for i in range(md.num_columns)]
    seen.append((schema, cols, names))
    return cols, names


def _ranges(md: pq.FileMetaData, names: list[str]) -> tuple[tuple[str, str, str], ...]:
    """Min and max (as text) of the columns that say where rows belong, from the column statistics.

    A column without statistics in some row group gives no range (it cannot be told).

    Args:
        md: The footer.
        names: Its leaf column names (:func:`_described`).
    """
    out = []
    for col in RANGE_COLUMNS:
        if col not in names or md.num_row_groups == 0:
            continue
        j = names.index(col)
        lo: Any = None
        hi: Any = None
        for g in range(md.num_row_groups):
            stats = md.row_group(g).column(j).statistics
            if stats is None or not stats.has_min_max:
                if md.row_group(g).num_rows:
                    break
                continue
            lo = stats.min if lo is None or stats.min < lo else lo
            hi = stats.max if hi is None or stats.max > hi else hi
        else:
            if lo is not None:
                text = [x.decode() if isinstance(x, bytes) else str(x) for x in (lo, hi)]
                out.append((col, text[0], text[1]))
    return tuple(out)


def _read_one(store: ObjectStore, f: FileObs, memo: _SchemaMemo) -> CachedFooter:
    """One object's footer, or why its bytes are not Parquet (a store failure raises)."""
    fs, path = _path(store, f.key)
    try:
        md = read_footer(fs, path, f.size)
        columns, names = _described(md, memo)
        ranges = _ranges(md, names)
    except (OSError, pa.ArrowException) as exc:
        failed = store.read_error(exc, store.uri(f.key))
        if failed is not None:
            raise failed from exc
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return CachedFooter(0, (), unreadable=first)
    return CachedFooter(md.num_rows, columns, ranges=ranges)


def _read_many(store: ObjectStore, todo: Sequence[FileObs]) -> list[CachedFooter]:
    """The footers of objects, read in parallel, in order."""
    memo: _SchemaMemo = {}
    workers = min(_readers(store), len(todo))
    # Objects go to the readers in chunks: one future per object costs more in locking than
    # a local footer read takes (a lake of 129k objects spent 30 s of 45 submitting).
    size = max(1, min(_CHUNK, -(-len(todo) // (workers * 8))))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return [got for part in pool.map(lambda c: [_read_one(store, f, memo) for f in c], chunks) for got in part]


def read_footers(
    store: ObjectStore,
    files: Sequence[FileObs],
    cache: ObservationCache | None = None,
    etags: Mapping[str, str] | None = None,
    group: str = "",
    listed: Collection[str] = (),
) -> list[FileObs]:
    """Fill in each object's rows and schema from its Parquet footer (in parallel).

    Args:
        store: The object store.
        files: The objects.
        cache: Footers read before, keyed by object and checked against its size, mtime and ETag.
        etags: Object key → ETag from the listing (stores that have them).
        group: The objects' table (its key prefix), for the cache's shared tier: when any footer
            had to be read, the table's entry there is replaced by those of ``files`` and the
            entries it held for other objects still ``listed``.
        listed: The keys of every object of the table now listed (seasons out of scope too).

    Returns:
        The objects with ``rows`` and ``columns`` set, or ``unreadable`` saying why the bytes are
        not Parquet.

    Raises:
        BackendError: If the store refused or failed a read (permission, credentials, clock,
            throttling past the retries): never a note, or the object would drop out of the plan.
        LakeError: If an object vanished since it was listed.
    """
    tags = etags or {}

    def ident(f: FileObs) -> tuple[str, int, float, str]:
        return (f.key, f.size, f.mtime, tags.get(f.key, ""))

    if not files:
        return []
    lake = store.uri("")
    known = cache.footers(lake, [ident(f) for f in files], group) if cache is not None else {}
    todo = [f for f in files if f.key not in known]
    if todo:
        fresh = dict(zip([f.key for f in todo], _read_many(store, todo), strict=True))
        if cache is not None:
            # An unreadable footer is never cached: the read may have failed for a passing reason
            # (throttling, a reset connection, expired credentials) and must be tried again.
            cache.put_footers(lake, [(ident(f), fresh[f.key]) for f in todo if not fresh[f.key].unreadable])
        known = {**known, **fresh}
        if cache is not None:
            readable = [(ident(f), known[f.key]) for f in files if not known[f.key].unreadable]
            cache.share_footers(lake, group, readable, listed)
    out = []
    for f in files:
        got = known[f.key]
        if got.unreadable:
            out.append(FileObs(f.key, f.size, f.mtime, f.partition, unreadable=got.unreadable))
        else:
            out.append(
                FileObs(f.key, f.size, f.mtime, f.partition, rows=got.rows, columns=got.columns, ranges=got.ranges)
            )
    return out


def read_object(store: ObjectStore, key: str, columns: Sequence[str] | None = None) -> pa.Table:
    """Read one Parquet object (optionally only some columns; absent ones are skipped).

    Args:
        store: The object store.
        key: The key.
        columns: Columns to read (default: all).

    Returns:
        The rows, without schema metadata.

    Raises:
        LakeError: If the object is missing or not readable Parquet.
        BackendError: If the store refused or failed the read.
    """
    fs, path = _path(store, key)
    try:
        with fs.open_input_file(path) as fh:
            pf = pq.ParquetFile(fh)
            have = set(pf.schema_arrow.names)
            cols = [c for c in columns if c in have] if columns is not None else None
            table = pf.read(columns=cols)
    except (OSError, pa.ArrowException) as exc:
        failed = store.read_error(exc, store.uri(key))
        if isinstance(failed, BackendError):
            raise failed from exc
        raise LakeError(f"{key}: unreadable Parquet object ({str(exc).splitlines()[0] if str(exc) else exc})") from None
    return table.replace_schema_metadata(None)


def object_keys(store: ObjectStore, key: str, parts: Sequence[KeyPart]) -> list[tuple[Any, ...]] | None:
    """The normalised natural keys of an object's rows, or None when it lacks a key column.

    Args:
        store: The object store.
        key: The object key.
        parts: The natural key, as files yield it (:func:`reconciler.lake.keys.key_parts`).

    Returns:
        One tuple per row.
    """
    t = read_object(store, key, source_columns(parts))
    return key_tuples(t, parts)


#: The version of the table-level entries below (bump when FileObs or its reading changes).
_FILES_VERSION = "layout-files:1"


def files_key(
    store: ObjectStore, decl: TableDecl, seasons: Sequence[int], listed: Sequence[ObjectInfo], context: str
) -> str:
    """The cache key of a table's observed objects: the table, the seasons and every object listed.

    The objects' footers are a function of the objects (key, size, modification time, ETag), and
    their scope and superseded marks a function of the seasons and of ``context`` (the table's
    superseded records): nothing else goes into :func:`read_footers`' result.

    Args:
        store: The object store (its URI).
        decl: The table.
        seasons: Selected seasons.
        listed: The table's listing.
        context: What else the result depends on (the superseded records).

    Returns:
        A hex digest.
    """
    fp = listing_fingerprint((o.key, o.size, o.mtime, o.etag or "") for o in listed)
    where = json.dumps([code_version(), store.uri(""), repr(decl), sorted(seasons), context])
    return result_key(_FILES_VERSION, {decl.prefix: fp}, where)


def files_table(files: Sequence[FileObs]) -> pa.Table:
    """A table's observed objects as an Arrow table (for the observation cache).

    Args:
        files: The objects, footers read.

    Returns:
        One row per object; tuples as JSON text.
    """
    dumped = JsonMemo().dumps
    return pa.table(
        {
            "key": pa.array([f.key for f in files], pa.string()),
            "size": pa.array([f.size for f in files], pa.int64()),
            "mtime": pa.array([f.mtime for f in files], pa.float64()),
            "partition": pa.array([dumped(f.partition) for f in files], pa.string()),
            "rows": pa.array([f.rows for f in files], pa.int64()),
            "columns": pa.array([dumped(f.columns) for f in files], pa.string()),
            "unreadable": pa.array([f.unreadable for f in files], pa.string()),
            "superseded_by": pa.array([f.superseded_by for f in files], pa.string()),
            "replacements": pa.array([dumped(f.replacements) for f in files], pa.string()),
            "ranges": pa.array([dumped(f.ranges) for f in files], pa.string()),
        }
    )


def files_from_table(table: pa.Table) -> list[FileObs]:
    """:func:`files_table` read back.

    Args:
        table: The cached table.

    Returns:
        The objects, as observed when cached.
    """
    by = {n: table.column(n).to_pylist() for n in ("key", "size", "mtime", "rows", "unreadable", "superseded_by")}
    # The JSON columns hold few distinct texts (a table's objects share a few schemas, a folder's
    # objects their ranges): each distinct text is decoded once and the rows pick theirs by index.
    for name, depth in (("partition", 2), ("columns", 2), ("replacements", 1), ("ranges", 2)):
        coded = pc.dictionary_encode(table.column(name)).combine_chunks()
        values = [_tuples(json.loads(t), depth) for t in coded.dictionary.to_pylist()]
        by[name] = [values[i] for i in coded.indices.to_pylist()]
    return [
        FileObs(
            key=k,
            size=s,
            mtime=m,
            partition=p,
            rows=r,
            columns=c,
            unreadable=u,
            superseded_by=b,
            replacements=rp,
            ranges=rg,
        )
        for k, s, m, p, r, c, u, b, rp, rg in zip(
            by["key"],
            by["size"],
            by["mtime"],
            by["partition"],
            by["rows"],
            by["columns"],
            by["unreadable"],
            by["superseded_by"],
            by["replacements"],
            by["ranges"],
            strict=True,
        )
    ]


def _tuples(value: Any, depth: int) -> Any:
    """JSON lists back to the nested tuples they were (``depth`` levels)."""
    if depth <= 1:
        return tuple(str(v) for v in value)
    return tuple(_tuples(v, depth - 1) for v in value)
