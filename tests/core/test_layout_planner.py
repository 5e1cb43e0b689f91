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
    athena_reads,
    breaking_drift,
    in_declared_layout,
    misplaced,
    table_types,
    tolerated_drift,
)
from reconciler.core.layout_planner import layout_selected, plan_layout

PLAYS = TableDecl(
    layer="silver",
    database="cbbd_silver",
    table="fct_plays",
    layout="season={season}/date={date}",
    key=("id",),
    columns=(("id", "int64"), ("gameId", "int64"), ("season", "int32"), ("teamSeed", "double")),
    dedupe=True,
    unit_columns=("gameId",),
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
    types = table_types(PLAYS, None)
    drifted = f(P1, cols=(("id", "int64"), ("gameId", "double"), ("extra", "int64"), ("teamSeed", "string")))
    assert breaking_drift(PLAYS, drifted, types) == ["gameId double: Athena cannot read it as the table's int64"]
    assert tolerated_drift(PLAYS, drifted, types) == ["teamSeed string (table: double)"]
    assert breaking_drift(PLAYS, f(P1, cols=(("id", "int64"),)), types) == []  # absent columns are not drift


def test_athena_read_rules_follow_the_documented_table():
    assert athena_reads("int32", "bigint") and athena_reads("float", "double") and athena_reads("string", "bigint")
    assert not athena_reads("int64", "double") and not athena_reads("int64", "string")
    assert not athena_reads("double", "bigint") and athena_reads("int64", "int64")


def test_the_catalog_types_decide_what_breaks_athena():
    cat = CatalogObs(KEYS, "silver/fct_plays/", columns=(("id", "bigint"), ("gameid", "string")))
    types = table_types(PLAYS, cat)
    assert types == {"id": "bigint", "gameid": "string"}
    assert breaking_drift(PLAYS, f(P1), types) == ["gameId int64: Athena cannot read it as the table's string"]


def test_asof_layout_is_relayouted_in_one_step_with_its_removal():
    asof = f("season=2025/asof=2026-02-21", "part-a")
    tp = plan(table([f(P1), asof], [reg(P1)]))
    (rel,) = [a for a in tp.actions if a.type == "relayout"]
    assert rel.address == f"layout.relayout[{asof.key}]"
    assert rel.season == 2025 and rel.details["canonical"] is False and rel.details["needs_delete"] is True
    assert "season=/asof= is not the declared season=/date=" in rel.reason
    assert "one step, run only with --allow-delete" in rel.reason
    assert addresses(tp, "delete") == []  # the rewrite removes its own original
    assert addresses(tp, "register") == []  # a non-declared layout is never registered


def test_drift_that_breaks_a_key_column_is_a_relayout_other_drift_a_note():
    bad = f(P1, "part-x", cols=(("id", "string"), ("gameId", "double"), ("season", "int64")))
    seeds = f(P1, "part-y", cols=(*COLS, ("teamSeed", "string")))
    tp = plan(table([f(P1), bad, seeds], [reg(P1)]))
    (rel,) = [a for a in tp.actions if a.type == "relayout"]
    assert rel.details["object"]["key"] == bad.key and rel.details["canonical"] is True
    assert rel.details["drift"] == ["gameId double: Athena cannot read it as the table's int64"]
    assert "breaks a reader" in rel.reason
    (note,) = tp.notes
    assert "season in 1 object" in note and "teamSeed in 1 object" in note and "not rewritten" in note


def test_an_object_with_no_columns_is_a_delete():
    empty = f(P1, "part-0", cols=())
    (dele,) = plan(table([f(P1), empty], [reg(P1)])).actions
    assert dele.type == "delete" and dele.details["empty"] is True and "no columns" in dele.reason


def test_duplicates_keep_the_newest_object():
    old, new, newest = f(P1, "part-old", 1.0), f(P1, "part-new", 2.0), f(P2, "part-newest", 3.0)
    overlaps = (Overlap(old.key, new.key, 4), Overlap(new.key, newest.key, 2))
    tp = plan(table([old, new, newest], [reg(P1), reg(P2)], overlaps=overlaps, internal={newest.key: 1}))
    dedupes = {a.details["object"]["key"]: a for a in tp.actions if a.type == "dedupe"}
    assert set(dedupes) == {old.key, new.key, newest.key}
    assert [n["key"] for n in dedupes[old.key].details["newer"]] == [new.key]
    assert [n["key"] for n in dedupes[new.key].details["newer"]] == [newest.key]
    assert dedupes[newest.key].details["newer"] == [] and dedupes[newest.key].details["internal"] == 1
    assert [a for a in tp.actions if a.type == "delete"] == []


def test_a_newer_object_in_another_layout_wins_over_a_canonical_one():
    canonical, asof = f(P1, "part-c", 1.0), f("season=2025/asof=2026-02-21", "part-a", 2.0)
    tp = plan(table([canonical, asof], [reg(P1)], overlaps=(Overlap(asof.key, canonical.key, 7),)))
    (ded,) = [a for a in tp.actions if a.type == "dedupe"]
    assert ded.details["object"]["key"] == canonical.key and ded.details["newer"][0]["key"] == asof.key
    (rel,) = [a for a in tp.actions if a.type == "relayout"]
    assert rel.details["newer"] == []  # the newest keeps every row


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


def test_a_rekeyed_partition_with_an_empty_prefix_is_an_orphan_under_its_new_keys():
    """Re-keyed, a registered partition whose prefix holds nothing is removed after the data work."""
    asof = (("season", "string"), ("asof", "string"))
    tp = plan(table([f(P1)], [reg(P1), reg(P2)], keys=asof))
    assert [a.type for a in tp.actions] == ["register", "delete"]  # the re-key first, the orphan after
    (dele,) = [a for a in tp.actions if a.type == "delete"]
    assert dele.address == f"layout.delete[cbbd_silver.fct_plays][{P2}]"
    assert dele.details["values"] == ["2025", "2024-12-02"] and dele.details["case"] == "orphan"
    assert dele.details["location"] == f"silver/fct_plays/{P2}/" and "catalog only" in dele.reason
    # Its reasons are the same as without a re-key: here only a superseded object remains.
    held = plan(table([f(P1), f(P2, superseded_by="layout.dedupe[x]", replacements=())], [reg(P1), reg(P2)], keys=asof))
    (part,) = [a for a in held.actions if a.details.get("op") == "partition" and a.type == "delete"]
    assert "only superseded objects" in part.reason
    # A partition holding live data in the declared layout is no orphan.
    assert [a.type for a in plan(table([f(P1), f(P2)], [reg(P1), reg(P2)], keys=asof)).actions] == ["register"]


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
    assert every == {"relayout", "register", "delete"}  # the delete: an orphan partition
    catalog_only = plan_layout(obs, ["partitions"]).actions
    assert {a.details["op"] for a in catalog_only} == {"partition"}
    globbed = plan_layout(obs, ["layout.register*"]).actions
    assert [a.type for a in globbed] == ["register"]
    assert layout_selected([]) and layout_selected(["layout"]) and layout_selected(["partitions"])
    assert layout_selected(["layout.delete[x]"]) and not layout_selected(["plays"])


def test_rows_filed_under_another_season_or_date_are_relayouted():
    # plays_date files the calendar year: December plays of season 2025 under season=2024.
    wrong_season = f("season=2024/date=2024-12-01", "part-d", ranges=(("season", "2025", "2025"),))
    late = f(P1, "part-m", ranges=(("gameStartDate", "2024-12-01T23:00:00Z", "2024-12-02T00:00:00Z"),))
    right = f(
        P1, "part-r", ranges=(("season", "2025", "2025"), ("gameStartDate", "2024-12-01T01:00", "2024-12-01T23:59"))
    )
    assert misplaced(PLAYS, wrong_season) == "rows of season 2025 under season=2024"
    assert misplaced(PLAYS, late) == "rows of 2024-12-01..2024-12-02 under date=2024-12-01"
    assert misplaced(PLAYS, right) == "" and in_declared_layout(PLAYS, right)
    tp = plan(table([right, wrong_season, late], [reg(P1)]))
    relayouts = {a.details["object"]["key"]: a for a in tp.actions if a.type == "relayout"}
    assert set(relayouts) == {wrong_season.key, late.key}
    assert "rows of season 2025 under season=2024" in relayouts[wrong_season.key].reason


def test_a_bronze_response_stays_filed_by_its_call():
    bronze = replace(PLAYS, layer="bronze", table="plays_date", dedupe=False)
    day = f(P1, "part-q", ranges=(("gameStartDate", "2024-12-01T01:00:00Z", "2024-12-02T00:00:00Z"),))
    assert misplaced(bronze, day) == "" and in_declared_layout(bronze, day)


def test_a_registered_partition_holding_data_outside_the_layout_goes_after_its_relayout():
    unknown = f("season=unknown/date=2026-02-05", "part-u")
    registered = RegisteredPartition(("unknown", "2026-02-05"), "silver/fct_plays/season=unknown/date=2026-02-05/")
    tp = plan(table([f(P1), unknown], [reg(P1), registered]))
    assert [a.type for a in tp.actions] == ["relayout", "delete"]
    (dele,) = [a for a in tp.actions if a.type == "delete"]
    assert (
        dele.details["case"] == "orphan"
        and "once their relayout or deletion (run before it) has emptied it" in dele.reason
    )


def test_a_partition_holding_only_objects_with_no_columns_is_never_registered():
    """A counterexample of the property test: such a partition was registered, then left an orphan."""
    tp = plan(table([f(P1), f(P2, "part-0", cols=())], [reg(P1)]))
    assert addresses(tp, "register") == [] and [a.details.get("empty") for a in tp.actions] == [True]


def test_a_registered_partition_of_objects_with_no_columns_goes_after_their_deletion():
    tp = plan(table([f(P1), f(P2, "part-0", cols=())], [reg(P1), reg(P2)]))
    assert [(a.type, a.details.get("op")) for a in tp.actions] == [("delete", "object"), ("delete", "partition")]
    assert tp.actions[1].details["case"] == "orphan"
