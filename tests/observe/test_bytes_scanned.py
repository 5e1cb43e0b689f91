"""Athena bills by bytes scanned: the plan carries the figure the engine reports, and shows it.

The Athena engine runs here over an injected pyathena-like connection that answers each query
with DuckDB over a tiny sandbox lake and reports a fixed number of bytes scanned, so the whole
plan path (Session → Observer → AthenaEngine → build_plan → renderers) runs as on AWS.
"""

from __future__ import annotations

import io
import json
from types import SimpleNamespace

import pyarrow as pa
import pytest
from rich.console import Console

from reconciler.adapters.athena_engine import AthenaEngine
from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.factory import Backends
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.config import EngineSettings, load_profile
from reconciler.render.text import render_text
from reconciler.service import Session
from reconciler.spec.loader import load_specs
from tests.e2e_helpers import make_sandbox

SCANNED_PER_QUERY = 7_340_032  # 7 MiB


def _athena_type(t: pa.DataType) -> str:
    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    return "varchar"


class DuckBackedAthena:
    """Acts as ``pyathena.connect``: each query is answered by DuckDB and "scans" a fixed amount."""

    def __init__(self, duck: DuckDBEngine):
        self.duck = duck
        self.queries: list[str] = []

    def __call__(self, **kwargs):
        return self

    def cursor(self, on_poll, **options):
        outer = self

        class Cursor:
            query_id = "q"

            def execute(self, sql):
                on_poll(SimpleNamespace(query_id="q", state="SUCCEEDED"))
                outer.queries.append(sql)
                self._table = outer.duck.query(sql).table
                self.data_scanned_in_bytes = SCANNED_PER_QUERY

            def as_arrow(self):
                return self._table

            def fetchall(self):
                cols = [c.to_pylist() for c in self._table.columns]
                return list(zip(*cols, strict=True))

            @property
            def description(self):
                return [(f.name, _athena_type(f.type), None, None, 0, 0, "UNKNOWN") for f in self._table.schema]

        return Cursor()

    def close(self):
        pass


@pytest.fixture
def athena_session(tmp_path):
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons="2016", scale=0.005)
    # The profile names Athena (over a local copy of the lake, which only this injection allows).
    profile = load_profile(cfg).model_copy(update={"engine": EngineSettings(kind="athena")})
    store = LocalStore(profile.store.path)
    fake = DuckBackedAthena(DuckDBEngine(store))
    engine = AthenaEngine(workgroup="cbbd", output_location="s3://hoops-edge/athena/", connect=fake)
    backends = Backends(
        store=store,
        engine=engine,
        catalog=LocalCatalog(tmp_path / "catalog.sqlite"),
        state=SqliteState.from_settings(profile.state),
    )
    session = Session(profile=profile, specs=load_specs(profile.specs_dir), backends=backends)
    yield session, fake
    session.close()
    fake.duck.close()


def test_the_plan_carries_and_shows_the_bytes_athena_scanned(athena_session):
    session, fake = athena_session
    plan, observed = session.plan([2016])
    assert fake.queries, "the observation ran through the Athena engine"
    assert observed.engine == "athena"
    assert observed.bytes_scanned == SCANNED_PER_QUERY * len(fake.queries)
    assert plan.observation["bytes_scanned"] == SCANNED_PER_QUERY * len(fake.queries)
    assert json.loads(plan.to_json())["observation"]["bytes_scanned"] == plan.observation["bytes_scanned"]
    assert plan.summary.api_calls > 0  # a real plan, with work to do

    buf = io.StringIO()
    render_text(plan, Console(file=buf, width=200, color_system=None))
    assert "engine athena" in buf.getvalue()
    mb = SCANNED_PER_QUERY * len(fake.queries) / 1e6
    assert f"Observation scanned {mb:,.1f} MB (Athena bills by bytes scanned)." in buf.getvalue()
