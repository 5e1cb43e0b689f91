"""The layout planner on hand-made observations: each fault, its action, and nothing else."""

from __future__ import annotations

from dataclasses import replace

from reconciler.core.layout_observed import (
    CatalogObs,
    FileObs,
    LayoutObservation,
    Overlap,
    RegisteredPartition,
    TableDecl,
    TableObs,
    drifted_columns,
    in_declared_layout,
)
from reconciler.core.layout_planner import layout_selected, plan_layout

PLAYS = TableDecl(
    layer="silver",
    database="cbbd_silver",
    table="fct_plays",
    layout="season={season}/date={date}",
    key=("id",),
    columns=(("id", "int64"), ("gameId", "int64"), ("season", "int32")),
    dedupe=True,
)
COLS = (("id", "int64"), ("gameId", "int64"), ("season", "int32"))
KEYS = (("season", "string"), ("date", "string"))


def f(part: str, name: str = "part-1", mtime: float = 100.0, cols=COLS, **kw) -> FileObs:
    pairs = tuple(tuple(seg.split("=", 1)) for seg in part.split("/") if seg)
    return FileObs(
        key=f"silver/fct_plays/{part}/{name}.parquet", size=10, mtime=mtime, partition=pairs, rows=5, columns=cols, **kw
    )


def reg(part: str) -> RegisteredPartition:
    values = tuple(seg.split("=", 1)[1] for seg in part.split("/"))
    return RegisteredPartition(values, f"silver/fct_plays/{part}/")


def table(files, registered=(), keys=KEYS, **kw) -> TableObs:
    cat = CatalogObs(partition_keys=keys, location="silver/fct_plays/", partitions=tuple(registered))
    return TableObs(decl=PLAYS, files=tuple(files), catalog=cat, **kw)


def plan(*tables: TableObs, **kw):
    return plan_layout(LayoutObservation(tables=tables, **kw))


def addresses(tp, kind=None):
    return sorted(a.address for a in tp.actions if kind is None or a.type == kind)


P1, P2 = "season=2025/date=2024-12-01", "season=2025/date=2024-12-02"


def test_a_consistent_table_needs_nothing():
    tp = plan(table([f(P1), f(P2)], [reg(P1), reg(P2)]))
    assert tp.actions == [] and tp.notes == []


def test_declared_layout_rules():
    assert in_declared_layout(PLAYS, f(P1))
    assert not in_declared_layout(PLAYS, f("season=2025/asof=2026-02-21"))
    assert not in_declared_layout(PLAYS, f("season=unknown/date=2024-12-01"))
    assert not in_declared_layout(PLAYS, f("season=2025"))
    drifted = f(P1, cols=(("id", "int64"), ("gameId", "string"), ("extra", "int64")))
    assert drifted_columns(PLAYS, drifted) == ["gameId string (declared int64)"]
    assert drifted_columns(PLAYS, f(P1, cols=(("id", "int64"),))) == []  # absent columns are not drift


def test_asof_layout_is_relayouted_and_its_original_deleted_later():
    asof = f("season=2025/asof=2026-02-21", "part-a")
    tp = plan(table([f(P1), asof], [reg(P1)]))
    (rel,) = [a for a in tp.actions if a.type == "relayout"]
    assert rel.address == f"layout.relayout[{asof.key}]"
    assert rel.season == 2025 and rel.details["canonical"] is False
    assert "season=/asof= is not the declared season=/date=" in rel.reason
    (dele,) = [a for a in tp.actions if a.type == "delete"]
    assert dele.address == f"layout.delete[{asof.key}]" and dele.details["after"] == rel.address
    assert addresses(tp, "register") == []  # a non-declared layout is never registered


def test_schema_drift_is_a_relayout_of_a_canonical_object():
    bad = f(P1, "part-x", cols=(("id", "int64"), ("gameId", "int64"), ("season", "int64")))
    tp = plan(table([f(P1), bad], [reg(P1)]))
    (rel,) = [a for a in tp.actions if a.type == "relayout"]
    assert rel.details["canonical"] is True and rel.details["drift"] == ["season int64 (declared int32)"]
    assert addresses(tp, "delete") == [f"layout.delete[{bad.key}]"]


def test_duplicates_keep_the_newest_object():
    old, new, newest = f(P1, "part-old", 1.0), f(P1, "part-new", 2.0), f(P2, "part-newest", 3.0)
    overlaps = (Overlap(old.key, new.key, 4), Overlap(new.key, newest.key, 2))
    tp = plan(table([old, new, newest], [reg(P1), reg(P2)], overlaps=overlaps, internal={newest.key: 1}))
    dedupes = {a.details["object"]["key"]: a for a in tp.actions if a.type == "dedupe"}
    assert set(dedupes) == {old.key, new.key, newest.key}
    assert [n["key"] for n in dedupes[old.key].details["newer"]] == [new.key]
    assert [n["key"] for n in dedupes[new.key].details["newer"]] == [newest.key]
    assert dedupes[newest.key].details["newer"] == [] and dedupes[newest.key].details["internal"] == 1
    assert len([a for a in tp.actions if a.type == "delete"]) == 3


def test_bronze_is_not_deduplicated():
    bronze = replace(PLAYS, layer="bronze", table="plays_game", dedupe=False)
    a, b = f(P1, "a"), f(P1, "b")
    obs = TableObs(decl=bronze, files=(a, b), overlaps=(Overlap(a.key, b.key, 3),))
    assert [x.type for x in plan(obs).actions] == []


def test_unregistered_and_orphan_partitions():
    tp = plan(table([f(P1)], [reg(P2)]))
    assert addresses(tp, "register") == [f"layout.register[cbbd_silver.fct_plays][{P1}]"]
    (dele,) = [a for a in tp.actions if a.type == "delete"]
    assert dele.address == f"layout.delete[cbbd_silver.fct_plays][{P2}]"
    assert dele.details["op"] == "partition" and dele.details["case"] == "orphan"
    assert "catalog only" in dele.reason
    assert "BatchCreatePartition" in tp.choices[0] and "MSCK" in tp.choices[0]


def test_a_partition_holding_only_superseded_objects_is_an_orphan_pending_delete():
    pending = f(P2, superseded_by="layout.dedupe[x]", replacements=())
    tp = plan(table([f(P1), pending], [reg(P1), reg(P2)]))
    kinds = sorted((a.type, a.details["op"]) for a in tp.actions)
    assert kinds == [("delete", "object"), ("delete", "partition")]
    part = next(a for a in tp.actions if a.details["op"] == "partition")
    assert "only superseded objects" in part.reason


def test_misplaced_and_wrong_arity_registrations():
    wrong_place = RegisteredPartition(("2025", "2024-12-01"), "silver/fct_plays/season=2025/asof=2024-12-01/")
    arity = RegisteredPartition(("2025",), "silver/fct_plays/season=2025/")
    tp = plan(table([f(P1)], [wrong_place, arity]))
    deletes = {a.details["case"]: a for a in tp.actions if a.type == "delete"}
    assert deletes["misplaced"].details["reregister"] == f"silver/fct_plays/{P1}/"
    assert deletes["arity"].address == "layout.delete[cbbd_silver.fct_plays][2025]"
    assert addresses(tp, "register") == []  # the misplaced entry is re-registered by its delete


def test_partition_key_mismatch_is_fixed_first():
    tp = plan(table([f(P1)], [reg(P1)], keys=(("season", "string"), ("asof", "string"))))
    (fix,) = tp.actions
    assert fix.address == "layout.register[cbbd_silver.fct_plays][partition-keys]"
    assert fix.details["partition_keys"] == [["season", "string"], ["date", "string"]]
    assert "(season string, asof string)" in fix.reason and "(season string, date string)" in fix.reason


def test_table_missing_from_the_catalog_is_a_note():
    tp = plan(TableObs(decl=PLAYS, files=(f(P1),), catalog=None))
    assert tp.actions == [] and "not in the catalog" in tp.notes[0]


def test_msck_when_asked_and_available():
    obs = [table([f(P1)])]
    assert "MSCK REPAIR TABLE" in plan(*obs, registration="msck", msck_available=True).choices[0]
    tp = plan(*obs, registration="msck", msck_available=False, catalog_kind="local")
    assert "batch create" in tp.choices[0] and "catalog is local" in tp.choices[0]
    assert tp.actions[0].details["method"] == "batch"


def test_superseded_objects_are_only_deleted():
    pending = f("season=2025/asof=2026-02-21", superseded_by="layout.relayout[x]", replacements=("k",))
    tp = plan(table([f(P1), pending], [reg(P1)]))
    (dele,) = tp.actions
    assert dele.type == "delete" and dele.details["after"] == "" and "superseded by layout.relayout[x]" in dele.reason


def test_selectors():
    obs = LayoutObservation(tables=(table([f(P1), f("season=2025/asof=2026-02-21")], [reg(P2)]),))
    every = {a.type for a in plan_layout(obs).actions}
    assert every == {"relayout", "register", "delete"}
    catalog_only = plan_layout(obs, ["partitions"]).actions
    assert {a.details["op"] for a in catalog_only} == {"partition"}
    globbed = plan_layout(obs, ["layout.register*"]).actions
    assert [a.type for a in globbed] == ["register"]
    assert layout_selected([]) and layout_selected(["layout"]) and layout_selected(["partitions"])
    assert layout_selected(["layout.delete[x]"]) and not layout_selected(["plays"])
