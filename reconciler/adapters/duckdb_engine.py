"""The embedded query engine: Athena-dialect SQL run by DuckDB over the lake's Parquet files.

A query goes through: ``:name`` binding (:func:`reconciler.sql.bind_params`) → sqlglot parse with
``read="athena"`` → every ``cbbd_silver.<t>`` / ``cbbd_bronze.<t>`` pointed at a temporary view
over ``silver/<t>/`` / ``bronze/<t>/`` (see :mod:`reconciler.adapters.duckdb_sources` for how
the files become rows) → transpiled to DuckDB SQL → run → a pyarrow Table.

The file listing is redone for every query, because apply writes between queries; a table's view
is re-created only when its listing changed, and with an :class:`ObservationCache` a query whose
tables are unchanged since it last ran is answered from the cache without running. A table with
no Parquet files yields an empty result when its schema is declared (:mod:`reconciler.lake.schemas`),
as Athena would for an existing empty table; otherwise a :class:`QueryError` names the table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from reconciler.adapters.catalog_files import FilesFilter
from reconciler.adapters.duckdb_bad_files import BadFiles, is_type_error
from reconciler.adapters.duckdb_sources import LakeFile, SchemaCache, lake_files, plan_source, quote_ident
from reconciler.adapters.obs_cache import ObservationCache, code_version, listing_fingerprint
from reconciler.config import CatalogSettings, EngineSettings
from reconciler.errors import QueryError
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.ports import ObjectStore, QueryResult
from reconciler.sql import (
    TableRef,
    bind_params,
    deterministic,
    parse_query,
    replace_tables,
    table_refs,
    to_dialect,
)

__all__ = ["DuckDBEngine", "declared_empty_schemas"]

log = logging.getLogger(__name__)


def _empty_schema(schema: pa.Schema) -> pa.Schema:
    """A declared schema as the engine would show it: ``season`` BIGINT, a ``date`` key column."""
    fields = [pa.field(f.name, pa.int64()) if f.name == "season" else f for f in schema.remove_metadata()]
    names = {f.name for f in fields}
    if "season" not in names:
        fields.append(pa.field("season", pa.int64()))
    if "date" not in names:
        fields.append(pa.field("date", pa.string()))
    return pa.schema(fields)


def declared_empty_schemas(silver_database: str, bronze_database: str) -> dict[TableRef, pa.Schema]:
    """The schemas of the tables the reconciler declares, for answering over empty tables.

    Args:
        silver_database: The silver database name.
        bronze_database: The bronze database name.

    Returns:
        Table → schema (with the partition columns the engine adds).
    """
    out = {TableRef(silver_database, n.lower()): _empty_schema(t.schema) for n, t in SILVER_TABLES.items()}
    out.update({TableRef(bronze_database, n.lower()): _empty_schema(t.schema) for n, t in BRONZE_TABLES.items()})
    return out


def _explain(text: str, refs: list[TableRef]) -> str:
    """A failed query's error in the reader's words (never DuckDB's "Binder Error: ..." as such)."""
    if is_type_error(text):
        tables = ", ".join(str(r) for r in refs)
        detail = text.split(":", 1)[-1].strip() if ":" in text else text
        return (
            f"{tables}: a column's values cannot be compared as the query needs ({detail}); no object was found "
            "whose type explains it: check the spec's SQL (`reconcile validate`)"
        )
    return f"DuckDB: {text}"


def _first_line(exc: BaseException) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__


class DuckDBEngine:
    """:class:`~reconciler.ports.QueryEngine` on an in-process DuckDB over an object store."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        silver_database: str = "cbbd_silver",
        bronze_database: str = "cbbd_bronze",
        threads: int | None = None,
        timeout_seconds: float | None = None,
        empty_schemas: Mapping[TableRef, pa.Schema] | None = None,
        cache: ObservationCache | None = None,
        files_filter: FilesFilter | None = None,
    ) -> None:
        """Open an in-memory DuckDB over the lake.

        Args:
            store: The lake (a local directory or S3, through its pyarrow filesystem).
            silver_database: The database name mapped to ``silver/``.
            bronze_database: The database name mapped to ``bronze/``.
            threads: DuckDB worker threads (default: one per core).
            timeout_seconds: Interrupt a query after this long (None: no limit).
            empty_schemas: Schemas for tables without files (default: the declared ones).
            cache: Where to keep query results keyed by the files they read (None: no cache).
            files_filter: Which of a table's files to read (default: all, as a full scan does;
                :func:`reconciler.adapters.catalog_files.catalog_filter`: as Athena does).
        """
        self.store = store
        self.layers = {silver_database.lower(): "silver", bronze_database.lower(): "bronze"}
        self.default_database = silver_database.lower()
        self.timeout_seconds = timeout_seconds
        self.empty_schemas = (
            dict(empty_schemas)
            if empty_schemas is not None
            else declared_empty_schemas(silver_database.lower(), bronze_database.lower())
        )
        self.cache = cache
        self.files_filter = files_filter
        self.bad = BadFiles()
        self._lock = threading.Lock()
        self._schemas = SchemaCache()
        # What else a cached answer depends on: the lake read and the code that reads it.
        self._cache_context = f"{store.uri('')}|duckdb {duckdb.__version__}|reconciler {code_version()}"
        # Views defined so far: table → (listing fingerprint, Arrow relations registered for it).
        self._views: dict[TableRef, tuple[str, list[str]]] = {}
        self._threads = threads
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._closed = False

    @property
    def _con(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, opened on first use (again after :meth:`idle`)."""
        if self._connection is None:
            if self._closed:
                raise QueryError("the DuckDB engine is closed")
            con = duckdb.connect(":memory:")
            if self._threads:
                con.execute(f"SET threads = {int(self._threads)}")
            con.execute("SET enable_progress_bar = false")
            # Footers are re-read only when a file changes (DuckDB checks its modification time):
            # union_by_name needs every footer at bind time, so this halves a repeated query's cost.
            con.execute("SET parquet_metadata_cache = true")
            # Athena functions DuckDB lacks, that the reconciler's own queries use (the key
            # digest of reconciler.core.empties: from_base over a hex string, base 16 only).
            con.execute(
                "CREATE MACRO from_base(s, b) AS CASE WHEN b = 16 THEN CAST('0x' || s AS BIGINT) "
                "ELSE error('from_base: the embedded engine reads base 16 only') END"
            )
            self._connection = con
        return self._connection

    def idle(self) -> None:
        """Give back the memory of the queries run so far, until the next query.

        Closes the connection (its views, footer cache and allocator pools go with it); the next
        query opens a new one and defines its views again. Apply calls this once planning is
        done, so that the responses it holds do not come on top of the planner's memory.
        """
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._views.clear()

    @classmethod
    def from_settings(
        cls,
        store: ObjectStore,
        engine: EngineSettings,
        catalog: CatalogSettings,
        cache: ObservationCache | None = None,
        files_filter: FilesFilter | None = None,
    ) -> DuckDBEngine:
        """Build from the profile's ``engine`` and ``catalog`` sections.

        Args:
            store: The lake.
            engine: Engine settings (threads, timeout).
            catalog: Catalog settings (the database names).
            cache: The observation cache, if the profile keeps one.
            files_filter: Which files to read (default: every file under a table).

        Returns:
            The engine.
        """
        return cls(
            store,
            silver_database=catalog.silver_database,
            bronze_database=catalog.bronze_database,
            threads=engine.threads,
            timeout_seconds=engine.query_timeout_seconds,
            cache=cache,
            files_filter=files_filter,
        )

    @staticmethod
    def relation_name(ref: TableRef) -> str:
        """The temporary view name that stands for a lake table.

        Args:
            ref: The table.

        Returns:
            The view name.
        """
        return f"__lake__{ref.database}__{ref.name}"

    def _prefix(self, ref: TableRef) -> str:
        layer = self.layers.get(ref.database)
        if layer is None:
            known = " and ".join(sorted(self.layers))
            raise QueryError(f"{ref}: unknown database {ref.database} (this engine reads {known})")
        return f"{layer}/{ref.name}/"

    def _define(self, ref: TableRef, files: list[LakeFile], fingerprint: str) -> None:
        """(Re)define the view of a table unless its listing is the one the view was made from."""
        held = self._views.get(ref)
        if held is not None and held[0] == fingerprint:
            return
        view = self.relation_name(ref)
        if held is not None:
            self._drop(view, held[1])
            del self._views[ref]
        prefix = self._prefix(ref)
        plan = plan_source(self.store, prefix, view, self._schemas, files, self.bad.casts_for(files))
        registered: list[str] = []
        if plan is None:
            schema = self.empty_schemas.get(ref)
            if schema is None:
                raise QueryError(f"{ref} has no data: no .parquet objects under {self.store.uri(prefix)}")
            log.info("%s has no data under %s: answering over an empty table", ref, self.store.uri(prefix))
            empty = f"{view}__empty"
            self._con.register(empty, schema.empty_table())
            registered.append(empty)
            self._con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS SELECT * FROM {quote_ident(empty)}")
        else:
            for name, dataset in plan.datasets.items():
                self._con.register(name, dataset)
                registered.append(name)
            self._con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(view)} AS {plan.sql}")
        self._views[ref] = (fingerprint, registered)

    def _drop(self, view: str, registered: list[str]) -> None:
        try:
            self._con.execute(f"DROP VIEW IF EXISTS {quote_ident(view)}")
            for name in registered:
                self._con.unregister(name)
        except duckdb.Error as exc:  # pragma: no cover - cleanup of a broken connection
            log.warning("DuckDB cleanup failed: %s", _first_line(exc))

    def _listings(self, refs: list[TableRef]) -> dict[TableRef, tuple[list[LakeFile], str]]:
        out = {}
        for ref in refs:
            files = lake_files(self.store, self._prefix(ref))
            if self.files_filter is not None:
                files = self.files_filter(ref.database, ref.name, files)
            files = self.bad.keep(files)
            fingerprint = listing_fingerprint((f.key, f.size, f.mtime, f.etag) for f in files)
            casts = self.bad.casts_for(files)
            if casts:  # the view (and a cached answer) depends on how the objects are read too
                fingerprint += "|casts:" + listing_fingerprint(
                    (k, 0, 0.0, repr(sorted(c.items()))) for k, c in casts.items()
                )
            out[ref] = (files, fingerprint)
        return out

    @property
    def notices(self) -> list[str]:
        """One line per object left out of queries or read with a cast, naming it and its table."""
        return list(self.bad.notices)

    def _message(self, exc: BaseException, refs: list[TableRef]) -> str:
        text = _first_line(exc)
        for ref in refs:
            text = text.replace(self.relation_name(ref), str(ref))
        return text

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one Athena-dialect query over the lake.

        Args:
            sql: The query; ``:name`` placeholders are bound from ``params``.
            params: Placeholder values (``int`` or ``str``).

        Returns:
            The rows (``bytes_scanned`` is 0: DuckDB does not bill).

        Raises:
            QueryError: If the SQL is bad, a table is unknown or empty without a declared schema,
                a file is unreadable, the query fails or times out (one line, naming the problem).
        """
        tree = parse_query(bind_params(sql, params))
        refs = table_refs(tree, self.default_database)
        duck_sql = to_dialect(replace_tables(tree, self.relation_name, self.default_database), "duckdb")
        with self._lock:
            started = time.monotonic()
            for attempt in range(4):
                listings = self._listings(refs)
                key = ""
                if self.cache is not None and deterministic(tree):
                    key = self.cache.result_key(
                        duck_sql,
                        {str(r): fp for r, (_, fp) in listings.items()},
                        context=self._cache_context,
                    )
                    cached = self.cache.result(key)
                    if cached is not None:
                        log.debug("duckdb: %d row(s) from the observation cache", cached.num_rows)
                        return QueryResult(table=cached, bytes_scanned=0, engine="duckdb")
                try:
                    table = self._run(refs, listings, duck_sql)
                except (duckdb.Error, QueryError) as exc:
                    if isinstance(exc, duckdb.InterruptException):
                        raise QueryError(f"query timed out after {self.timeout_seconds:g} s (DuckDB)") from None
                    text = self._message(exc, refs)
                    tables = {r: listings[r][0] for r in refs}
                    if attempt < 3 and self.bad.diagnose(self.store, str(exc), tables, self.empty_schemas):
                        continue  # objects left out or cast: run it again over the others
                    if isinstance(exc, QueryError):
                        raise
                    raise QueryError(_explain(text, refs)) from None
                break
            if key and self.cache is not None:
                self.cache.put_result(key, table)
        log.debug("duckdb: %d row(s) in %.2f s", table.num_rows, time.monotonic() - started)
        return QueryResult(table=table, bytes_scanned=0, engine="duckdb")

    def _run(self, refs: list[TableRef], listings: Mapping[TableRef, tuple[list[LakeFile], str]], sql: str) -> pa.Table:
        """Define the views of a query's tables and run it (a timer interrupts it past the timeout)."""
        timer: threading.Timer | None = None
        try:
            for ref in refs:
                self._define(ref, *listings[ref])
            if self.timeout_seconds:
                timer = threading.Timer(self.timeout_seconds, self._con.interrupt)
                timer.daemon = True
                timer.start()
            return self._con.sql(sql).to_arrow_table()
        finally:
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Close the DuckDB connection."""
        with self._lock:
            self._closed = True
            if self._connection is not None:
                self._connection.close()
                self._connection = None
