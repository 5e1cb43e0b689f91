"""The history a ``--writer pipeline`` lake was written by: which cbbd_etl run wrote what, and when.

Everything here is a deterministic function of the seed, the universe and the gap plans, so the
season jobs (run in parallel) agree on it. The days are the real lake's where the repo records
them (with the default ingest day ``2026-11-24``; another ingest day shifts them all):

* ``2026-01-31``: raw ``plays/game`` of that day rebuilt by ``scripts/rebuild_from_raw.py`` with
  the orchestrator's pre-2026-02-23 ``_silver_partition`` (plays carry no ``date``/``startDate``,
  so silver went to ``season=S/asof=<raw day>``, bronze to ``season=S/date=<raw day>``);
* ``2026-02-05``: ``cbbd_etl one --endpoint plays_game`` (no game metadata: bronze
  ``season=unknown/date=<day>``, silver ``asof=<day>`` at the table root);
* ``2026-02-10``: a fan-out whose silver ``scripts/deduplicate_silver.py`` consolidated on
  ``2026-02-23`` into one loose ``season=S/part-<hash8>.parquet`` per season;
* ``2026-02-14`` and ``2026-02-21``: ``games`` runs with the old ``season=S/asof=D`` silver layout
  (one season only: its duplicates were never cleaned up);
* ``2026-02-24``: ``games`` for every season in the current bare ``season=S`` layout;
* from ``2026-02-25``, one day per season: ``fanout`` runs (``lineups_game``, ``plays_game``,
  ``substitutions_game``, in the registry's order), silver ``season=S/date=<game day>``;
* the repair day (seeded, March to October): ``MSCK REPAIR TABLE`` on the tables the repo's SQL
  lists; partitions written later stay unregistered;
* ``2026-11-10``: ``gap_fill.py --endpoint plays_game`` for some dates (and one game Athena could
  not see because its rebuilt ``asof=`` partition is not registered: a duplicate);
* ``2026-11-20``: ``incremental`` (fan-out then ``plays_date``; a day whose every play the fan-out
  had just written leaves a zero-column ``plays_date`` file);
* the ingest day: ``incremental --skip-fanout`` (``plays_date`` files duplicating ``plays_game``).

The three plays layouts share each season's dates in contiguous runs; at cbbd_etl's HEAD
``deduplicate_silver.py`` would have absorbed ``asof=``/``date=`` files older than it, so the
order of those events is synthetic (the real lake's reports say every layout coexists, §4.2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import numpy as np

from reconciler.sandbox.gaps import SeasonPlan
from reconciler.synth.rng import uniform
from reconciler.synth.scale import date_str
from reconciler.synth.universe import Universe

__all__ = ["LAYOUTS", "History", "SeasonChoices", "choose", "history", "run_id"]

LAYOUTS = ("loose", "asof", "date")
_DEFAULT_INGEST = dt.date(2026, 11, 24)
_S_LAYOUT, _S_GAP, _S_PICK, _S_REPAIR = 9101, 9102, 9103, 9104
_DAY = 86400


def _shift(ingest: str, anchor: str) -> str:
    day = dt.date.fromisoformat(ingest) + (dt.date.fromisoformat(anchor) - _DEFAULT_INGEST)
    return day.isoformat()


@dataclass(frozen=True, slots=True)
class History:
    """The days of the runs (``YYYY-MM-DD``).

    Attributes:
        rebuild: Raw day rebuilt into ``asof=`` (also that ``asof``).
        one_call: The ``one`` call without game metadata.
        early_fanout: The fan-out later consolidated.
        old_games: The two old-layout ``games`` runs.
        dedup: ``deduplicate_silver.py``.
        games: The current-layout ``games`` run.
        fanout_base: The first season's ``fanout`` run (the next season's is a day later, ...).
        repair: ``MSCK REPAIR TABLE``.
        gap_fill: ``gap_fill.py``.
        incremental: The ``incremental`` run with fan-out.
        skip_fanout: The ``incremental --skip-fanout`` run (the ingest day).
    """

    rebuild: str
    one_call: str
    early_fanout: str
    old_games: tuple[str, str]
    dedup: str
    games: str
    fanout_base: str
    repair: str
    gap_fill: str
    incremental: str
    skip_fanout: str

    def fanout(self, index: int) -> str:
        """The day of the ``fanout`` run of the ``index``-th season.

        Args:
            index: The season's position among the sandbox's seasons.

        Returns:
            The day.
        """
        return (dt.date.fromisoformat(self.fanout_base) + dt.timedelta(days=index)).isoformat()


def history(seed: int, ingest: str) -> History:
    """The run days of a sandbox.

    Args:
        seed: The universe seed (chooses the repair day).
        ingest: The sandbox's ingest day (the last run).

    Returns:
        The history.
    """
    lo, hi = dt.date(2026, 3, 20), dt.date(2026, 10, 31)
    pick = int(uniform(seed, _S_REPAIR, np.array([0]))[0] * ((hi - lo).days + 1))
    return History(
        rebuild=_shift(ingest, "2026-01-31"),
        one_call=_shift(ingest, "2026-02-05"),
        early_fanout=_shift(ingest, "2026-02-10"),
        old_games=(_shift(ingest, "2026-02-14"), _shift(ingest, "2026-02-21")),
        dedup=_shift(ingest, "2026-02-23"),
        games=_shift(ingest, "2026-02-24"),
        fanout_base=_shift(ingest, "2026-02-25"),
        repair=_shift(ingest, (lo + dt.timedelta(days=pick)).isoformat()),
        gap_fill=_shift(ingest, "2026-11-10"),
        incremental=_shift(ingest, "2026-11-20"),
        skip_fanout=ingest,
    )


def run_id(seed: int, name: str) -> str:
    """A deterministic stand-in for a run's ``uuid4().hex`` (the ``tmp/<run_id>/`` prefix).

    Args:
        seed: The universe seed.
        name: The run's name.

    Returns:
        32 hex characters.
    """
    return hashlib.sha256(f"{seed}:{name}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class SeasonChoices:
    """Where a season's plays live and which pipeline quirks it carries.

    Attributes:
        season: The season.
        fanout_day: Its ``fanout`` run's day.
        layouts: Game date → ``loose``, ``asof`` or ``date``.
        gap_filled: ``date``-layout dates written by the gap fill (after the repair day).
        games_asof_duplicates: This season's ``fct_games`` also sits under the two old ``asof`` days.
        asof_and_date_game: A rebuilt (``asof``) game the gap fill wrote again under ``date=``.
        one_call_game: The game fetched by the ``one`` call (season ``unknown`` in bronze).
        plays_date_zero: The ``plays_date`` day whose silver file has no columns.
        plays_date_full: ``plays_date`` days whose silver duplicates the fan-out's files.
        games_asof_only: The day ``normalize_fct_games_partitions.py`` moved this season's
            ``fct_games`` under ``season=S/asof=<day>``, where it alone lies (the twin's 2024), or None.
    """

    season: int
    fanout_day: str
    layouts: dict[str, str] = field(default_factory=dict)
    gap_filled: frozenset[str] = frozenset()
    games_asof_duplicates: bool = False
    asof_and_date_game: int | None = None
    one_call_game: int | None = None
    plays_date_zero: str | None = None
    plays_date_full: tuple[str, ...] = ()
    games_asof_only: str | None = None


def _layouts(seed: int, season: int, dates: list[str]) -> dict[str, str]:
    """Contiguous runs of dates: six segments, each layout twice, in two seeded permutations."""
    n = len(dates)
    u = uniform(seed, _S_LAYOUT, np.arange(8) + season * 100)
    perms = [tuple(LAYOUTS[int(i)] for i in np.argsort(u[k * 3 : k * 3 + 3])) for k in (0, 1)]
    order = [*perms[0], *perms[1]]
    if n < 6:
        return {d: order[i % 3] for i, d in enumerate(dates)}
    weights = 0.5 + uniform(seed, _S_LAYOUT, np.arange(6) + season * 100 + 50)
    sizes = np.maximum(1, np.floor(weights / weights.sum() * n).astype(np.int64))
    sizes[-1] = n - int(sizes[:-1].sum())
    while sizes[-1] < 1:
        sizes[int(np.argmax(sizes[:-1]))] -= 1
        sizes[-1] += 1
    seg = np.repeat(np.arange(6), sizes)
    return {d: order[int(seg[i])] for i, d in enumerate(dates)}


def _pick(seed: int, key: int, items: list[int]) -> int | None:
    if not items:
        return None
    u = uniform(seed, _S_PICK, np.array([key]))[0]
    return items[int(u * len(items))]


def _batch_games(universe: Universe, season: int, day: str, present: set[int]) -> list[int]:
    """The present games ``/plays/date?date=day`` answers with: starts in ``[day, day + 1 00:00]``."""
    sg = universe.season_games(season)
    lo = int(dt.datetime.fromisoformat(f"{day}T00:00:00+00:00").timestamp())
    sel = (sg.start_epoch >= lo) & (sg.start_epoch <= lo + _DAY)
    return [g for g in sg.game_id[sel].tolist() if g in present]


def _plays_dates(
    universe: Universe, season: int, layouts: dict[str, str], present: set[int], *, quiet: bool = False
) -> tuple[str | None, tuple[str, ...]]:
    """A zero-column day (its whole batch fanned out) and up to two duplicate days (one in Aug-Dec).

    ``quiet`` (the twin) takes the days with the fewest games first, so that the quirks add as few
    rows as they can to a season whose rows are the real lake's.
    """
    sg = universe.season_games(season)
    layout_of = {int(g): layouts.get(sg.date(i), "") for i, g in enumerate(sg.game_id.tolist())}
    batches = {d: _batch_games(universe, season, d, present) for d in layouts}
    usable = [d for d in sorted(layouts) if batches[d]]
    if quiet:  # most games first: the picks below take the last days of this order
        usable.sort(key=lambda d: (-len(batches[d]), d))
    zero = next(
        (d for d in reversed(usable) if all(layout_of[g] == "date" for g in batches[d])),
        None,
    )
    rest = [d for d in usable if d != zero]
    autumn = [d for d in rest if int(d[5:7]) >= 8]
    full = [autumn[-1]] if autumn else []
    full += [d for d in reversed(rest) if d not in full][: 2 - len(full)]
    return zero, tuple(sorted(full))


def choose(
    universe: Universe, plans: dict[int, SeasonPlan], hist: History, *, games_asof_season: int | None = None
) -> dict[int, SeasonChoices]:
    """Decide, for every season, the layouts of its plays and the pipeline quirks it carries.

    Args:
        universe: The universe.
        plans: The gap plan of every season.
        hist: The run days.
        games_asof_season: The twin's: the season whose ``fct_games`` lies only under
            ``asof=`` (normalized on the second old-layout games day); then no season keeps
            old-layout ``fct_games`` duplicates, and the ``plays_date`` quirks take the days with
            the fewest games. None: the pipeline writer's own choices.

    Returns:
        Season → choices.
    """
    seed = universe.seed
    seasons = universe.seasons
    with_plays = [s for s in seasons if not plans[s].plays_wholly_missing]
    dup_games_season: int | None = (
        2025 if 2025 in seasons else seasons[int(uniform(seed, _S_PICK, np.array([1]))[0] * len(seasons))]
    )
    if games_asof_season is not None:
        dup_games_season = None
    out: dict[int, SeasonChoices] = {}
    for idx, season in enumerate(seasons):
        plan = plans[season]
        base = SeasonChoices(
            season,
            hist.fanout(idx),
            games_asof_duplicates=season == dup_games_season,
            games_asof_only=hist.old_games[1] if season == games_asof_season else None,
        )
        if plan.plays_wholly_missing:
            out[season] = base
            continue
        sg = universe.season_games(season)
        ok = sg.plays_ok & ~np.isin(sg.game_id, np.asarray(sorted(plan.plays_missing), dtype=np.int64))
        present = set(sg.game_id[ok].tolist())
        dates = sorted({date_str(int(d)) for d in sg.day[ok].tolist()})
        layouts = _layouts(seed, season, dates)
        zero: str | None = None
        full: tuple[str, ...] = ()
        if season == with_plays[-1]:
            zero, full = _plays_dates(universe, season, layouts, present, quiet=games_asof_season is not None)
        candidates = [d for d in dates if layouts[d] == "date" and d != zero and d not in full]
        u = uniform(seed, _S_GAP, np.arange(len(candidates)) + season * 1000)
        gap = {d for d, x in zip(candidates, u.tolist(), strict=True) if x < 0.25}
        if not gap and len(candidates) >= 2:
            gap = {candidates[int(np.argmin(u))]}
        whole = sorted(set(present) - set(plan.plays_partial))
        asof_games = [g for g in whole if layouts[sg.date(int(sg.index_of(g) or 0))] == "asof"]
        out[season] = SeasonChoices(
            season=season,
            fanout_day=base.fanout_day,
            layouts=layouts,
            gap_filled=frozenset(gap),
            games_asof_duplicates=base.games_asof_duplicates,
            games_asof_only=base.games_asof_only,
            asof_and_date_game=_pick(seed, season * 10 + 1, asof_games) if season == with_plays[-1] else None,
            one_call_game=_pick(seed, season * 10 + 2, whole) if season == with_plays[0] else None,
            plays_date_zero=zero,
            plays_date_full=full,
        )
    return out
