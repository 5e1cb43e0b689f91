"""Lake reads and writes for apply, under the never-overwrite rule.

A write goes to its deterministic key (``part-<hash8>``) when that key is free or holds an
object this tool wrote for the same request (Parquet metadata says so). When another writer
holds the key, the write goes to ``part-<hash8>-rc`` instead, a name only this tool uses, so
nothing foreign is ever overwritten and a re-fetch still replaces its own earlier write.
"""

from __future__ import annotations

import ast
import io
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.errors import LakeError
from reconciler.lake.keys import KeyPart, key_tuples
from reconciler.lake.promote import unify_tables
from reconciler.lake.writer import encode_raw
from reconciler.ports import ObjectStore

__all__ = [
    "WRITER_META",
    "alt_key",
    "dedupe_rows",
    "filter_units",
    "is_ours",
    "parse_nested",
    "read_parquet_objects",
    "write_parquet",
    "write_raw",
]

log = logging.getLogger(__name__)

WRITER_META = b"cbbd_reconciler.request"


def alt_key(key: str, ext: str = ".parquet") -> str:
    """The key a write goes to when another writer holds its deterministic key.

    Args:
        key: The deterministic key (``…/part-<hash8>.parquet``).
        ext: Its extension.

    Returns:
        ``…/part-<hash8>-rc<ext>``, a name only this tool uses.
    """
    return key[: -len(ext)] + "-rc" + ext


def is_ours(store: ObjectStore, key: str, request: str) -> bool:
    """Whether an object exists and was written by this tool for the same request.

    Args:
        store: The object store.
        key: The object key.
        request: The request address (recorded in the Parquet metadata of our writes).

    Returns:
        True only for our own earlier write of that request.
    """
    if not store.exists(key):
        return False
    try:
        meta = pq.read_metadata(io.BytesIO(store.get(key))).metadata or {}
    except (pa.ArrowInvalid, OSError, LakeError):
        return False
    return meta.get(WRITER_META) == request.encode()


def write_parquet(store: ObjectStore, key: str, table: pa.Table, request: str) -> str:
    """Write a Parquet object under the never-overwrite rule.

    Args:
        store: The object store.
        key: The deterministic key (``…/part-<hash8>.parquet``).
        table: The rows (already in the declared schema).
        request: The request address, stored in the file's metadata to recognise our writes.

    Returns:
        The key actually written.
    """
    meta = dict(table.schema.metadata or {})
    meta[WRITER_META] = request.encode()
    buf = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(meta), buf, compression="snappy")
    data = buf.getvalue()
    if store.put(key, data, if_absent=True):
        return key
    if is_ours(store, key, request):
        store.put(key, data)
        return key
    alt = alt_key(key, ".parquet")
    store.put(alt, data)
    log.info("%s belongs to another writer; wrote %s", key, alt)
    return alt


def write_raw(store: ObjectStore, key: str, records: Sequence[Mapping[str, Any]] | bytes) -> str:
    """Write a raw gzip JSON Lines object, never replacing a different foreign object.

    Args:
        store: The object store.
        key: The deterministic key (``…/part-<hash8>.json.gz``).
        records: The API records, untouched, or already encoded by
            :func:`reconciler.lake.writer.encode_raw`.

    Returns:
        The key actually written.
    """
    data = records if isinstance(records, bytes) else encode_raw(records)
    if store.put(key, data, if_absent=True):
        return key
    if store.get(key) == data:
        return key
    alt = alt_key(key, ".json.gz")
    store.put(alt, data)
    return alt


def read_parquet_objects(store: ObjectStore, keys: Iterable[str], columns: Sequence[str] | None = None) -> pa.Table:
    """Read Parquet objects into one table (drifted types unified as the readers do).

    Args:
        store: The object store.
        keys: Object keys.
        columns: Columns to read (those absent from a file become nulls).

    Returns:
        The concatenated rows, with a ``__key`` column naming each row's object (an object that
        is not readable Parquet is skipped: no reader sees its rows).
    """
    tables = []
    for key in keys:
        try:
            pf = pq.ParquetFile(io.BytesIO(store.get(key)))
            have = set(pf.schema_arrow.names)
            if not have:  # a zero-column file (the pipeline writes some): no data
                continue
            cols = [c for c in columns if c in have] if columns is not None else None
            t = pf.read(columns=cols)
        except (pa.ArrowInvalid, OSError) as exc:
            # No reader sees its rows (DuckDB leaves it out; the layout plan quarantines it).
            log.warning("%s: not readable Parquet (%s); skipped", key, str(exc).splitlines()[0] if str(exc) else exc)
            continue
        t = t.replace_schema_metadata(None)
        tables.append(t.append_column("__key", pa.array([key] * t.num_rows, pa.string())))
    if not tables:
        return pa.table({"__key": pa.array([], pa.string())})
    return unify_tables(tables)


def dedupe_rows(table: pa.Table, parts: Sequence[KeyPart], drop: set[tuple[Any, ...]] | None = None) -> pa.Table:
    """Drop rows whose natural key repeats (keeping the first) or is in ``drop``.

    Args:
        table: Rows.
        parts: The natural key, as files yield it (:func:`reconciler.lake.keys.key_parts`).
        drop: Keys already stored elsewhere.

    Returns:
        The rows, each key at most once.

    Raises:
        LakeError: If the rows lack a column the key is read from.
    """
    if table.num_rows == 0:
        return table
    keys = key_tuples(table, parts)
    if keys is None:
        raise LakeError(f"rows lack a natural-key column ({', '.join(p.column for p in parts)})")
    seen: set[tuple[Any, ...]] = set(drop or ())
    keep = []
    for k in keys:
        keep.append(k not in seen)
        seen.add(k)
    return table.filter(pa.array(keep, pa.bool_()))


def parse_nested(value: Any) -> Any:
    """Parse a nested value stored as text: JSON first, then a Python literal (the old bronze dialect).

    Args:
        value: A string (or already-parsed value).

    Returns:
        The parsed value, or the input when it is not nested text.
    """
    if not isinstance(value, str) or value[:1] not in ("{", "["):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value


def filter_units(table: pa.Table, unit_columns: Sequence[str], units: set[str]) -> pa.Table:
    """Keep only rows whose unit key is in ``units``.

    Args:
        table: Rows.
        unit_columns: Columns naming the unit.
        units: Wanted unit keys.

    Returns:
        The filtered rows.
    """
    if len(unit_columns) == 1:
        col = pc.cast(table.column(unit_columns[0]), pa.string())
        return table.filter(pc.is_in(col, value_set=pa.array(sorted(units), pa.string())))
    cols = [table.column(c).to_pylist() for c in unit_columns]
    mask = [":".join(str(c[i]) for c in cols) in units for i in range(table.num_rows)]
    return table.filter(pa.array(mask, pa.bool_()))
