"""The layout handlers on a tiny hand-made lake: retries, refusals, registration of writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.core.layout_observed import TableDecl
from reconciler.core.layout_planner import plan_layout
from reconciler.core.plan import Action
from reconciler.errors import LakeError
from reconciler.lake.writer import encode_parquet
from reconciler.layout.catalog_ops import WrittenPartitions, catalog_lake
from reconciler.layout.execute import LayoutApply
from reconciler.layout.observe import LayoutObserver
from reconciler.layout.superseded import SUPERSEDED, load_superseded
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


def _plays(ids: list[int], day: str | list[str]) -> bytes:
    days = day if isinstance(day, list) else [day] * len(ids)
    return encode_parquet(
        pa.table(
            {
                "id": pa.array(ids, pa.int64()),
                "gameId": pa.array([i // 10 for i in ids], pa.int64()),
                "season": pa.array([2025] * len(ids), pa.int32()),
                "gameStartDate": pa.array([f"{d}T00:00:00.000Z" for d in days], pa.string()),
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
        written = WrittenPartitions(self.catalog, {"silver": "cbbd_silver"})
        la = LayoutApply(self.store, self.catalog, self.state, None, actions, written)
        h = la.handlers()
        for kind in ("relayout", "dedupe", "register", "delete"):
            for a in actions:
                if a.type == kind and (kind != "delete" or allow_delete):
                    h[kind](a)
        la.flush()
        return la

    def objects(self) -> set[str]:
        return {o.key for o in self.store.list_objects("")}

    def close(self) -> None:
        self.catalog.close()
        self.state.close()
        self.engine.close()


@pytest.fixture
def lake(tmp_path: Path) -> Any:
    lk = Lake(tmp_path)
    lk.store.put(CANON, _plays([1, 2, 3, 4, 5], "2024-12-01"))
    lk.store.put(ASOF, _plays([4, 5, 6, 7], ["2024-12-01", "2024-12-01", "2024-12-02", "2024-12-02"]))
    catalog_lake(lk.store, lk.catalog, [PLAYS])
    yield lk
    lk.close()


def test_relayout_splits_dedupes_registers_and_keeps_the_original(lake):
    actions = lake.observe_and_plan()
    assert sorted(a.type for a in actions) == ["delete", "relayout"]
    before = lake.objects()
    lake.apply(actions)
    new = lake.objects() - before
    assert before <= lake.objects() and len(new) == 1  # rows 4, 5 are held already; 6, 7 go to 2024-12-02
    (copy,) = new
    assert "/season=2025/date=2024-12-02/" in copy
    locations = {p.location for p in lake.catalog.list_partitions("cbbd_silver", "fct_plays")}
    assert copy.rsplit("/", 1)[0] + "/" in locations
    assert load_superseded(lake.state)[ASOF].replacements == (copy,)
    assert [a.type for a in lake.observe_and_plan()] == ["delete"]


def test_a_relayout_retried_after_a_crash_rewrites_the_same_copy(lake):
    actions = lake.observe_and_plan()
    lake.apply(actions)
    first = lake.objects()
    # The crash: the copy was written, the original never recorded as superseded.
    lake.state.record_units([UnitRecord(SUPERSEDED, ASOF, "done", extra={"size": -1})])
    again = lake.observe_and_plan()
    assert sorted(a.type for a in again) == ["delete", "relayout"]
    lake.apply(again)
    assert lake.objects() == first
    assert [a.type for a in lake.observe_and_plan()] == ["delete"]


def test_delete_needs_a_record_and_its_replacements(lake):
    actions = lake.observe_and_plan()
    delete = next(a for a in actions if a.type == "delete")
    la = lake.apply([])
    with pytest.raises(LakeError, match="not recorded as superseded"):
        la.delete(delete)
    lake.apply(actions)
    (copy,) = load_superseded(lake.state)[ASOF].replacements
    moved = lake.store.get(copy)
    lake.store.delete([copy])
    with pytest.raises(LakeError, match=r"replacement .* is missing"):
        la.delete(delete)
    lake.store.put(copy, moved)
    la.delete(delete)
    assert ASOF not in lake.objects()
    assert lake.observe_and_plan() == []


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
