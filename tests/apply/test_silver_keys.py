"""Two actions with the same request but different units never replace each other's silver objects."""

from __future__ import annotations

from reconciler.adapters.local_store import LocalStore
from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.materialize import Response, materialize_fetch
from reconciler.core.observed import ExpectedUnit
from reconciler.core.plan import Action, Request
from reconciler.synth.universe import Universe
from tests.core.factories import SPECS


def test_same_request_other_units_keeps_both_objects(tmp_path):
    u = Universe(7, 0.01, (2016,))
    by_date: dict[str, list] = {}
    for g in u.games():
        if g["status"] == "final" and u.plays(g["id"]):
            by_date.setdefault(g["startDate"][:10], []).append(g)
    date, games = next((d, gs) for d, gs in sorted(by_date.items()) if len(gs) >= 2)
    a, b = games[0], games[1]
    units = {
        str(g["id"]): ExpectedUnit(str(g["id"]), 2016, date, {"game_id": g["id"], "season": 2016, "date": date})
        for g in (a, b)
    }
    records = u.plays(a["id"]) + u.plays(b["id"])
    store = LocalStore(tmp_path / "lake", create=True)

    def act(unit: str) -> Action:
        return Action(
            type="fetch",
            address=f"plays[season=2016][date={date}]",
            target="plays",
            season=2016,
            strategy="date",
            request=Request(path="/plays/date", params={"date": date}),
            units=[unit],
            covers=1,
            details={"raw": "plays/date", "bronze": "plays_date", "params": {"date": date}},
        )

    first = materialize_fetch(
        store,
        SPECS["plays"],
        act(str(a["id"])),
        [Response({"date": date}, records)],
        units,
        TableIndex.for_spec(store, SPECS["plays"]),
        "2026-11-25",
    )
    again = materialize_fetch(
        store,
        SPECS["plays"],
        act(str(a["id"])),
        [Response({"date": date}, records)],
        units,
        TableIndex.for_spec(store, SPECS["plays"]),
        "2026-11-25",
    )
    other = materialize_fetch(
        store,
        SPECS["plays"],
        act(str(b["id"])),
        [Response({"date": date}, records)],
        units,
        TableIndex.for_spec(store, SPECS["plays"]),
        "2026-11-25",
    )
    silver = lambda o: [k for k in o.objects if k.startswith("silver/")]  # noqa: E731
    assert silver(first) == silver(again)  # a redo replaces its own object
    assert set(silver(first)).isdisjoint(silver(other))  # another unit set never does
    assert all(store.exists(k) for k in silver(first) + silver(other))
    assert first.rows_by_unit[str(a["id"])] == len(u.plays(a["id"]))
