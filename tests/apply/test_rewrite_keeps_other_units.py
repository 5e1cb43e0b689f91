"""A request re-run for fewer of its units keeps the other units' rows (a regression test).

A re-run of the same request for a subset of its units (an incomplete unit refetched after a
crash between write and checkpoint, an empty one rechecked, one team of a lineups game) must
not replace the object the wider run wrote, or the other units' rows are lost and the units
take turns disappearing. Silver object names carry the action's unit set, so the narrower run
writes an object of its own, and its units' rows already stored are not written twice.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.materialize import Response, materialize_fetch
from reconciler.config import load_profile
from reconciler.core.plan import Action, Request
from reconciler.sandbox import load_universe_from_config
from reconciler.service import Session
from reconciler.sim.app import SimApp
from tests.e2e_helpers import make_sandbox


def _rows_by_unit(lake: Path, table: str, unit_col: str) -> dict[str, int]:
    files = [str(p) for p in (lake / "silver" / table).rglob("*.parquet")]
    t = ds.dataset(files, format="parquet").to_table(columns=[unit_col])
    out: dict[str, int] = {}
    for v in t.column(unit_col).to_pylist():
        out[str(v)] = out.get(str(v), 0) + 1
    return out


@pytest.fixture
def setup(tmp_path):
    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons="2016", scale=0.005)
    session = Session.open(load_profile(cfg, None))
    observed = session.observe((2016,), whole=True)  # every expected unit, complete ones too
    yield cfg, session, observed, SimApp(load_universe_from_config(cfg))
    session.close()


def _responses(app, action):
    reply = app.respond("GET", action.request.path, {k: str(v) for k, v in action.request.params.items()}, "Bearer t")
    return [Response(params=dict(action.details.get("params") or {}), records=json.loads(reply.body))]


def test_a_narrower_rerun_of_a_request_keeps_the_other_units_rows(setup):
    cfg, session, observed, app = setup
    lake = cfg.parent / "lake"
    spec = {s.name: s for s in session.specs}["plays"]
    units = {u.key: u for u in observed.targets["plays"].expected}
    by_date: dict[str, list[str]] = {}
    for u in units.values():
        by_date.setdefault(u.date, []).append(u.key)
    day, games = next((d, sorted(g)[:2]) for d, g in sorted(by_date.items()) if len(g) >= 2)
    shutil.rmtree(lake / "silver" / "fct_plays" / f"season=2016/date={day}")  # as if never fetched
    before = _rows_by_unit(lake, "fct_plays", "gameId")
    assert not any(before.get(g) for g in games)
    action = Action(
        type="fetch",
        address=f"plays[season=2016][date={day}]",
        target="plays",
        season=2016,
        strategy="date",
        request=Request(path="/plays/date", params={"date": day}),
        covers=2,
        units=games,
        api_calls=1,
        details={"raw": "plays/date", "bronze": "plays_date", "params": {"date": day}},
    )
    store = session.backends.store
    materialize_fetch(
        store, spec, action, _responses(app, action), units, TableIndex.for_spec(store, spec, set()), "2026-01-01"
    )
    first = _rows_by_unit(lake, "fct_plays", "gameId")
    added = {g: first.get(g, 0) - before.get(g, 0) for g in games}
    assert all(added.values()), added
    # The same request again (same address) for one of its units only, present by now.
    narrower = action.model_copy(update={"units": games[1:], "covers": 1})
    materialize_fetch(
        store,
        spec,
        narrower,
        _responses(app, narrower),
        units,
        TableIndex.for_spec(store, spec, set(games[1:])),
        "2026-01-01",
    )
    after = _rows_by_unit(lake, "fct_plays", "gameId")
    assert {g: after.get(g, 0) for g in games} == {g: first.get(g, 0) for g in games}
