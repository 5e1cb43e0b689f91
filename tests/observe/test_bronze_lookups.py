"""A whole observation reads bronze only for the units silver lacks: never when it lacks none, else for their seasons.

(A gap observation asks its gap query instead, which answers for the gap's units: tests/observe/test_gap.py.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa

from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.observe.observer import Observer
from reconciler.ports import QueryResult
from reconciler.spec.loader import load_specs

SPEC = next(s for s in load_specs(Path(__file__).parents[2] / "specs") if s.name == "substitutions")
GAMES = {2014: [1, 2], 2015: [3, 4], 2016: [5, 6]}


class _Lake:
    """Answers the observer's three kinds of query; records the bronze ones with their seasons."""

    def __init__(self, complete: set[int]) -> None:
        self.complete = complete
        self.bronze: list[tuple[int, int]] = []

    def query(self, sql: str, params: Any = None) -> QueryResult:
        lo, hi = params["season_start"], params["season_end"]
        games = [(g, s) for s, gs in GAMES.items() if lo <= s <= hi for g in gs]
        if "rc_key" in sql:  # the gap query: answered without its columns, so the target is observed whole
            table = pa.table({"u0": pa.array([], pa.string())})
        elif "cbbd_bronze.substitutions_game" in sql:
            self.bronze.append((lo, hi))
            table = pa.table({"u0": [str(g) for g, _ in games], "n": [20] * len(games), "ok": [True] * len(games)})
        elif "cbbd_silver.fct_substitutions" in sql:
            done = [g for g, _ in games if g in self.complete]
            table = pa.table({"u0": [str(g) for g in done], "n": [20] * len(done), "ok": [True] * len(done)})
        else:  # the source query over fct_games
            table = pa.table(
                {
                    "game_id": [g for g, _ in games],
                    "season": [s for _, s in games],
                    "date": [f"{s}-01-0{g}" for g, s in games],
                    "home_team": ["a"] * len(games),
                    "away_team": ["b"] * len(games),
                }
            )
        return QueryResult(table=table, bytes_scanned=0, engine="fake")


def _observe(tmp_path: Path, complete: set[int]) -> _Lake:
    store = LocalStore(tmp_path / "lake", create=True)
    for key in ("silver/fct_substitutions/x.parquet", "bronze/substitutions_game/x.parquet"):
        store.put(key, b"")  # the observer only checks that the tables have files
    lake = _Lake(complete)
    state = SqliteState(tmp_path / "state.sqlite")
    try:
        layers = {"cbbd_silver": "silver", "cbbd_bronze": "bronze"}
        observer = Observer(store=store, engine=lake, state=state, layer_of=layers)  # type: ignore[arg-type]
        seen = observer.observe_target(SPEC, [2014, 2015, 2016])
    finally:
        state.close()
    assert seen.expected is not None and len(seen.expected) == 6
    return lake


def test_bronze_is_read_for_the_seasons_with_units_silver_lacks(tmp_path: Path) -> None:
    assert _observe(tmp_path / "a", complete={1, 2, 4, 5, 6}).bronze == [(2015, 2015)]
    assert _observe(tmp_path / "b", complete={2, 3, 4, 5}).bronze == [(2014, 2016)]
    assert _observe(tmp_path / "c", complete=set()).bronze == [(2014, 2016)]


def test_bronze_is_not_read_when_silver_lacks_nothing(tmp_path: Path) -> None:
    assert _observe(tmp_path, complete={1, 2, 3, 4, 5, 6}).bronze == []
