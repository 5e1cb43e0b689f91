"""The layout handlers on a tiny hand-made lake: one-step rewrites, newest row wins, interruptions,
refusals, registration of writes."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply.executor import MAINTENANCE_ORDER, REMOVES_DATA, _maintenance_steps
from reconciler.apply.layout_catalog import WrittenPartitions, catalog_lake
from reconciler.apply.layout_execute import LayoutApply
from reconciler.core.layout_observed import TableDecl
from reconciler.core.layout_planner import plan_layout
from reconciler.core.plan import Action
from reconciler.errors import LakeError
from reconciler.lake.writer import encode_parquet
from reconciler.observe.layout import LayoutObserver
from reconciler.observe.layout_superseded import SUPERSEDED, load_superseded
from reconciler.ports import PartitionSpec, UnitRecord

PLAYS = TableDecl(
    layer="silver",
    database="cbbd_silver",
    table="fct_plays",
    layout="season={season}/date={date}",
    key=("id",),
    columns=(("id", "int64"), ("gameId", "int64"), ("season", "int32"), ("gameStartDate", "string")),
    dedupe=True,
)
CANON = "silver/fct_plays/season=2025/date=2024-12-01/part-aaaaaaaa.parquet"
ASOF = "silver/fct_plays/season=2025/asof=2026-02-21/part-bbbbbbbb.parquet"


def _plays(ids: list[int], day: str | list[str], mark: str = "") -> bytes:
    days = day if isinstance(day, list) else [day] * len(ids)
    return encode_parquet(
        pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "gameId": pa.array([i // 10 for i in ids], pa.int64()),
                "season": pa.array([2025] * len(ids), pa.int32()),
                "gameStartDate": pa.array([f"{d}T00:00:00.000Z" for d in days], pa.string()),
                "clock": pa.array([mark] * len(ids), pa.string()),
            }
        )
    )


class Lake:
    def __init__(self, root: Path) -> None:
        (root / "lake").mkdir(parents=True)
        self.store = LocalStore(root / "lake")
        self.catalog = LocalCatalog(root / "catalog.sqlite")
        self.state = SqliteState(root / "state.sqlite")
        self.engine = DuckDBEngine(self.store)

    def observe_and_plan(self) -> list[Action]:
        observer = LayoutObserver(self.store, self.catalog, self.engine, self.state)
        return plan_layout(observer.observe([PLAYS], [2025])).actions

    def apply(self, actions: list[Action], *, allow_delete: bool = False) -> LayoutApply:
        """As the executor does: rewrites newest object first, then registers, then deletes."""
        written = WrittenPartitions(self.catalog, {"silver": "cbbd_silver"})
        la = LayoutApply(self.store, self.catalog, self.state, None, actions, written)
        h = la.handlers()
        for step in MAINTENANCE_ORDER:
            for a in _maintenance_steps(actions, step):
                if a.type in REMOVES_DATA and not allow_delete:
                    continue
                h[a.type](a)
        la.flush()
        return la

    def objects(self) -> set[str]:
        return {o.key for o in self.store.list_objects("")}

    def rows(self) -> dict[int, list[str]]:
        """Each play id → the marks of the rows holding it, over every object (a full scan)."""
        out: dict[int, list[str]] = {}
        for key in sorted(self.objects()):
            if key.endswith(".parquet"):
                t = pq.read_table(io.BytesIO(self.store.get(key)))
                for i, mark in zip(t.column("id").to_pylist(), t.column("clock").to_pylist(), strict=True):
                    out.setdefault(i, []).append(mark)
        return out

    def close(self) -> None:
        self.catalog.close()
        self.state.close()
        self.engine.close()


@pytest.fixture
def lake(tmp_path: Path) -> Any:
    lk = Lake(tmp_path)
    lk.store.put(CANON, _plays([1, 2, 3, 4, 5], "2024-12-01", "canon"))
    time.sleep(0.01)
    lk.store.put(ASOF, _plays([4, 5, 6, 7], ["2024-12-01", "2024-12-01", "2024-12-02", "2024-12-02"], "asof"))
    catalog_lake(lk.store, lk.catalog, [PLAYS])
    yield lk
    lk.close()


def test_rewrites_run_only_with_allow_delete_and_keep_each_key_once_newest_winning(lake):
    actions = lake.observe_and_plan()
    assert sorted(a.type for a in actions) == ["dedupe", "relayout"]
    before = lake.objects()
    lake.apply(actions)  # without --allow-delete: nothing is started
    assert lake.objects() == before and lake.state.load_units(SUPERSEDED) == {}
    lake.apply(actions, allow_delete=True)
    assert CANON not in lake.objects() and ASOF not in lake.objects()
    rows = lake.rows()
    assert rows == {1: ["canon"], 2: ["canon"], 3: ["canon"], 4: ["asof"], 5: ["asof"], 6: ["asof"], 7: ["asof"]}
    assert any("/season=2025/date=2024-12-02/" in k for k in lake.objects())
    locations = {p.location for p in lake.catalog.list_partitions("cbbd_silver", "fct_plays")}
    assert "silver/fct_plays/season=2025/date=2024-12-02/" in locations
    assert lake.observe_and_plan() == []


def test_an_older_object_in_another_layout_loses_its_keys_to_the_canonical_one(tmp_path):
    lk = Lake(tmp_path)
    try:
        lk.store.put(ASOF, _plays([4, 5, 6], "2024-12-01", "asof"))
        time.sleep(0.01)
        lk.store.put(CANON, _plays([1, 2, 3, 4, 5], "2024-12-01", "canon"))
        catalog_lake(lk.store, lk.catalog, [PLAYS])
        actions = lk.observe_and_plan()
        assert [a.type for a in actions] == ["relayout"]
        lk.apply(actions, allow_delete=True)
        assert lk.rows() == {1: ["canon"], 2: ["canon"], 3: ["canon"], 4: ["canon"], 5: ["canon"], 6: ["asof"]}
        assert lk.observe_and_plan() == []
    finally:
        lk.close()


def test_an_interrupted_rewrite_leaves_a_delete_that_completes_it(lake, monkeypatch):
    actions = lake.observe_and_plan()
    relayout = next(a for a in actions if a.type == "relayout")
    real = lake.store.delete

    def crash(keys: list[str]) -> int:
        raise OSError("killed between the new copy and the removal")

    monkeypatch.setattr(lake.store, "delete", crash)
    with pytest.raises(OSError):
        lake.apply([relayout], allow_delete=True)
    monkeypatch.setattr(lake.store, "delete", real)
    again = lake.observe_and_plan()
    pending = [a for a in again if a.type == "delete"]
    assert [a.address for a in pending] == [f"layout.delete[{ASOF}]"]
    assert "did not complete" in pending[0].reason
    lake.apply(again, allow_delete=True)
    assert all(len(v) == 1 for v in lake.rows().values()) and set(lake.rows()) == set(range(1, 8))
    assert lake.observe_and_plan() == []


def test_delete_needs_a_record_and_its_replacements(lake, monkeypatch):
    relayout = next(a for a in lake.observe_and_plan() if a.type == "relayout")
    monkeypatch.setattr(lake.store, "delete", lambda keys: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        lake.apply([relayout], allow_delete=True)
    monkeypatch.undo()
    delete = next(a for a in lake.observe_and_plan() if a.type == "delete")
    la = lake.apply([])
    copies = load_superseded(lake.state)[ASOF].replacements
    moved = {c: lake.store.get(c) for c in copies}
    lake.store.delete([copies[0]])
    with pytest.raises(LakeError, match=r"replacement .* is missing"):
        la.delete(delete)
    lake.store.put(copies[0], moved[copies[0]])
    lake.state.record_units([UnitRecord(SUPERSEDED, ASOF, "done", extra={"size": -1})])
    with pytest.raises(LakeError, match="not recorded as superseded"):
        la.delete(delete)


def test_a_rewrite_refuses_when_a_newer_object_changed_since_the_plan(lake):
    dedupe = next(a for a in lake.observe_and_plan() if a.type == "dedupe")
    lake.store.put(ASOF, _plays([4, 5, 6, 7, 8], "2024-12-01", "asof"))  # rewritten by someone else
    la = lake.apply([])
    with pytest.raises(LakeError, match="changed since the plan was made"):
        la.rewrite(dedupe)
    assert CANON in lake.objects()


def test_an_orphan_that_got_data_again_stays_registered(lake):
    orphan = PartitionSpec(("2025", "2024-12-09"), "silver/fct_plays/season=2025/date=2024-12-09/")
    lake.catalog.create_partitions("cbbd_silver", "fct_plays", [orphan])
    delete = next(a for a in lake.observe_and_plan() if a.details.get("op") == "partition")
    lake.store.put(orphan.location + "part-cccccccc.parquet", _plays([90], "2024-12-09"))
    lake.apply([]).delete(delete)
    assert orphan.values in {p.values for p in lake.catalog.list_partitions("cbbd_silver", "fct_plays")}


def test_written_partitions_register_only_matching_paths(lake):
    written = WrittenPartitions(lake.catalog, {"silver": "cbbd_silver", "bronze": "cbbd_bronze"})
    written.add(
        [
            "silver/fct_plays/season=2025/date=2024-12-05/part-1.parquet",
            "silver/fct_plays/season=2025/asof=2026-01-01/part-2.parquet",  # not the table's keys
            "bronze/plays_game/season=2025/date=2024-12-05/part-3.parquet",  # not in the catalog
            "raw/plays/game/ingested_at=2026-01-01/part-4.json.gz",
        ]
    )
    assert written.flush() == 1
    values = {p.values for p in lake.catalog.list_partitions("cbbd_silver", "fct_plays")}
    assert ("2025", "2024-12-05") in values and ("2025", "2026-01-01") not in values
