"""The AWS query engine: Athena through pyathena, in workgroup ``cbbd``.

Queries run as written (the tables are real Glue tables there), after the same ``:name``
binding as the DuckDB engine (:func:`reconciler.sql.bind_params`) and a sqlglot parse that
refuses malformed or non-``SELECT`` SQL before it costs a round trip.

Results are read as Athena's users read them: pyathena's Arrow cursor reads the result file
from S3 in one go (``engine.results: arrow``, the default), or Athena ``UNLOAD``s Parquet
(``unload``); ``pages`` keeps the DB-API cursor, which pages GetQueryResults 1,000 rows a call.
Up to ``engine.concurrency`` queries run at once (the observer sends a plan's independent
queries together); where the workgroup runs engine version 3, a result of the same query text
younger than ``engine.result_reuse_minutes`` is reused instead of scanned again. The bytes
Athena scanned (what it bills) come back in :attr:`QueryResult.bytes_scanned`, and
:attr:`AthenaEngine.stats` counts queries, rows, bytes and reuses. A query running longer than
the timeout is cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyathena
from botocore.exceptions import BotoCoreError, ClientError
from pyathena.error import Error as PyAthenaError

from reconciler.adapters.aws_errors import translate_aws_errors
from reconciler.adapters.aws_session import make_client, region_of
from reconciler.config import CatalogSettings, EngineSettings
from reconciler.errors import QueryError
from reconciler.ports import QueryResult
from reconciler.sql import bind_params, parse_query

__all__ = ["AthenaEngine", "arrow_type", "quiet_pyathena", "rows_to_table"]

log = logging.getLogger(__name__)

_SIMPLE_TYPES: dict[str, pa.DataType] = {
    "boolean": pa.bool_(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "float": pa.float32(),
    "double": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("ms"),
    "varchar": pa.string(),
    "char": pa.string(),
    "string": pa.string(),
    "varbinary": pa.binary(),
}


def arrow_type(athena_type: str) -> pa.DataType | None:
    """The Arrow type for an Athena result column type.

    Args:
        athena_type: As in the cursor's description (``bigint``, ``varchar``, ``decimal(10,2)``).

    Returns:
        The type, or None to let Arrow infer it (decimals, arrays, maps, rows).
    """
    base = athena_type.lower().split("(", 1)[0].strip()
    return _SIMPLE_TYPES.get(base)


def _column(values: list[Any], athena_type: str) -> pa.Array:
    typ = arrow_type(athena_type)
    try:
        return pa.array(values, type=typ) if typ is not None else pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        text = [None if v is None else str(v) for v in values]
        return pa.array(text, type=pa.string())


def rows_to_table(description: Sequence[Sequence[Any]] | None, rows: Sequence[Sequence[Any]]) -> pa.Table:
    """Build an Arrow table from DB-API rows and their description.

    Args:
        description: The cursor's description: ``(name, athena_type, ...)`` per column.
        rows: The rows.

    Returns:
        The table (typed from the description; text when values do not fit the type).
    """
    if not description:
        return pa.table({})
    names = [str(d[0]) for d in description]
    types = [str(d[1]) for d in description]
    columns = [_column([r[i] for r in rows], types[i]) for i in range(len(names))]
    return pa.Table.from_arrays(columns, names=names)


def quiet_pyathena() -> None:
    """Keep pyathena's own error logs (a full traceback before our one line) out, unless debugging.

    pyathena logs every failed call with ``logger.exception`` before raising; the error reaches
    the user anyway, as one line from :meth:`AthenaEngine.query`. With ``--debug`` (the root
    logger at DEBUG) its logs stay.
    """
    quiet = not logging.getLogger().isEnabledFor(logging.DEBUG)
    logging.getLogger("pyathena").setLevel(logging.CRITICAL if quiet else logging.NOTSET)


class _TimedOut(Exception):
    """Raised from the poll callback to stop waiting for a query."""


class AthenaEngine:
    """:class:`~reconciler.ports.QueryEngine` on Amazon Athena."""

    def __init__(
        self,
        *,
        workgroup: str = "cbbd",
        output_location: str | None = None,
        region: str = "us-east-1",
        database: str = "cbbd_silver",
        timeout_seconds: float = 600.0,
        poll_interval: float = 1.0,
        connect: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        session: Any = None,
        results: str = "arrow",
        concurrency: int = 4,
        result_reuse_minutes: int = 60,
    ) -> None:
        """Configure the engine; the connection opens on the first query.

        Args:
            workgroup: The Athena workgroup.
            output_location: ``s3://`` result location (None: the workgroup's own).
            region: The Athena region.
            database: The database unqualified table names resolve in.
            timeout_seconds: Cancel a query running longer than this.
            poll_interval: Seconds between status polls.
            connect: A ``pyathena.connect``-compatible factory (tests inject a fake).
            clock: A monotonic clock (tests inject one).
            session: A boto3 session for pyathena (None: pyathena makes its own).
            results: ``arrow``, ``unload`` or ``pages`` (see the module docstring).
            concurrency: Queries that may run at once.
            result_reuse_minutes: Reuse results up to this old where the workgroup allows (0: never).
        """
        self.workgroup = workgroup
        self.output_location = output_location
        self.region = region
        self.database = database
        self.timeout_seconds = timeout_seconds
        self.poll_interval = poll_interval
        self._connect = connect or pyathena.connect
        self._clock = clock
        self._session = session
        self._conn: Any = None
        self._lock = threading.Lock()
        self._client: Any = None
        self.results = results
        self.concurrency = concurrency
        self.result_reuse_minutes = result_reuse_minutes
        # Result reuse needs engine version 3; :meth:`check` learns the workgroup's.
        self.reuse_allowed = False
        self._slots = threading.BoundedSemaphore(concurrency)
        #: Queries run, rows returned, bytes scanned, results reused (for the plan and the bench).
        self.stats: Counter[str] = Counter()
        quiet_pyathena()

    @classmethod
    def from_settings(cls, engine: EngineSettings, catalog: CatalogSettings, *, session: Any = None) -> AthenaEngine:
        """Build from the profile's ``engine`` and ``catalog`` sections.

        Args:
            engine: Engine settings (workgroup, output location, region, timeout).
            catalog: Catalog settings (the silver database is the default schema).
            session: A boto3 session shared with the profile's other AWS adapters (its
                calls are counted with theirs).

        Returns:
            The engine.
        """
        return cls(
            workgroup=engine.workgroup,
            output_location=engine.output_location,
            region=region_of(engine, session),
            database=catalog.silver_database,
            timeout_seconds=engine.query_timeout_seconds,
            session=session,
            results=engine.results,
            concurrency=engine.concurrency,
            result_reuse_minutes=engine.result_reuse_minutes,
        )

    def check(self) -> None:
        """Check that the workgroup exists (one GetWorkGroup), before a command starts work.

        Raises:
            BackendError: Naming the workgroup and the fix, or the missing permission.
        """
        what = f"Athena workgroup {self.workgroup}"
        if self._client is None:
            self._client = make_client(self._session, "athena", region=self.region, endpoint_url=None, what=what)
        with translate_aws_errors(what):
            try:
                got = self._client.get_work_group(WorkGroup=self.workgroup)
            except ClientError as exc:
                message = str(exc.response.get("Error", {}).get("Message", "")).lower()
                if exc.response.get("Error", {}).get("Code") != "InvalidRequestException" or "not found" not in message:
                    raise
                raise QueryError(
                    f"{what} does not exist in {self.region}: create it (the pipeline's terraform does), or fix "
                    "engine.workgroup or engine.region"
                ) from None
        version = got.get("WorkGroup", {}).get("Configuration", {}).get("EngineVersion", {})
        effective = str(version.get("EffectiveEngineVersion") or version.get("SelectedEngineVersion") or "")
        self.reuse_allowed = self.result_reuse_minutes > 0 and effective.strip().endswith("3")

    def _connection(self) -> Any:
        with self._lock:
            return self._open()

    def _open(self) -> Any:
        if self._conn is None:
            extra: dict[str, Any] = {"session": self._session} if self._session is not None else {}
            with translate_aws_errors(f"Athena workgroup {self.workgroup}"):
                self._conn = self._connect(
                    work_group=self.workgroup,
                    s3_staging_dir=self.output_location,
                    region_name=self.region,
                    schema_name=self.database,
                    poll_interval=self.poll_interval,
                    **extra,
                )
        return self._conn

    def _fail(self, exc: PyAthenaError) -> QueryError:
        cause = exc.__cause__
        if isinstance(cause, ClientError | BotoCoreError):
            try:
                with translate_aws_errors(f"Athena workgroup {self.workgroup}"):
                    raise cause
            except Exception as translated:  # the BackendError built from the cause
                return QueryError(str(translated))
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return QueryError(f"Athena query failed: {reason}")

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run one Athena query and fetch all its rows.

        Args:
            sql: Athena SQL; ``:name`` placeholders are bound from ``params``.
            params: Placeholder values (``int`` or ``str``).

        Returns:
            The rows, and the bytes Athena scanned.

        Raises:
            QueryError: With Athena's state-change reason when the query fails, or on timeout
                (the query is cancelled), or when the SQL does not parse.
        """
        bound = bind_params(sql, params)
        parse_query(bound)
        with self._slots:
            started = self._clock()
            conn = self._connection()
            cursor_box: list[Any] = []

            def watchdog(execution: Any) -> None:
                if self._clock() - started > self.timeout_seconds:
                    raise _TimedOut(getattr(execution, "query_id", None))

            try:
                with translate_aws_errors(f"Athena workgroup {self.workgroup}"):
                    cursor = conn.cursor(**self._cursor_options(watchdog))
                    cursor_box.append(cursor)
                    cursor.execute(bound)
                    if self.results == "pages":
                        table = rows_to_table(cursor.description, cursor.fetchall())
                    else:
                        table = cursor.as_arrow()
                    scanned = int(cursor.data_scanned_in_bytes or 0)
                    query_id = getattr(cursor, "query_id", None)
                    reused = bool(getattr(cursor, "reused_previous_result", False))
            except _TimedOut as timed_out:
                if cursor_box:
                    try:
                        cursor_box[0].cancel()
                    except (PyAthenaError, ClientError, BotoCoreError) as exc:
                        log.warning("could not cancel Athena query %s: %s", timed_out.args[0], exc)
                raise QueryError(
                    f"Athena query {timed_out.args[0] or ''} timed out after {self.timeout_seconds:g} s "
                    "and was cancelled"
                ) from None
            except PyAthenaError as exc:
                raise self._fail(exc) from None
        with self._lock:
            self.stats.update(queries=1, rows=table.num_rows, bytes_scanned=scanned, reused=int(reused))
        log.debug("athena %s: %d row(s), %d bytes scanned%s", query_id, table.num_rows, scanned, reused * " (reused)")
        return QueryResult(table=table, bytes_scanned=scanned, engine="athena")

    def _cursor_options(self, watchdog: Callable[[Any], None]) -> dict[str, Any]:
        """The cursor's class and options: the Arrow cursor (or UNLOAD), and result reuse where allowed."""
        out: dict[str, Any] = {"on_poll": watchdog}
        if self.results != "pages":
            from pyathena.arrow.cursor import ArrowCursor

            out["cursor"] = ArrowCursor
            if self.results == "unload":
                out["unload"] = True
        if self.reuse_allowed:
            out["result_reuse_enable"] = True
            out["result_reuse_minutes"] = self.result_reuse_minutes
        return out

    def close(self) -> None:
        """Close the pyathena connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
