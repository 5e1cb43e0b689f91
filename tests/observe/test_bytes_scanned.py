"""Athena bills by bytes scanned: the plan carries the figure the engine reports, and shows it.

The Athena engine runs here over an injected pyathena-like connection that answers each query
with DuckDB over a tiny sandbox lake and reports a fixed number of bytes scanned, so the whole
plan path (Session → Observer → AthenaEngine → build_plan → renderers) runs as on AWS.
"""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from bench.athena_model import ModelAthena
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


@pytest.fixture
def athena_session(tmp_path):
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons="2016", scale=0.005)
    # The profile names Athena (over a local copy of the lake, which only this injection allows).
    profile = load_profile(cfg).model_copy(update={"engine": EngineSettings(kind="athena")})
    store = LocalStore(profile.store.path)
    fake = ModelAthena(DuckDBEngine(store), scanned=SCANNED_PER_QUERY)
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
