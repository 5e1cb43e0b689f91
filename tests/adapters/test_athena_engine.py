"""AthenaEngine: end to end through pyathena against moto's Athena mock (canned results), and
with an injected fake connection for what moto cannot do (failures, timeouts, bytes scanned)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import boto3
import pyarrow as pa
import pytest
from botocore.exceptions import ClientError
from pyathena.error import OperationalError

from reconciler.adapters.athena_engine import AthenaEngine, rows_to_table
from reconciler.config import CatalogSettings, EngineSettings
from reconciler.errors import BackendError, QueryError

SQL = "SELECT gameId AS game_id, date FROM cbbd_silver.fct_games WHERE season = :season AND status = :status"


@pytest.fixture
def moto_athena(aws_env):
    from moto import mock_aws
    from moto.athena.models import athena_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="hoops-edge")
        boto3.client("athena", region_name="us-east-1").create_work_group(
            Name="cbbd", Configuration={"ResultConfiguration": {"OutputLocation": "s3://hoops-edge/athena/"}}
        )
        yield athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]


def _column(name, typ):
    return {"Name": name, "Label": name, "Type": typ, "Precision": 0, "Scale": 0, "Nullable": "UNKNOWN"}


@pytest.mark.aws
def test_end_to_end_with_moto(moto_athena):
    from moto.athena.models import QueryResults

    header = {"Data": [{"VarCharValue": "game_id"}, {"VarCharValue": "date"}]}
    rows = [{"Data": [{"VarCharValue": str(i)}, {"VarCharValue": f"2024-12-0{i}"}]} for i in (1, 2)]
    moto_athena.query_results_queue.append(
        QueryResults(rows=[header, *rows], column_info=[_column("game_id", "bigint"), _column("date", "varchar")])
    )
    # moto keeps results in its own process: they are paged (the Arrow cursor reads S3 through pyarrow).
    engine = AthenaEngine.from_settings(
        EngineSettings(kind="athena", output_location="s3://hoops-edge/athena/", results="pages"), CatalogSettings()
    )
    engine.poll_interval = 0.01
    res = engine.query(SQL, {"season": 2025, "status": "final"})
    engine.close()
    assert res.engine == "athena"
    assert res.table.schema == pa.schema([("game_id", pa.int64()), ("date", pa.string())])
    assert res.table.to_pylist() == [
        {"game_id": 1, "date": "2024-12-01"},
        {"game_id": 2, "date": "2024-12-02"},
    ]
    (execution,) = moto_athena.executions.values()
    # the query runs as written, with the parameters bound as literals
    assert execution.query == SQL.replace(":season", "2025").replace(":status", "'final'")
    assert execution.workgroup.name == "cbbd"


class FakeCursor:
    """Enough of a pyathena cursor: polls ``states`` through ``on_poll``, then succeeds or fails."""

    def __init__(self, conn, on_poll):
        self.conn = conn
        self.on_poll = on_poll
        self.query_id = "q-1"
        self.cancelled = False

    def execute(self, sql):
        self.conn.executed.append(sql)
        for state in self.conn.states:
            self.on_poll(SimpleNamespace(query_id=self.query_id, state=state))
        if self.conn.error is not None:
            raise self.conn.error
        return self

    def fetchall(self):
        self.conn.fetched.append("pages")
        return [(1, "a"), (2, None)]

    def as_arrow(self):
        self.conn.fetched.append("arrow")
        return rows_to_table(self.description, [(1, "a"), (2, None)])

    @property
    def description(self):
        return [
            ("game_id", "integer", None, None, 10, 0, "UNKNOWN"),
            ("d", "varchar", None, None, 0, 0, "UNKNOWN"),
        ]

    data_scanned_in_bytes = 123_456

    def cancel(self):
        self.cancelled = True
        self.conn.cancelled.append(self.query_id)


class FakeConnection:
    def __init__(self, states=("RUNNING", "SUCCEEDED"), error=None):
        self.states = states
        self.error = error
        self.executed = []
        self.cancelled = []
        self.kwargs = None
        self.cursor_options = []
        self.fetched = []

    def __call__(self, **kwargs):  # acts as pyathena.connect
        self.kwargs = kwargs
        return self

    def cursor(self, on_poll, **options):
        self.cursor_options.append(options)
        return FakeCursor(self, on_poll)

    def close(self):
        pass


def test_bytes_scanned_and_types(monkeypatch):
    conn = FakeConnection()
    engine = AthenaEngine(workgroup="cbbd", output_location="s3://hoops-edge/athena/", connect=conn)
    res = engine.query("SELECT 1")
    assert res.bytes_scanned == 123_456
    assert res.table.schema == pa.schema([("game_id", pa.int32()), ("d", pa.string())])
    assert conn.kwargs["work_group"] == "cbbd"
    assert conn.kwargs["s3_staging_dir"] == "s3://hoops-edge/athena/"
    assert conn.kwargs["schema_name"] == "cbbd_silver"


def test_failure_reports_athena_state_change_reason():
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    engine = AthenaEngine(connect=FakeConnection(states=("FAILED",), error=OperationalError(reason)))
    with pytest.raises(QueryError, match="Athena query failed: COLUMN_NOT_FOUND: line 1:8"):
        engine.query("SELECT nope FROM cbbd_silver.fct_games")


def test_timeout_cancels_the_query():
    conn = FakeConnection(states=("QUEUED", "RUNNING", "RUNNING", "RUNNING"))
    ticks = itertools.count(0.0, 5.0)
    engine = AthenaEngine(connect=conn, timeout_seconds=12, clock=lambda: next(ticks))
    with pytest.raises(QueryError, match="Athena query q-1 timed out after 12 s and was cancelled"):
        engine.query("SELECT 1")
    assert conn.cancelled == ["q-1"]


def test_aws_cause_is_translated():
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "no"}, "ResponseMetadata": {}},
        "StartQueryExecution",
    )
    err = OperationalError("no")
    err.__cause__ = denied
    engine = AthenaEngine(connect=FakeConnection(states=(), error=err))
    with pytest.raises(BackendError, match="the role needs athena:StartQueryExecution"):
        engine.query("SELECT 1")


def test_bad_sql_fails_before_any_call():
    conn = FakeConnection()
    engine = AthenaEngine(connect=conn)
    with pytest.raises(QueryError, match="only SELECT"):
        engine.query("DROP TABLE cbbd_silver.fct_games")
    with pytest.raises(QueryError, match=":season have no value"):
        engine.query(SQL, {"status": "final"})
    assert conn.executed == []


def test_rows_to_table_falls_back_to_text_and_handles_empty():
    t = rows_to_table([("x", "bigint"), ("y", "array(varchar)")], [("not-a-number", "[a, b]")])
    assert t.column("x").type == pa.string()
    empty = rows_to_table([("a", "bigint"), ("b", "date")], [])
    assert empty.schema == pa.schema([("a", pa.int64()), ("b", pa.date32())])
    assert rows_to_table(None, []).num_columns == 0


@pytest.mark.aws
def test_athena_calls_go_through_the_shared_counted_session(moto_athena):
    from moto.athena.models import QueryResults

    from reconciler.adapters.aws_metrics import AwsCallCounter

    header = {"Data": [{"VarCharValue": "n"}]}
    moto_athena.query_results_queue.append(
        QueryResults(rows=[header, {"Data": [{"VarCharValue": "1"}]}], column_info=[_column("n", "bigint")])
    )
    session = boto3.session.Session(region_name="us-east-1")
    calls = AwsCallCounter().attach(session)
    engine = AthenaEngine.from_settings(
        EngineSettings(kind="athena", output_location="s3://hoops-edge/athena/", results="pages"),
        CatalogSettings(),
        session=session,
    )
    engine.poll_interval = 0.01
    assert engine.query("SELECT count(*) AS n FROM cbbd_silver.fct_games").table.to_pylist() == [{"n": 1}]
    engine.close()
    counts = calls.counts()
    assert counts["athena.StartQueryExecution"] == 1
    assert counts["athena.GetQueryExecution"] >= 1 and counts["athena.GetQueryResults"] >= 1


def test_results_are_read_by_the_arrow_cursor_by_default_or_paged_or_unloaded():
    from pyathena.arrow.cursor import ArrowCursor

    conn = FakeConnection()
    engine = AthenaEngine(connect=conn)
    assert engine.query("SELECT 1").table.to_pylist() == [{"game_id": 1, "d": "a"}, {"game_id": 2, "d": None}]
    assert conn.cursor_options == [{"cursor": ArrowCursor}] and conn.fetched == ["arrow"]
    AthenaEngine(connect=conn, results="unload").query("SELECT 1")
    assert conn.cursor_options[-1] == {"cursor": ArrowCursor, "unload": True}
    AthenaEngine(connect=conn, results="pages").query("SELECT 1")
    assert conn.cursor_options[-1] == {} and conn.fetched[-1] == "pages"
    assert engine.stats == {"queries": 1, "rows": 2, "bytes_scanned": 123_456, "reused": 0}


class _WorkGroups:
    def __init__(self, version):
        self.version = version

    def get_work_group(self, WorkGroup):
        return {"WorkGroup": {"Name": WorkGroup, "Configuration": {"EngineVersion": self.version}}}


@pytest.mark.parametrize(
    ("version", "minutes", "reuse"),
    [
        ({"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}, 60, True),
        (
            {"SelectedEngineVersion": "Athena engine version 2", "EffectiveEngineVersion": "Athena engine version 2"},
            60,
            False,
        ),
        ({"EffectiveEngineVersion": "Athena engine version 3"}, 0, False),
    ],
)
def test_result_reuse_only_where_the_workgroup_allows_it(version, minutes, reuse):
    conn = FakeConnection()
    engine = AthenaEngine(connect=conn, result_reuse_minutes=minutes)
    engine._client = _WorkGroups(version)
    engine.check()
    engine.query("SELECT 1")
    opts = conn.cursor_options[-1]
    assert opts.get("result_reuse_enable", False) is reuse
    assert ("result_reuse_minutes" in opts) is reuse


def test_queries_run_side_by_side_up_to_the_concurrency():
    import threading

    lock = threading.Lock()
    running, peak = [0], [0]
    both = threading.Barrier(2, timeout=60)

    class Conn(FakeConnection):
        def cursor(self, on_poll, **options):
            cur = FakeCursor(self, on_poll)
            inner = cur.execute

            def execute(sql):
                with lock:
                    running[0] += 1
                    peak[0] = max(peak[0], running[0])
                if sql == "SELECT 2":
                    both.wait()  # two queries are in flight at once, or this never passes
                out = inner(sql)
                with lock:
                    running[0] -= 1
                return out

            cur.execute = execute
            return cur

    engine = AthenaEngine(connect=Conn(states=("SUCCEEDED",)), concurrency=2)
    threads = [
        threading.Thread(target=engine.query, args=(q,)) for q in ("SELECT 2", "SELECT 2", "SELECT 1", "SELECT 1")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert engine.stats["queries"] == 4
    assert peak[0] == 2  # never more than the concurrency
