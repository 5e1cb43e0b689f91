"""A response held as its raw body is written exactly as its decoded records would be."""

from __future__ import annotations

import json

import pytest

from reconciler.adapters.local_store import LocalStore
from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.materialize import Response, materialize_fetch
from reconciler.core.observed import ExpectedUnit
from reconciler.core.plan import Action, Request
from reconciler.errors import TerminalApiError
from reconciler.synth.universe import Universe
from tests.core.factories import SPECS


def _setup() -> tuple[str, dict[str, ExpectedUnit], list[dict[str, object]], Action]:
    u = Universe(7, 0.01, (2016,))
    games = [g for g in u.games() if g["status"] == "final" and u.plays(g["id"])]
    date = games[0]["startDate"][:10]
    games = [g for g in games if g["startDate"][:10] == date]
    units = {
        str(g["id"]): ExpectedUnit(str(g["id"]), 2016, date, {"game_id": g["id"], "season": 2016, "date": date})
        for g in games
    }
    records = [r for g in games for r in u.plays(g["id"])]
    action = Action(
        type="fetch",
        address=f"plays[season=2016][date={date}]",
        target="plays",
        season=2016,
        strategy="date",
        request=Request(path="/plays/date", params={"date": date}),
        units=sorted(units),
        covers=len(units),
        details={"raw": "plays/date", "bronze": "plays_date", "params": {"date": date}},
    )
    return date, units, records, action


def _lake(store: LocalStore) -> dict[str, bytes]:
    return {o.key: store.get(o.key) for o in store.list_objects("")}


def test_a_raw_body_writes_the_same_objects_as_its_records(tmp_path):
    date, units, records, action = _setup()
    a, b = LocalStore(tmp_path / "a", create=True), LocalStore(tmp_path / "b", create=True)
    body = json.dumps(records).encode()
    raw = Response({"date": date}, body=body, where="/plays/date")
    one = materialize_fetch(
        a,
        SPECS["plays"],
        action,
        [Response({"date": date}, records)],
        units,
        TableIndex.for_spec(a, SPECS["plays"], set()),
        "2026-11-25",
    )
    two = materialize_fetch(
        b, SPECS["plays"], action, [raw], units, TableIndex.for_spec(b, SPECS["plays"], set()), "2026-11-25"
    )
    assert one == two
    assert _lake(a) == _lake(b) and _lake(a)


def test_a_malformed_raw_body_writes_nothing(tmp_path):
    date, units, _, action = _setup()
    store = LocalStore(tmp_path / "lake", create=True)
    bad = Response({"date": date}, body=b'[{"id": 1}, oops', where="/plays/date?date=x")
    with pytest.raises(TerminalApiError, match="malformed JSON"):
        materialize_fetch(
            store, SPECS["plays"], action, [bad], units, TableIndex.for_spec(store, SPECS["plays"], set()), "2026-11-25"
        )
    assert _lake(store) == {}
