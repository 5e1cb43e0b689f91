"""Verified-empty units counted in aggregate: the engine compares a season's absent units with the
state's ``empty`` records (a key-set digest) and lists them only when the two differ.

Every test compares the plan with the one a whole observation gives (every unit listed): the
push-down changes what crosses into Python, never a decision, a count or a fingerprint.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.adapters.sqlite_state import SqliteState
from reconciler.config import load_profile
from reconciler.core.classify import _empty_is_fresh
from reconciler.core.empties import key_hash, key_hash_sql, last_fresh_day, waiver_may_name
from reconciler.core.observed import ExpectedUnit, ObservedState
from reconciler.core.planner import build_plan
from reconciler.observe.observer import Observer
from reconciler.ports import UnitRecord
from reconciler.seasons import parse_seasons
from reconciler.service import Session, layer_map
from reconciler.spec.loader import load_specs
from reconciler.sql import sql_literal
from tests.e2e_helpers import make_sandbox

SPECS = {s.name: s for s in load_specs(Path(__file__).parents[2] / "specs")}
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SEASONS = "2015-2016"
FANOUT = ("plays", "substitutions", "lineups")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[tuple[Session, Path]]:
    root = tmp_path_factory.mktemp("pushdown")
    cfg, _, _ = make_sandbox(root / "sb", seasons=SEASONS, complete=True)
    sess = Session.open(load_profile(cfg))
    yield sess, cfg.parent / ".reconcile" / "state.sqlite"
    sess.close()


@pytest.fixture
def state(sandbox, tmp_path) -> Iterator[Path]:
    """A copy of the sandbox's checkpoints (each test edits its own)."""
    path = tmp_path / "state.sqlite"
    with closing(sqlite3.connect(sandbox[1])) as src, closing(sqlite3.connect(path)) as dst:
        src.backup(dst)
    yield path


def _observe(session: Session, state: Path, *, whole: bool = False, waivers: tuple[str, ...] = ()) -> ObservedState:
    b = session.backends
    store = SqliteState(state)
    try:
        observer = Observer(
            store=b.store,  # type: ignore[attr-defined]
            engine=b.engine,  # type: ignore[attr-defined]
            state=store,
            layer_of=layer_map(session.profile),
            hidden=getattr(b, "hidden", None),
            whole=frozenset(SPECS) if whole else frozenset(),
            now=NOW,
            waivers=waivers,
        )
        return observer.observe(session.specs, parse_seasons(SEASONS), "duckdb")
    finally:
        store.close()


def _same_plan_as_whole(session: Session, state: Path, gap: ObservedState) -> dict:
    opts = session.options()
    whole = build_plan(session.specs, _observe(session, state, whole=True), NOW, opts)
    plan = build_plan(session.specs, gap, NOW, opts)
    assert plan.model_dump(exclude={"observation"}) == whole.model_dump(exclude={"observation"})
    return plan.model_dump()


def _sql(db: Path, statement: str, *args: object) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(statement, args)


def test_verified_empty_units_are_counted_not_listed(sandbox, state):
    session, _ = sandbox
    gap = _observe(session, state)
    for name in FANOUT:
        t = gap.targets[name]
        assert t.expected == (), name  # nothing listed: every absent unit is a fresh empty record
        assert set(t.empty_counts) == {2015, 2016} and all(t.empty_counts.values()), name
    assert gap.rows_returned == 4 * 2  # one row per target and season: its counts
    plan = _same_plan_as_whole(session, state, gap)
    assert not any(t["actions"] for t in plan["targets"])


def test_a_season_whose_records_differ_is_listed(sandbox, state):
    session, _ = sandbox
    # One 2015 plays record moved to a present unit's key: same count, different set.
    with closing(sqlite3.connect(state)) as conn:
        (unit,) = conn.execute(
            "SELECT unit FROM units WHERE target = 'plays' AND season = 2015 AND status = 'empty' LIMIT 1"
        ).fetchone()
    _sql(state, "DELETE FROM units WHERE target = 'plays' AND unit = ?", unit)
    store = SqliteState(state)
    store.record_units([UnitRecord("plays", "999999999", "empty", updated_at=NOW.timestamp(), season=2015)])
    store.close()
    gap = _observe(session, state)
    plays = gap.targets["plays"]
    assert 2015 not in plays.empty_counts and 2016 in plays.empty_counts
    assert unit in {u.key for u in plays.expected or ()}
    assert {u.season for u in plays.expected or ()} == {2015}
    plan = _same_plan_as_whole(session, state, gap)
    target = next(t for t in plan["targets"] if t["target"] == "plays")
    assert target["coverage"]["2015"]["missing"] == 1  # the unit whose record moved is fetched again


def test_a_record_removed_lists_its_season(sandbox, state):
    session, _ = sandbox
    with closing(sqlite3.connect(state)) as conn, conn:
        conn.execute(
            "DELETE FROM units WHERE target = 'substitutions' AND season = 2016 AND unit = "
            "(SELECT min(unit) FROM units WHERE target = 'substitutions' AND season = 2016)"
        )
    gap = _observe(session, state)
    subs = gap.targets["substitutions"]
    assert 2016 not in subs.empty_counts and 2015 in subs.empty_counts
    _same_plan_as_whole(session, state, gap)


def test_old_records_stand_only_for_games_already_old_when_checked(sandbox, state):
    session, _ = sandbox
    # Checked 40 days ago (past the 30-day recheck age), long after every game: still fresh.
    old = (NOW - timedelta(days=40)).timestamp()
    _sql(state, "UPDATE units SET updated_at = ? WHERE target = 'plays'", old)
    gap = _observe(session, state)
    assert set(gap.targets["plays"].empty_counts) == {2015, 2016}
    _same_plan_as_whole(session, state, gap)
    # One 2016 record checked within 14 days of 2016's last game: stale for the games near it.
    whole = _observe(session, state, whole=True).targets["plays"]
    absent = [u for u in whole.expected or () if u.key not in whole.present and u.season == 2016]
    last = max(absent, key=lambda u: u.date)
    checked = datetime.fromisoformat(last.date).replace(tzinfo=UTC) + timedelta(days=3)
    _sql(state, "UPDATE units SET updated_at = ? WHERE target = 'plays' AND unit = ?", checked.timestamp(), last.key)
    gap = _observe(session, state)
    assert 2016 not in gap.targets["plays"].empty_counts and 2015 in gap.targets["plays"].empty_counts
    plan = _same_plan_as_whole(session, state, gap)
    target = next(t for t in plan["targets"] if t["target"] == "plays")
    assert target["coverage"]["2016"]["missing"] >= 1  # that record is due for a recheck


def test_a_waiver_that_may_name_a_target_lists_its_units(sandbox, state):
    session, _ = sandbox
    gap = _observe(session, state, waivers=("plays[season=2015]*",))
    assert gap.targets["plays"].empty_counts == {}
    assert gap.targets["plays"].expected  # listed, for the waiver to be matched against each
    assert gap.targets["substitutions"].empty_counts  # a waiver of plays does not name them


def test_without_a_clock_every_unit_is_listed(sandbox, state):
    session, _ = sandbox
    b = session.backends
    store = SqliteState(state)
    observer = Observer(
        store=b.store,  # type: ignore[attr-defined]
        engine=b.engine,  # type: ignore[attr-defined]
        state=store,
        layer_of=layer_map(session.profile),
    )
    got = observer.observe(session.specs, parse_seasons(SEASONS), "duckdb")
    store.close()
    assert all(not t.empty_counts for t in got.targets.values())
    assert all(got.targets[n].expected for n in FANOUT)


@pytest.mark.parametrize(
    ("pattern", "target", "may"),
    [
        ("plays[season=2015]*", "plays", True),
        ("plays[season=2015]*", "lineups", False),
        ("*", "plays", True),
        ("pl*", "plays", True),
        ("lineups[season=2025]*", "plays", False),
        ("p?ays[*", "plays", True),
        ("playsx[season=1]", "plays", False),
    ],
)
def test_which_waivers_may_name_a_target(pattern, target, may):
    assert waiver_may_name(pattern, target) is may


@settings(max_examples=60, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=st.lists(st.text(min_size=1, max_size=24).filter(lambda k: "\x00" not in k), min_size=1, max_size=8))
def test_the_engine_hashes_a_key_as_python_does(sandbox, keys):
    session, _ = sandbox
    engine = session.backends.engine  # type: ignore[attr-defined]
    values = ", ".join(f"({i}, {sql_literal('k', k)})" for i, k in enumerate(keys))
    sql = f"SELECT i, {key_hash_sql('k', 0)} AS a, {key_hash_sql('k', 1)} AS b FROM (VALUES {values}) AS t(i, k)"
    rows = sorted(engine.query(sql).table.to_pylist(), key=lambda r: r["i"])
    assert [(r["a"], r["b"]) for r in rows] == [key_hash(k) for k in keys]


@settings(max_examples=300, deadline=None, print_blob=True)
@given(
    checked=st.floats(min_value=1.2e9, max_value=1.8e9),
    day=st.dates(min_value=datetime(2008, 1, 1).date(), max_value=datetime(2027, 1, 1).date()),
)
def test_the_date_bound_agrees_with_the_planners_freshness(checked, day):
    spec = SPECS["plays"]
    pol = spec.expect.empty_response
    now = datetime.fromtimestamp(checked, UTC) + timedelta(days=pol.recheck_after_days + 1)  # an old record
    unit = ExpectedUnit(key="1", season=2015, date=day.isoformat(), cols={})
    assert pol.only_if_game_within_days is not None
    until = last_fresh_day(checked, pol.only_if_game_within_days)
    assert isinstance(until, str)
    assert _empty_is_fresh(spec, unit, checked, now) is (day.isoformat() <= until)


def test_a_date_the_planner_cannot_read_lists_its_season(sandbox, tmp_path):
    """``2016/01/05`` sorts like a date but ``fromisoformat`` refuses it: its old record is stale."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    _, state_path = sandbox
    root = tmp_path / "sb"
    shutil.copytree(state_path.parent.parent, root)
    state = root / ".reconcile" / "state.sqlite"
    with closing(sqlite3.connect(state)) as conn:
        unit, season = conn.execute(
            "SELECT unit, season FROM units WHERE target = 'plays' AND status = 'empty' ORDER BY unit LIMIT 1"
        ).fetchone()
    for f in (root / "lake" / "silver" / "fct_games").rglob("*.parquet"):
        t = pq.read_table(f)
        hit = pc.equal(pc.cast(t.column("gameId"), pa.string()), unit)
        if not pc.any(hit).as_py():
            continue
        col = t.schema.get_field_index("startDate")
        day = pa.scalar(f"{season - 1}/12/31", t.schema.field("startDate").type)
        pq.write_table(t.set_column(col, "startDate", pc.if_else(hit, day, t.column("startDate"))), f)
    old = (NOW - timedelta(days=60)).timestamp()  # past the recheck age: fresh only by the game's date
    _sql(state, "UPDATE units SET updated_at = ? WHERE target = 'plays'", old)
    session = Session.open(load_profile(root / "config.yaml"))
    try:
        gap = _observe(session, state)
        assert season not in gap.targets["plays"].empty_counts
        plan = _same_plan_as_whole(session, state, gap)
        target = next(t for t in plan["targets"] if t["target"] == "plays")
        assert target["coverage"][str(season)]["missing"] == 1  # the planner cannot read that date
    finally:
        session.close()
