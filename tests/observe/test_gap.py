"""The gap observation: the engine joins expected and present units; the plan is the one whole observation gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest
import sqlglot

from reconciler.adapters.sqlite_state import SqliteState
from reconciler.config import load_profile
from reconciler.core.observed import ObservedState
from reconciler.core.planner import build_plan
from reconciler.observe.gap import gap_query, gap_result, keys_filter
from reconciler.observe.observer import Observer
from reconciler.ports import UnitRecord
from reconciler.seasons import parse_seasons
from reconciler.service import Session, layer_map
from reconciler.spec.loader import load_specs
from reconciler.sql import bind_params
from tests.e2e_helpers import make_sandbox

SPECS = {s.name: s for s in load_specs(Path(__file__).parents[2] / "specs")}
NOW = datetime(2026, 12, 1, tzinfo=UTC)
SEASONS = "2015-2016"


@pytest.fixture(scope="module", params=["default", "pipeline"])
def session(request, tmp_path_factory) -> Iterator[Session]:
    root = tmp_path_factory.mktemp(f"gap-{request.param}")
    cfg, _, _ = make_sandbox(root / "sb", seasons=SEASONS, drift=True, writer=request.param)
    # Checkpoints of every kind, on units complete, missing and incomplete alike.
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    sess = Session.open(load_profile(cfg))
    whole = _observe(sess, whole=True)
    plays = whole.targets["plays"]
    keys = [u.key for u in plays.expected or ()]
    state.record_units(
        [UnitRecord("plays", k, "empty", updated_at=NOW.timestamp() - 86400) for k in keys[0:40:4]]
        + [UnitRecord("plays", k, "done", rows=5) for k in keys[1:40:4]]
        + [UnitRecord("plays", k, "failed", attempts=3, error="ApiError: bad") for k in keys[2:40:4]]
    )
    state.close()
    yield sess
    sess.close()


def _observe(session: Session, *, whole: bool) -> ObservedState:
    b = session.backends
    observer = Observer(
        store=b.store,  # type: ignore[attr-defined]
        engine=b.engine,  # type: ignore[attr-defined]
        state=b.state,  # type: ignore[attr-defined]
        layer_of=layer_map(session.profile),
        hidden=getattr(b, "hidden", None),
        whole=frozenset(SPECS) if whole else frozenset(),
    )
    return observer.observe(session.specs, parse_seasons(SEASONS), "duckdb")


def test_the_gap_gives_the_plan_the_whole_observation_gives(session):
    whole, gap = _observe(session, whole=True), _observe(session, whole=False)
    assert all(t.gap_only for t in gap.targets.values())
    assert not any(t.gap_only for t in whole.targets.values())
    opts = session.options()
    a = build_plan(session.specs, whole, NOW, opts).model_dump(exclude={"observation"})
    b = build_plan(session.specs, gap, NOW, opts).model_dump(exclude={"observation"})
    # Decisions, coverage, estimates and fingerprints alike (a saved plan checks against either).
    assert a == b
    assert sum(len(t.actions) for t in build_plan(session.specs, gap, NOW, opts).targets) > 0
    # A complete target costs one row per season: its counts.
    games = gap.targets["games"]
    assert games.expected == () and games.counts == {2015: (1, 1), 2016: (1, 1)}


def test_the_gap_lists_only_units_that_are_not_complete(session):
    gap = _observe(session, whole=False)
    whole = _observe(session, whole=True)
    for name, t in gap.targets.items():
        w = whole.targets[name]
        lacking = [u for u in w.expected or () if not ((p := w.present.get(u.key)) is not None and p.complete)]
        assert [u.key for u in t.expected or ()] == [u.key for u in lacking]
        assert [dict(u.cols) for u in t.expected or ()] == [dict(u.cols) for u in lacking]
        assert t.counts is not None and sum(n for n, _ in t.counts.values()) == len(w.expected or ())
        assert set(t.states) <= {u.key for u in lacking} | set(t.present)


def test_a_unit_column_neither_integer_nor_text_is_observed_whole():
    spec = SPECS["plays"]
    table = pa.table({"game_id": pa.array([1.0]), "season": [2015], "date": ["2015-01-03"]})
    assert gap_result(spec, table) is None


def test_the_gap_query_names_the_selected_seasons_only():
    sql = gap_query(SPECS["plays"], [2015, 2017], database="cbbd_silver", table="fct_plays")
    assert 'TRY_CAST("season" AS bigint) IN (2015, 2017)' in sql
    assert "row_number() OVER (PARTITION BY rc_key ORDER BY rc_season, rc_date)" in sql
    tree = sqlglot.parse_one(bind_params(sql, {"season_start": 2015, "season_end": 2017}), read="athena")
    # One touch count per request shape: the date, and each team of the team-season request.
    assert [s.alias_or_name for s in tree.selects][-3:] == ["rc_t0_0", "rc_t1_0", "rc_t1_1"]


def test_a_few_units_are_read_through_a_values_semi_join_in_athena_sql():
    from reconciler.observe.queries import coverage_query

    where = keys_filter(["gameId", "teamId"], ["1:72", "2:it's", "1:72"])
    sql = coverage_query("cbbd_bronze", "lineups_game", ["gameId", "teamId"], min_rows=3, where=where)
    tree = sqlglot.parse_one(bind_params(sql, {"season_start": 2015, "season_end": 2016}), read="athena")
    values = tree.find(sqlglot.exp.Values)
    assert values is not None and len(values.expressions) == 2  # each key once
    assert "('2:it''s')" in sql


def test_the_gap_query_answers_the_lake_sources_and_derivation_inputs(session):
    """No query of their own: bronze and the lineups inputs ride on the gap's rows.

    They answer what the whole observation's lookups answer, for the units lacking.
    """
    from reconciler.observe import runner as runner_mod

    sent: list[str] = []
    execute = runner_mod.QueryRunner._execute

    def recording(self, engine, sql, params):
        sent.append(sql)
        return execute(self, engine, sql, params)

    runner_mod.QueryRunner._execute = recording  # type: ignore[method-assign]
    try:
        gap = _observe(session, whole=False)
    finally:
        runner_mod.QueryRunner._execute = execute  # type: ignore[method-assign]
    whole = _observe(session, whole=True)
    assert all("rc_key" in sql for sql in sent)  # the gap queries only
    assert len(sent) == len(SPECS)
    for name, t in gap.targets.items():
        lacking = {u.key for u in t.expected or ()}
        for strat, keys in whole.targets[name].lake_sources.items():
            assert t.lake_sources[strat] == keys & lacking
    assert any(t.lake_sources.get("bronze") for t in gap.targets.values())
    for name in ("plays", "substitutions"):
        w, g = whole.targets[name], gap.targets[name]
        assert {k: p for k, p in g.present.items() if k in w.present} == {k: w.present[k] for k in g.present}


class _NoLookups:
    """An engine that refuses gap queries with lookups folded in, and answers the rest as ``inner``."""

    def __init__(self, inner):
        self.inner = inner

    def query(self, sql, params=None):
        from reconciler.errors import QueryError

        if "rc_bkey" in sql or "rc_ikey" in sql:
            raise QueryError("refused: a folded-in lookup")
        return self.inner.query(sql, params)


def test_a_gap_query_whose_lookups_fail_asks_the_gap_alone(session):
    b = session.backends
    observer = Observer(
        store=b.store,  # type: ignore[attr-defined]
        engine=_NoLookups(b.engine),  # type: ignore[attr-defined,arg-type]
        state=b.state,  # type: ignore[attr-defined]
        layer_of=layer_map(session.profile),
        hidden=getattr(b, "hidden", None),
    )
    gap = observer.observe(session.specs, parse_seasons(SEASONS), "duckdb")
    assert all(t.gap_only for t in gap.targets.values())
    opts = session.options()
    a = build_plan(session.specs, _observe(session, whole=False), NOW, opts).model_dump(exclude={"observation"})
    assert build_plan(session.specs, gap, NOW, opts).model_dump(exclude={"observation"}) == a
