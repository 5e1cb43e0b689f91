"""Turn a lake table's Parquet files into one DuckDB relation, the way Athena would see them.

Rules (the same over a local directory and over S3):

* Only ``*.parquet`` objects count; ``.keep``, ``.tmp``, hidden (``.``/``_``) and other files are
  ignored.
* Hive partition values come from the ``key=value`` directories under the table prefix. A
  partition key hides a physical column of the same name (Athena does the same with the
  ``season`` column the pipeline writes into files). ``season`` is typed ``BIGINT`` (a value
  that is not an integer, such as ``season=unknown``, becomes NULL); every other key
  (``date``, ``asof``, ``ingested_at``) stays ``VARCHAR``, so ``date=2024-12-01`` is a string.
* Layouts may be mixed inside one table (``season=/date=``, ``season=/asof=``, loose files under
  ``season=``). DuckDB refuses to hive-partition such a file list in one scan, so files are
  grouped by their partition-key signature and the groups are combined with
  ``UNION ALL BY NAME``; a key absent from a group is NULL there.
* Column types that drift between files are promoted by DuckDB (``union_by_name``): numeric
  mixes widen (int64 + double → DOUBLE), anything mixed with text becomes VARCHAR.

Local files are read by DuckDB's own ``read_parquet``. Any other pyarrow filesystem (S3) is read
through pyarrow datasets registered with DuckDB, one per (signature, physical schema) group, so
that DuckDB applies the same promotion rules; projection pushdown reaches the Parquet reader in
both cases.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from reconciler.errors import QueryError
from reconciler.lake.footers import read_footer
from reconciler.lake.layout import is_data_object, partition_pairs
from reconciler.ports import ObjectStore
from reconciler.sql import quote_ident

__all__ = ["INT_PARTITION_KEYS", "LakeFile", "SourcePlan", "lake_files", "plan_source", "quote_ident"]

log = logging.getLogger(__name__)

#: Partition keys typed BIGINT; all others are VARCHAR.
INT_PARTITION_KEYS = frozenset({"season"})
_HIVE = "__hive_"
_SCHEMA_READERS = 16


def _quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True, slots=True)
class LakeFile:
    """One Parquet object of a table.

    Attributes:
        key: The object key.
        size: Bytes.
        mtime: Last modified, epoch seconds.
        partitions: ``(key, value)`` pairs from the directories under the table prefix.
        etag: The store's content tag ("" when it has none).
    """

    key: str
    size: int
    mtime: float
    partitions: tuple[tuple[str, str], ...]
    etag: str = ""

    @property
    def signature(self) -> tuple[str, ...]:
        """The partition key names, in path order."""
        return tuple(k for k, _ in self.partitions)


#: Objects at most this big may be Parquet files with no columns (DuckDB refuses those).
SMALL_OBJECT_BYTES = 2048


def _no_columns(store: ObjectStore, key: str, size: int) -> bool:
    """Whether a (small) Parquet object has no columns at all: it holds no data."""
    fs, root = store.arrow()
    try:
        columns: int = read_footer(fs, f"{root.rstrip('/')}/{key}", size).num_columns
    except (OSError, pa.ArrowException):
        return False  # unreadable: left in, so the query names it
    return columns == 0


def lake_files(store: ObjectStore, prefix: str) -> list[LakeFile]:
    """The Parquet objects under a table prefix that hold data, with their partition values.

    A Parquet file with no columns (the pipeline writes some) holds no rows a reader can see,
    and DuckDB refuses to read it ("Need at least one non-root column"): it is left out. Only
    objects small enough to be one have their footer read.

    Args:
        store: The object store.
        prefix: The table prefix, ending with ``/`` (``silver/fct_plays/``).

    Returns:
        The files in key order.
    """
    out = []
    for obj in store.list_objects(prefix):
        if not is_data_object(obj.key):
            continue
        if obj.size <= SMALL_OBJECT_BYTES and _no_columns(store, obj.key, obj.size):
            log.info("%s: a Parquet object with no columns; not read", obj.key)
            continue
        out.append(LakeFile(obj.key, obj.size, obj.mtime, partition_pairs(prefix, obj.key), obj.etag))
    return out


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """How to read one table: SQL over helper relations, and the Arrow datasets to register.

    Attributes:
        sql: A ``SELECT`` producing the table's rows.
        datasets: Relation name → pyarrow dataset, to register before running ``sql``.
    """

    sql: str
    datasets: Mapping[str, ds.Dataset]


def _partition_select(signature: tuple[str, ...], source_col: Callable[[str], str]) -> list[str]:
    cols = []
    for key in signature:
        src = source_col(key)
        if key in INT_PARTITION_KEYS:
            cols.append(f"TRY_CAST({src} AS BIGINT) AS {quote_ident(key)}")
        else:
            cols.append(f"CAST({src} AS VARCHAR) AS {quote_ident(key)}")
    return cols


def _cast_list(casts: Mapping[str, str], signature: tuple[str, ...]) -> str:
    """``REPLACE (TRY_CAST(c AS T) AS c, …)`` for the columns an object must be read with a cast."""
    items = [
        f"TRY_CAST({quote_ident(c)} AS {t}) AS {quote_ident(c)}" for c, t in sorted(casts.items()) if c not in signature
    ]
    return f" REPLACE ({', '.join(items)})" if items else ""


def _local_sql(files: list[LakeFile], root: str, casts: Mapping[str, Mapping[str, str]] | None = None) -> str:
    if "=" in root:
        raise QueryError(f"lake path {root} contains '=': DuckDB would read it as a partition; move the lake")
    casts = casts or {}
    branches = []
    groups: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], list[LakeFile]] = {}
    for f in files:
        groups.setdefault((f.signature, tuple(sorted(casts.get(f.key, {}).items()))), []).append(f)
    for (signature, cast), group in groups.items():
        # DuckDB treats each path as a glob: lake keys (part-<hash8>.parquet) hold no glob characters.
        paths = ", ".join(_quote_str(f"{root}/{f.key}") for f in group)
        hive = "true, hive_types_autocast = false" if signature else "false"
        scan = f"read_parquet([{paths}], union_by_name = true, hive_partitioning = {hive})"
        replace = _cast_list(dict(cast), signature)
        if not signature:
            branches.append(f"SELECT *{replace} FROM {scan}")
            continue
        keys = ", ".join(quote_ident(k) for k in signature)
        parts = ", ".join(_partition_select(signature, quote_ident))
        branches.append(f"SELECT * EXCLUDE ({keys}){replace}, {parts} FROM {scan}")
    return "\nUNION ALL BY NAME\n".join(branches)


class SchemaCache:
    """Parquet footers' Arrow schemas, keyed by (key, size, mtime): an overwrite invalidates."""

    def __init__(self) -> None:
        """Start empty."""
        self._schemas: dict[tuple[str, int, float], pa.Schema] = {}

    def schemas(self, files: list[LakeFile], fragments: list[ds.FileFragment]) -> list[pa.Schema]:
        """The physical schema of every file, reading missing footers in parallel.

        Args:
            files: The files.
            fragments: Their fragments (reading a fragment's schema caches its footer, so the
                scan that follows does not fetch it again).

        Returns:
            One schema per file, in order.

        Raises:
            QueryError: If a file is not readable Parquet (the key is named).
        """

        def read(item: tuple[LakeFile, ds.FileFragment]) -> pa.Schema:
            f, fragment = item
            try:
                schema: pa.Schema = fragment.physical_schema
                return schema
            except (OSError, pa.ArrowException) as exc:
                first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise QueryError(f"{f.key}: not readable Parquet ({first})") from None

        missing = [
            (f, g) for f, g in zip(files, fragments, strict=True) if (f.key, f.size, f.mtime) not in self._schemas
        ]
        if missing:
            with ThreadPoolExecutor(max_workers=min(_SCHEMA_READERS, len(missing))) as pool:
                for (f, _), schema in zip(missing, pool.map(read, missing), strict=True):
                    self._schemas[(f.key, f.size, f.mtime)] = schema
        return [self._schemas[(f.key, f.size, f.mtime)] for f in files]


def _arrow_plan(
    files: list[LakeFile],
    fs: pafs.FileSystem,
    root: str,
    relation: str,
    cache: SchemaCache,
    casts: Mapping[str, Mapping[str, str]] | None = None,
) -> SourcePlan:
    # Fragments carry each file's size from the listing: pyarrow then needs no HEAD per file.
    fmt = ds.ParquetFileFormat()
    fragments = []
    for f in files:
        expr = pc.scalar(True)
        for k, v in f.partitions:
            expr = expr & (pc.field(_HIVE + k) == v)
        fragments.append(fmt.make_fragment(f"{root}/{f.key}", fs, partition_expression=expr, file_size=f.size))
    schemas = cache.schemas(files, fragments)
    groups: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], list[ds.FileFragment]] = {}
    signatures: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], tuple[pa.Schema, tuple[str, ...]]] = {}
    casts = casts or {}
    cast_of: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], Mapping[str, str]] = {}
    for f, fragment, schema in zip(files, fragments, schemas, strict=True):
        read_as = tuple(sorted(casts.get(f.key, {}).items()))
        fingerprint = tuple((fld.name, str(fld.type)) for fld in schema) + read_as
        group = (f.signature, fingerprint)
        cast_of[group] = dict(read_as)
        groups.setdefault(group, []).append(fragment)
        signatures.setdefault(group, (schema, f.signature))
    branches = []
    datasets: dict[str, ds.Dataset] = {}
    for i, (group, members) in enumerate(groups.items()):
        schema, signature = signatures[group]
        physical = schema.remove_metadata()
        hive_fields = [pa.field(_HIVE + k, pa.string()) for k in signature]
        full = pa.schema(list(physical) + hive_fields)
        name = f"{relation}__g{i}"
        datasets[name] = ds.FileSystemDataset(members, schema=full, format=fmt, filesystem=fs)
        read = cast_of.get(group, {})
        cols = [
            f"TRY_CAST({quote_ident(fld.name)} AS {read[fld.name]}) AS {quote_ident(fld.name)}"
            if fld.name in read
            else quote_ident(fld.name)
            for fld in physical
            if fld.name not in signature
        ]
        cols += _partition_select(signature, lambda k: quote_ident(_HIVE + k))
        branches.append(f"SELECT {', '.join(cols)} FROM {quote_ident(name)}")
    return SourcePlan("\nUNION ALL BY NAME\n".join(branches), datasets)


def plan_source(
    store: ObjectStore,
    prefix: str,
    relation: str,
    cache: SchemaCache,
    files: list[LakeFile] | None = None,
    casts: Mapping[str, Mapping[str, str]] | None = None,
) -> SourcePlan | None:
    """Plan how DuckDB reads the table stored under ``prefix``.

    Args:
        store: The object store (local → ``read_parquet``; otherwise its pyarrow filesystem).
        prefix: The table prefix, ending with ``/``.
        relation: A unique name stem for helper relations.
        cache: Footer schemas already read (remote filesystems only).
        files: The table's files when already listed (default: list them now).
        casts: Object key → column → DuckDB type, for objects whose column must be read with a
            cast to the declared type (:mod:`reconciler.adapters.duckdb_bad_files`).

    Returns:
        The plan, or None when there is no Parquet object under the prefix.
    """
    if files is None:
        files = lake_files(store, prefix)
    if not files:
        return None
    fs, root = store.arrow()
    if isinstance(fs, pafs.LocalFileSystem):
        return SourcePlan(_local_sql(files, root.rstrip("/"), casts), {})
    log.debug("reading %d file(s) under %s through pyarrow", len(files), store.uri(prefix))
    return _arrow_plan(files, fs, root.rstrip("/"), relation, cache, casts)
