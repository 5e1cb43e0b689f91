"""Windowed fetches (a season of /games in 30-day windows), resumable window by window.

A windowed action is one unit but many requests. Its silver can only be written once every
window is in (the unit would look complete after the first), so each window's response is
checked against the declared schemas, written to the raw layer as it arrives (the same object
the action writes in the end) and noted in the state store under the action's address. After
a crash, the next apply the same UTC day reads the windows already fetched back from raw
instead of asking the API again, so only the window in flight is repeated. Once the action's
outcome is recorded (done, or a terminal failure: a bad payload is never served from raw
again) the note is forgotten; a transient failure keeps it, so the retry resumes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from typing import Any, Protocol

import anyio

from reconciler.apply.lakeio import write_raw
from reconciler.apply.materialize import Response
from reconciler.core.plan import Action
from reconciler.errors import BudgetExhausted, LakeError, TerminalApiError
from reconciler.lake.layout import raw_key
from reconciler.lake.writer import decode_raw
from reconciler.ports import ObjectStore, StateStore

__all__ = ["fetch_windows", "forget_windows", "season_windows"]

_EMPTY = "empty"  # an empty window has no raw object (empty responses are not written to raw)


class _Records(Protocol):
    @property
    def records(self) -> list[dict[str, Any]]: ...


class _Client(Protocol):
    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> _Records: ...


def season_windows(season: int, days: int) -> list[tuple[str, str]]:
    """The date windows of a season (Aug 1 of season-1 to Jul 31), as cbbd_etl slices them.

    Args:
        season: The season (ending year).
        days: Window length.

    Returns:
        ``(startDateRange, endDateRange)`` pairs, inclusive, e.g. ``2025-08-01T00:00:00Z``.
    """
    start, end = date(season - 1, 8, 1), date(season, 7, 31)
    out = []
    while start <= end:
        stop = min(start + timedelta(days=days - 1), end)
        out.append((f"{start.isoformat()}T00:00:00Z", f"{stop.isoformat()}T23:59:59Z"))
        start = stop + timedelta(days=1)
    return out


def _note_key(action: Action) -> str:
    return f"windows:{action.address}"


def forget_windows(state: StateStore, action: Action) -> None:
    """Forget the windows an action fetched (its outcome is recorded now).

    Args:
        state: The state store.
        action: Any action (only windowed ones have windows to forget).
    """
    if action.details.get("window_days") and state.get_meta(_note_key(action)) not in (None, "{}"):
        state.set_meta(_note_key(action), "{}")


def _load(
    store: ObjectStore, state: StateStore, action: Action, today: str
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """The windows fetched today by an earlier attempt (records, and where they are), by ``lo|hi``.

    A window whose raw object cannot be read is left out: it is fetched again.
    """
    note = json.loads(state.get_meta(_note_key(action)) or "{}")
    if note.get("day") != today:
        return {}, {}
    records: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, str] = {}
    for window, key in dict(note.get("windows") or {}).items():
        try:
            records[window] = [] if key == _EMPTY else decode_raw(store.get(key), key=key)
        except LakeError:
            continue
        keys[window] = key
    return records, keys


async def fetch_windows(
    client: _Client,
    store: ObjectStore,
    state: StateStore,
    action: Action,
    *,
    today: str,
    check: Callable[[Response], object],
    stopping: Callable[[], str],
) -> list[Response]:
    """Fetch every window of a windowed action, reusing windows fetched today by a crashed attempt.

    Args:
        client: The API client.
        store: The object store (raw layer).
        state: The state store (which windows are in raw).
        action: A fetch action with ``details.window_days``.
        today: The UTC day ``YYYY-MM-DD`` (raw keys are per day; so is reuse).
        check: Raises :class:`TerminalApiError` for a response that does not fit the declared
            schemas (checked before its raw write: a bad payload never reaches any layer).
        stopping: Returns the stop reason once apply is stopping (checked between windows).

    Returns:
        One response per window.

    Raises:
        BudgetExhausted: When apply stops between two windows (nothing is recorded then).
        TerminalApiError: When a window returns exactly its cap (the result is truncated) or
            does not fit the schemas.
    """
    assert action.request is not None
    base = dict(action.details.get("params") or {})
    cap = int(action.details.get("cap") or 0)
    raw_dir = str(action.details.get("raw") or "")
    cached, keys = await anyio.to_thread.run_sync(_load, store, state, action, today)
    note: dict[str, Any] = {"day": today, "windows": keys}
    out = []
    for lo, hi in season_windows(int(action.season or base.get("season", 0)), int(action.details["window_days"])):
        if stopping():
            raise BudgetExhausted(stopping())
        full = {**base, "startDateRange": lo, "endDateRange": hi}
        window = f"{lo}|{hi}"
        if window in cached:
            out.append(Response(params=full, records=cached[window]))
            continue
        params = {**action.request.params, "startDateRange": lo, "endDateRange": hi}
        records = (await client.get_json_array(action.request.path, params)).records
        if cap and len(records) >= cap:
            raise TerminalApiError(
                f"{action.request.path} returned exactly its cap of {cap} rows for {lo}..{hi}: "
                "the result is truncated; use a smaller window_days"
            )
        response = Response(params=full, records=records)
        if raw_dir:
            await anyio.to_thread.run_sync(_save, store, state, action, response, raw_dir, today, check, note)
        out.append(response)
    return out


def _save(
    store: ObjectStore,
    state: StateStore,
    action: Action,
    response: Response,
    raw_dir: str,
    today: str,
    check: Callable[[Response], object],
    note: dict[str, Any],
) -> None:
    """Check a window, write it to raw, then note it (the data first, then the record of it)."""
    check(response)
    window = f"{response.params['startDateRange']}|{response.params['endDateRange']}"
    key = raw_key(raw_dir, today, response.params)
    note["windows"][window] = write_raw(store, key, response.records) if response.records else _EMPTY
    state.set_meta(_note_key(action), json.dumps(note, sort_keys=True))
