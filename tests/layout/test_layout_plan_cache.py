"""The layout plan kept in the observation cache: answered while nothing it depends on changed, never after."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reconciler.config import load_profile
from reconciler.core.layout_planner import LAYOUT_TARGET
from reconciler.core.plan import TargetPlan
from reconciler.observe.layout import LayoutObserver
from reconciler.observe.layout_superseded import Superseded, record_superseded
from reconciler.service import Session
from tests.e2e_helpers import make_sandbox

SEASONS = [2015, 2016]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg, _, _ = make_sandbox(tmp_path_factory.mktemp("layout-cache") / "sb", seasons="2015-2016", scale=0.003)
    return cfg.parent


@pytest.fixture
def lake(built: Path, tmp_path: Path) -> Path:
    """A copy of the sandbox of its own (config, lake, catalog, state, empty cache)."""
    shutil.copytree(built, tmp_path / "sb")
    return tmp_path / "sb"


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the layout observations made (each reads footers and runs the duplicate census)."""
    calls: list[int] = []
    real = LayoutObserver.observe

    def counting(self: LayoutObserver, *args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(self, *args, **kw)

    monkeypatch.setattr(LayoutObserver, "observe", counting)
    return calls


def _layout(sb: Path, targets: tuple[str, ...] = ()) -> TargetPlan:
    """One plan's layout target, as ``reconcile plan`` makes it (a session of its own)."""
    session = Session.open(load_profile(sb / "config.yaml"))
    try:
        plan, _ = session.plan(SEASONS, targets)
    finally:
        session.close()
    return next(t for t in plan.targets if t.target == LAYOUT_TARGET)


def test_an_unchanged_lake_s_layout_plan_is_answered_without_observing_it(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert len(observed) == 1
    assert _layout(lake) == cold
    assert len(observed) == 1, "the second plan observed the lake again"
    # Another selection is another plan.
    partitions = _layout(lake, ("partitions",))
    assert len(observed) == 2
    assert _layout(lake, ("partitions",)) == partitions
    assert len(observed) == 2


def test_a_copied_object_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert not [a for a in cold.actions if a.type == "dedupe"]
    victim = sorted((lake / "lake" / "silver" / "fct_plays").rglob("*.parquet"))[0]
    shutil.copy(victim, victim.with_name("part-copied0.parquet"))
    after = _layout(lake)
    assert len(observed) == 2
    assert [a for a in after.actions if a.type == "dedupe"], "the copy's duplicate rows are planned away"


def test_a_catalog_change_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    cold = _layout(lake)
    assert not [a for a in cold.actions if a.type == "register"]
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        catalog: Any = session.backends.catalog  # type: ignore[attr-defined]
        part = catalog.list_partitions("cbbd_silver", "fct_plays")[0]
        catalog.delete_partitions("cbbd_silver", "fct_plays", [part])
    finally:
        session.close()
    after = _layout(lake)
    assert len(observed) == 2
    registers = [a for a in after.actions if a.type == "register"]
    assert registers and all("fct_plays" in a.address for a in registers)


def test_a_superseded_record_is_seen_at_once(lake: Path, observed: list[int]) -> None:
    _layout(lake)
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        b: Any = session.backends
        info = next(iter(b.store.list_objects("silver/fct_plays/")))
        rec = Superseded(key=info.key, size=info.size, mtime=info.mtime, by="layout.relayout[x]", replacements=())
        record_superseded(b.state, [rec], time.time())
    finally:
        session.close()
    after = _layout(lake)
    assert len(observed) == 2
    assert f"{LAYOUT_TARGET}.delete[{info.key}]" in {a.address for a in after.actions}


def test_a_malformed_entry_is_a_miss(lake: Path, observed: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _layout(lake)
    keys: list[str] = []
    real = LayoutObserver.inputs_key

    def spying(self: LayoutObserver, *args: Any) -> str | None:
        got = real(self, *args)
        assert got is not None
        keys.append(got)
        return got

    monkeypatch.setattr(LayoutObserver, "inputs_key", spying)
    session = Session.open(load_profile(lake / "config.yaml"))
    try:
        session.plan(SEASONS)
        cache: Any = session.backends.cache  # type: ignore[attr-defined]
        for bad in (pa.table({"other": ["x"]}), pa.table({"layout_plan": ["{not json"]})):
            cache.put_result(keys[-1], bad)
            assert _layout(lake) == cold
    finally:
        session.close()
    assert len(observed) == 3  # the cold plan, then once per malformed entry


def test_a_plan_with_an_unreadable_object_is_not_kept(lake: Path, observed: list[int]) -> None:
    table = lake / "lake" / "silver" / "fct_plays"
    broken = next(table.rglob("*.parquet")).with_name("part-broken.parquet")
    broken.write_bytes(b"not parquet at all")
    first = _layout(lake)
    assert [a for a in first.actions if a.details.get("kind") == "unreadable object"]
    assert _layout(lake) == first
    assert len(observed) == 2, "a plan over an unreadable object is made afresh each time"


def test_a_census_answered_from_an_earlier_run_of_its_text_is_never_stale(
    lake: Path, observed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Athena reuses the result of the same query text (``result_reuse_minutes``): modelled here."""
    from reconciler.adapters.duckdb_engine import DuckDBEngine
    from reconciler.sql import bind_params

    reused: dict[str, Any] = {}
    texts: list[str] = []
    real = DuckDBEngine.query

    def reusing(self: DuckDBEngine, sql: str, params: Any = None) -> Any:
        text = bind_params(sql, params)
        if "reconcile census" not in text:
            return real(self, sql, params)
        texts.append(text)
        if text not in reused:
            reused[text] = real(self, sql, params)
        return reused[text]

    monkeypatch.setattr(DuckDBEngine, "query", reusing)
    assert not [a for a in _layout(lake).actions if a.type == "dedupe"]
    first = set(texts)
    victim = sorted((lake / "lake" / "silver" / "fct_plays").rglob("*.parquet"))[0]
    shutil.copy(victim, victim.with_name("part-copied0.parquet"))
    texts.clear()
    after = _layout(lake)
    assert [a for a in after.actions if a.type == "dedupe"], "a reused census hid the copy's duplicates"
    changed = {t for t in texts if "fct_plays" in t}
    assert changed and not changed & first, "the changed table's census text names its new listing"
    assert {t for t in texts if "fct_plays" not in t} <= first, "an unchanged table's census may be reused"
    # And the plan kept from it is the fresh plan's.
    assert _layout(lake) == after
    assert len(observed) == 2


def test_a_plan_whose_census_failed_is_not_kept(
    lake: Path, observed: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reconciler.adapters.duckdb_engine import DuckDBEngine
    from reconciler.errors import QueryError

    real = DuckDBEngine.query
    failures = [1]

    def failing_once(self: DuckDBEngine, sql: str, params: Any = None) -> Any:
        if "reconcile census" in sql and failures:
            failures.pop()
            raise QueryError("Athena query failed: ThrottlingException (modelled)")
        return real(self, sql, params)

    monkeypatch.setattr(DuckDBEngine, "query", failing_once)
    first = _layout(lake)
    assert not failures, "the census failed once"
    again = _layout(lake)
    assert len(observed) == 2, "the plan made after a failed census was not kept"
    assert again.actions == first.actions
    assert _layout(lake) == again
    assert len(observed) == 2, "the next plan, its census whole, was kept"


def test_a_catalog_pointing_outside_the_table_gets_a_census_text_of_its_own() -> None:
    from reconciler.core.layout_observed import TableDecl
    from reconciler.observe.layout_census import census_tag as _census_tag
    from reconciler.ports import CatalogTable, ObjectInfo, PartitionSpec

    decl = TableDecl(layer="silver", database="cbbd_silver", table="t", layout="season={season}")
    listed = [ObjectInfo(key=f"{decl.prefix}season=2015/a.parquet", size=1, mtime=1.0, etag="e")]
    table = CatalogTable(database="cbbd_silver", name="t", location=decl.prefix)
    inside = (table, [PartitionSpec(values=("2015",), location=f"{decl.prefix}season=2015/")])
    outside = (table, [PartitionSpec(values=("2015",), location="elsewhere/season=2015/")])
    assert _census_tag(decl, listed, inside) == _census_tag(decl, listed, inside)
    assert _census_tag(decl, listed, outside) != _census_tag(decl, listed, outside), "never reused"
    other = [ObjectInfo(key=listed[0].key, size=1, mtime=1.0, etag="f")]
    assert _census_tag(decl, other, inside) != _census_tag(decl, listed, inside)
