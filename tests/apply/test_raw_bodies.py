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
    c = LocalStore(tmp_path / "c", create=True)
    packed = Response.pack({"date": date}, body, "/plays/date")
    assert packed.body is not None and len(packed.body) < len(body) / 4
    three = materialize_fetch(
        c, SPECS["plays"], action, [packed], units, TableIndex.for_spec(c, SPECS["plays"], set()), "2026-11-25"
    )
    assert one == two == three
    assert _lake(a) == _lake(b) == _lake(c) and _lake(a)


def test_a_malformed_raw_body_writes_nothing(tmp_path):
    date, units, _, action = _setup()
    store = LocalStore(tmp_path / "lake", create=True)
    bad = Response({"date": date}, body=b'[{"id": 1}, oops', where="/plays/date?date=x")
    with pytest.raises(TerminalApiError, match="malformed JSON"):
        materialize_fetch(
            store, SPECS["plays"], action, [bad], units, TableIndex.for_spec(store, SPECS["plays"], set()), "2026-11-25"
        )
    assert _lake(store) == {}


@pytest.mark.parametrize("target", ["plays", "substitutions"])
def test_bronze_read_off_silver_equals_bronze_flattened_on_its_own(target):
    from reconciler.apply.materialize import convert_response
    from reconciler.lake.schemas import BRONZE_TABLES, records_to_table

    date, units, records, action = _setup()
    u = Universe(7, 0.01, (2016,))
    if target == "substitutions":
        records = [r for k in units for r in u.substitutions(int(k))]
        action = action.model_copy(
            update={"target": "substitutions", "details": {**action.details, "bronze": "substitutions_game"}}
        )
    assert records
    got = convert_response(SPECS[target], action, Response({"date": date}, body=json.dumps(records).encode()), units)
    bronze = BRONZE_TABLES[str(action.details["bronze"])]
    assert got.bronze is not None and got.bronze.equals(records_to_table(bronze, records, got.ctx))
    assert got.bronze.schema == bronze.schema
