"""A windowed fetch (a season of /games) resumes window by window: what is kept, reused and forgotten."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply.executor import Executor
from reconciler.apply.materialize import Outcome, Response
from reconciler.apply.windows import fetch_windows, season_windows
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Action, Request
from reconciler.errors import TerminalApiError, TransientApiError
from tests.core.factories import SPECS

DAY = "2026-11-20"
ACTION = Action(
    type="fetch",
    address="games[season=2016]",
    target="games",
    season=2016,
    strategy="season_windows",
    request=Request(path="/games", params={"season": 2016}),
    units=["2016"],
    covers=1,
    details={"window_days": 30, "cap": 3000, "raw": "games", "params": {"season": 2016}},
)
WINDOWS = season_windows(2016, 30)


class Killed(Exception):
    """Stands for kill -9 at a request."""


@dataclass(frozen=True)
class _Reply:
    records: list[dict[str, Any]]


@dataclass
class _Api:
    """Two games per window, none in the first; dies when request ``die_at`` (1-based) starts."""

    die_at: int | None = None
    asked: list[str] = field(default_factory=list)

    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> _Reply:
        if self.die_at is not None and len(self.asked) + 1 >= self.die_at:
            raise Killed
        lo = str(params["startDateRange"])
        self.asked.append(lo)
        if lo == WINDOWS[0][0]:
            return _Reply([])
        return _Reply([{"id": f"{lo[:10]}-{i}", "startDate": lo} for i in range(2)])


def _fetch(store: LocalStore, state: SqliteState, api: _Api, *, day: str = DAY, check: Any = None) -> list[Response]:
    async def go() -> list[Response]:
        return await fetch_windows(
            api, store, state, ACTION, today=day, check=check or (lambda r: None), stopping=lambda: ""
        )

    return anyio.run(go)


@pytest.fixture
def lake(tmp_path):
    state = SqliteState(tmp_path / "state.sqlite")
    yield LocalStore(tmp_path / "lake", create=True), state
    state.close()


def _killed_after(store: LocalStore, state: SqliteState, n: int) -> None:
    with pytest.raises(Killed):
        _fetch(store, state, _Api(die_at=n + 1))


def test_windows_fetched_before_a_kill_are_read_back_from_raw(lake):
    store, state = lake
    _killed_after(store, state, 5)
    api = _Api()
    got = _fetch(store, state, api)
    assert api.asked == [lo for lo, _ in WINDOWS[5:]]  # only the windows not fetched yet
    assert got == _fetch(store, state, _Api(), day="2026-11-21")  # the same responses as a fresh fetch


def test_another_day_asks_for_every_window_again(lake):
    store, state = lake
    _killed_after(store, state, 5)
    api = _Api()
    _fetch(store, state, api, day="2026-11-21")
    assert len(api.asked) == len(WINDOWS)


def test_a_window_that_fails_its_check_is_not_written_to_raw(lake):
    store, state = lake

    def check(r: Response) -> None:
        if r.params["startDateRange"] == WINDOWS[2][0]:
            raise TerminalApiError("malformed payload for games[season=2016]: id is not an integer")

    with pytest.raises(TerminalApiError):
        _fetch(store, state, _Api(), check=check)
    raw = sorted(o.key for o in store.list_objects("raw/"))
    assert len(raw) == 1  # window 1 was empty (no raw object), window 2 is in, window 3 was refused
    api = _Api()
    _fetch(store, state, api)
    assert api.asked == [lo for lo, _ in WINDOWS[2:]]


@pytest.mark.parametrize(
    ("error", "kept"),
    [(None, False), (TerminalApiError("malformed payload"), False), (TransientApiError("503 after retries"), True)],
)
def test_recording_the_outcome_forgets_the_windows_unless_the_failure_was_transient(lake, error, kept):
    store, state = lake
    _killed_after(store, state, 5)
    observed = ObservedState(seasons=(2016,), targets={})
    ex = Executor(specs=SPECS, store=store, state=state, client=None, observed=observed)
    ex.recorder.pending[("games", "2016")] = 1
    ex._record(ACTION, Outcome(rows_by_unit={"2016": 8}) if error is None else None, error)
    api = _Api()
    _fetch(store, state, api)
    assert len(api.asked) == (len(WINDOWS) - 5 if kept else len(WINDOWS))
