"""One season's schedule: the games, their teams, times, results and data availability.

Everything is drawn from counter-based hashes keyed by ``(season, draw index)``, so a season does
not depend on which other seasons are selected. Games are stored column-wise, in API order
(``startDate`` then ``id``); ``id = (season - 2000) * 100000 + rank + 1``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from reconciler.synth.rng import categorical, normal, randint, uniform
from reconciler.synth.scale import games_in_season, plays_per_game
from reconciler.synth.season_calendar import TIP_SLOTS, TIP_WEIGHTS, day_weights, game_notes
from reconciler.synth.teams import N_D1, N_NON_D1, TeamTable

__all__ = [
    "FINAL",
    "GAME_ID_BLOCK",
    "P_MAX",
    "STATUSES",
    "SeasonGames",
    "build_season",
    "play_targets",
    "subs_share",
]

GAME_ID_BLOCK = 100_000
P_MAX = 6
STATUSES = ("final", "postponed", "cancelled")
FINAL = 0
_TOURNAMENTS = ("NCAA", "NIT")
_GAME_TYPES = ("STD", "TRNMNT")


def subs_share(season: int) -> float:
    """The share of games with substitution data at the API (higher in recent seasons).

    Args:
        season: The season.

    Returns:
        A probability.
    """
    return float(min(0.97, max(0.05, 0.05 + 0.07 * (season - 2010))))


@dataclass(frozen=True, slots=True)
class SeasonGames:
    """The games of one season, column-wise, in API order. ``-1`` encodes null in int columns.

    Attributes:
        season: The season.
        game_id: Game ids.
        start_epoch: Start, seconds since the epoch (UTC).
        day: The UTC start date as a day number.
        start_str: ``startDate`` on the wire (``...sssZ``).
        status: Index into :data:`STATUSES`.
        postseason: ``seasonType`` is postseason.
        tournament: Index into ``("NCAA", "NIT")`` or -1.
        game_type: Index into ``("STD", "TRNMNT")`` or -1 (null).
        notes: ``gameNotes``.
        home: Home team index. away: Away team index.
        neutral: ``neutralSite``. conf_game: ``conferenceGame``. tbd: ``startTimeTbd``.
        home_seed: Seed or -1. away_seed: Seed or -1.
        points: ``(n, 2, P_MAX)`` period points (home, away); zero beyond ``n_periods``.
        n_periods: Periods played (0 when not final).
        attendance: Or -1. excitement10: Excitement in tenths, or -1.
        elo: ``(n, 4)``: home start, home end, away start, away end (-1 null).
        venue_team: Team index whose arena hosts the game.
        n_target: Target number of plays.
        plays_ok: The API has plays for the game.
        has_subs: The API has substitutions and lineups (and ``onFloor``) for the game.
    """

    season: int
    game_id: NDArray[np.int64]
    start_epoch: NDArray[np.int64]
    day: NDArray[np.int64]
    start_str: tuple[str, ...]
    status: NDArray[np.int64]
    postseason: NDArray[np.bool_]
    tournament: NDArray[np.int64]
    game_type: NDArray[np.int64]
    notes: tuple[str | None, ...]
    home: NDArray[np.int64]
    away: NDArray[np.int64]
    neutral: NDArray[np.bool_]
    conf_game: NDArray[np.bool_]
    tbd: NDArray[np.bool_]
    home_seed: NDArray[np.int64]
    away_seed: NDArray[np.int64]
    points: NDArray[np.int64]
    n_periods: NDArray[np.int64]
    attendance: NDArray[np.int64]
    excitement10: NDArray[np.int64]
    elo: NDArray[np.int64]
    venue_team: NDArray[np.int64]
    n_target: NDArray[np.int64]
    plays_ok: NDArray[np.bool_]
    has_subs: NDArray[np.bool_]

    def __len__(self) -> int:
        """The number of games."""
        return len(self.game_id)

    def index_of(self, game_id: int) -> int | None:
        """The position of a game id in this season, or None.

        Args:
            game_id: A game id.

        Returns:
            The row index.
        """
        pos = int(game_id) - (self.season - 2000) * GAME_ID_BLOCK - 1
        return pos if 0 <= pos < len(self.game_id) else None

    def date(self, i: int) -> str:
        """The UTC date (``YYYY-MM-DD``) of game ``i``.

        Args:
            i: Row index.

        Returns:
            The date, i.e. the first 10 characters of ``startDate``.
        """
        return self.start_str[i][:10]

    def record(self, i: int, teams: TeamTable) -> dict[str, Any]:
        """The ``GameInfo`` wire record of game ``i`` (all 39 keys).

        Args:
            i: Row index.
            teams: The team table.

        Returns:
            The record.
        """
        gid = int(self.game_id[i])
        final = int(self.status[i]) == FINAL
        npd = int(self.n_periods[i])
        out: dict[str, Any] = {
            "id": gid,
            "sourceId": str(400_000_000 + gid),
            "seasonLabel": f"{self.season - 1}{self.season}",
            "season": self.season,
            "seasonType": "postseason" if self.postseason[i] else "regular",
            "startDate": self.start_str[i],
            "startTimeTbd": bool(self.tbd[i]),
            "neutralSite": bool(self.neutral[i]),
            "conferenceGame": bool(self.conf_game[i]),
            "gameType": _opt(_GAME_TYPES, int(self.game_type[i])),
            "tournament": _opt(_TOURNAMENTS, int(self.tournament[i])),
            "gameNotes": self.notes[i],
            "status": STATUSES[int(self.status[i])],
            "attendance": _int_or_none(self.attendance[i]),
        }
        pts = self.points[i]
        for side, (prefix, team) in enumerate((("home", int(self.home[i])), ("away", int(self.away[i])))):
            total = int(pts[side, :npd].sum())
            other = int(pts[1 - side, :npd].sum())
            out[f"{prefix}TeamId"] = int(teams.team_id[team])
            out[f"{prefix}Team"] = teams.school[team]
            out[f"{prefix}ConferenceId"] = teams.conference_id(team)
            out[f"{prefix}Conference"] = teams.conference(team)
            out[f"{prefix}Seed"] = _int_or_none(self.home_seed[i] if side == 0 else self.away_seed[i])
            out[f"{prefix}Points"] = total if final else None
            out[f"{prefix}PeriodPoints"] = [int(x) for x in pts[side, :npd]] if final else None
            out[f"{prefix}Winner"] = (total > other) if final else None
            out[f"{prefix}TeamEloStart"] = _int_or_none(self.elo[i, 2 * side])
            out[f"{prefix}TeamEloEnd"] = _int_or_none(self.elo[i, 2 * side + 1])
        ex = int(self.excitement10[i])
        vt = int(self.venue_team[i])
        out["excitement"] = None if ex < 0 else ex / 10
        out["venueId"] = int(teams.venue_id[vt])
        out["venue"] = teams.venue[vt]
        out["city"] = teams.city[vt]
        out["state"] = teams.state[vt]
        return out


def _opt(values: tuple[str, ...], idx: int) -> str | None:
    return None if idx < 0 else values[idx]


def _int_or_none(v: Any) -> int | None:
    iv = int(v)
    return None if iv < 0 else iv


def play_targets(
    seed: int, game_id: NDArray[np.int64], n_periods: NDArray[np.int64], per_game: float
) -> NDArray[np.int64]:
    """The target play count of each game: ``per_game``, spread per game, more with overtime.

    Args:
        seed: The universe seed.
        game_id: Game ids (the draws are keyed by them).
        n_periods: Periods played.
        per_game: The mean plays per game (of a regulation game).

    Returns:
        Targets within ``[120, 950]``.
    """
    ot_count = np.maximum(n_periods - 2, 0)
    target = np.round(per_game * np.exp(0.08 * normal(seed, 460, game_id)) * (1 + 0.12 * ot_count))
    return np.clip(target, 120, 950).astype(np.int64)


def build_season(seed: int, season: int, scale: float, teams: TeamTable) -> SeasonGames:
    """Generate one season's games.

    Args:
        seed: The universe seed.
        season: The season (ending year).
        scale: The scale factor.
        teams: The team table.

    Returns:
        The season's games in API order.
    """
    n = games_in_season(season, scale)
    i = np.arange(n, dtype=np.int64)
    s = season

    def u(stream: int) -> NDArray[np.float64]:
        return uniform(seed, 100 + stream, s, i)

    n_post = max(1, round(n * 0.017))
    post = i < n_post
    reg_days, reg_w, post_days, post_w = day_weights(season)
    day = np.where(
        post,
        post_days[categorical(post_w.tolist(), u(1))],
        reg_days[categorical(reg_w.tolist(), u(2))],
    )
    slot = np.asarray(TIP_SLOTS, dtype=np.int64)[categorical(TIP_WEIGHTS, u(3))]
    if not np.any(slot == 0):
        slot[int(np.argmin(u(3)))] = 0  # always have 00:00Z tip-offs (they straddle two /plays/date days)
    start_epoch = day * 86400 + slot

    jan1 = (dt.date(season, 1, 1) - dt.date(1970, 1, 1)).days
    conf_period = (~post) & (day >= jan1)
    home = randint(seed, 110, 0, N_D1, s, i)
    other = randint(seed, 111, 0, N_D1 - 1, s, i)
    away = other + (other >= home)
    same_conf = conf_period & (u(12) < 0.75)
    for c, members in enumerate(teams.conf_members):
        m = same_conf & (teams.conf_idx[home] == c)
        if not np.any(m) or len(members) < 2:
            continue
        pos_home = np.searchsorted(members, home[m])
        r = randint(seed, 113, 0, len(members) - 1, s, i[m])
        away[m] = members[r + (r >= pos_home)]
    non_d1 = (~post) & (day < jan1) & (u(14) < 0.07)
    away = np.where(non_d1, N_D1 + randint(seed, 115, 0, N_NON_D1, s, i), away)

    order = np.lexsort((home, u(16), start_epoch))
    start_epoch, day, post, home, away = start_epoch[order], day[order], post[order], home[order], away[order]
    game_id = (s - 2000) * GAME_ID_BLOCK + i + 1
    # From here on, draws are keyed by game id (stable for a given game).
    g = game_id

    def ug(stream: int) -> NDArray[np.float64]:
        return uniform(seed, 300 + stream, g)

    def zg(stream: int) -> NDArray[np.float64]:
        return normal(seed, 400 + stream, g)

    hc, ac = teams.conf_idx[home], teams.conf_idx[away]
    conf_game = (hc >= 0) & (hc == ac)
    mar5 = (dt.date(season, 3, 5) - dt.date(1970, 1, 1)).days
    conf_tourney = conf_game & (day >= mar5) & ~post
    early_event = (~post) & (day < jan1 - 20) & (ug(1) < 0.09)
    neutral = post | early_event | (conf_tourney & (ug(2) < 0.6))
    tournament = np.where(post, np.where(ug(3) < 0.67, 0, 1), -1)
    game_type = np.where(post, 1, 0)
    game_type = np.where(ug(4) < 0.01, -1, game_type)
    seed_hi = np.where(tournament == 0, 17, 9)
    home_seed = np.where(post, randint(seed, 305, 1, seed_hi, g), -1)
    away_seed = np.where(post, randint(seed, 306, 1, seed_hi, g), -1)
    notes = game_notes(season, day, post, tournament, conf_tourney, early_event, hc, game_id)

    u_status = ug(7)
    status = np.where(u_status < 0.008, np.where(ug(8) < 0.5, 1, 2), FINAL)
    if not np.any(status != FINAL):
        cand = np.where(post, 2.0, u_status)
        status[int(np.argmin(cand))] = 1 + int(ug(8)[0] < 0.5)
    final = status == FINAL

    points = np.zeros((n, 2, P_MAX), dtype=np.int64)
    adv = np.where(neutral, 0, 1)
    for half, base in ((0, 33.0), (1, 36.0)):
        points[:, 0, half] = np.clip(np.round(base + 6.5 * zg(10 + half)), 12, 70) + adv
        points[:, 1, half] = np.clip(np.round(base + 6.5 * zg(12 + half)), 12, 70)
    n_periods = np.full(n, 2, dtype=np.int64)
    for ot in range(P_MAX - 2):
        tied = points[:, 0].sum(axis=1) == points[:, 1].sum(axis=1)
        p = 2 + ot
        for side in (0, 1):
            pts = np.clip(np.round(9.0 + 3.0 * zg(20 + 2 * ot + side)), 0, 25).astype(np.int64)
            points[:, side, p] = np.where(tied, pts, 0)
        n_periods = np.where(tied, p + 1, n_periods)
    still = points[:, 0].sum(axis=1) == points[:, 1].sum(axis=1)
    points[still, 0, P_MAX - 1] += 1
    points[~final] = 0
    n_periods = np.where(final, n_periods, 0)

    attendance = np.where(final & (ug(30) > 0.08), (500 + 15000 * ug(31) ** 2).astype(np.int64), -1)
    excitement10 = np.where(final & (ug(32) > 0.12), randint(seed, 333, 3, 100, g), -1)
    tid = teams.team_id
    base_h = 1500 + 200 * normal(seed, 340, s, tid[home])
    base_a = 1500 + 200 * normal(seed, 340, s, tid[away])
    elo_hs = np.round(base_h + 30 * zg(41)).astype(np.int64)
    elo_as = np.where(teams.d1[away], np.round(base_a + 30 * zg(42)).astype(np.int64), -1)
    home_won = points[:, 0].sum(axis=1) > points[:, 1].sum(axis=1)
    delta = randint(seed, 343, 5, 20, g)
    elo_he = np.where(final, elo_hs + np.where(home_won, delta, -delta), -1)
    elo_ae = np.where(final & (elo_as >= 0), elo_as + np.where(home_won, -delta, delta), -1)
    elo = np.stack([elo_hs, elo_he, elo_as, elo_ae], axis=1).astype(np.int64)
    venue_team = np.where(neutral, randint(seed, 350, 0, N_D1, g), home)

    n_target = play_targets(seed, game_id, n_periods, plays_per_game(season))
    u_empty = ug(61)
    api_empty = final & (u_empty < 0.005)
    if int(final.sum()) >= 8 and not np.any(api_empty):
        api_empty[int(np.argmin(np.where(final, u_empty, 2.0)))] = True
    plays_ok = final & ~api_empty
    has_subs = plays_ok & (ug(62) < subs_share(season))

    start_str = tuple(
        f"{t}.000Z" for t in np.datetime_as_string(start_epoch.astype("datetime64[s]"), unit="s").tolist()
    )
    return SeasonGames(
        season=season,
        game_id=game_id.astype(np.int64),
        start_epoch=start_epoch.astype(np.int64),
        day=day.astype(np.int64),
        start_str=start_str,
        status=status.astype(np.int64),
        postseason=post,
        tournament=tournament.astype(np.int64),
        game_type=game_type.astype(np.int64),
        notes=notes,
        home=home.astype(np.int64),
        away=away.astype(np.int64),
        neutral=neutral,
        conf_game=conf_game,
        tbd=ug(70) < 0.003,
        home_seed=home_seed.astype(np.int64),
        away_seed=away_seed.astype(np.int64),
        points=points,
        n_periods=n_periods.astype(np.int64),
        attendance=attendance.astype(np.int64),
        excitement10=excitement10.astype(np.int64),
        elo=elo,
        venue_team=venue_team.astype(np.int64),
        n_target=n_target,
        plays_ok=plays_ok,
        has_subs=has_subs,
    )
