"""``LineupStats`` wire records: five-man units per team, aggregated over the game's plays.

Follows the server's definitions (``cbbd_api.md`` §4.7): a unit is a stretch of time with the
same five players; possessions count the unit team's ``Lost Ball Turnover`` and ``Defensive
Rebound`` plays plus its scoring plays other than free throws; ratings are points per 100
possessions and pace is scaled to 40 minutes. Where the server would divide by zero (and emit
``null``), this emits 0 so that the official SDK models still parse the records.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reconciler.synth.playsim import ET, PlayFrame
from reconciler.synth.subs import game_events
from reconciler.synth.teams import TeamTable, athlete_names

__all__ = ["lineup_records"]


def _pct(num: float, den: float) -> float | int:
    return round(num / den * 100, 1) if den else 0


def _shooting(made: int, att: int) -> dict[str, Any]:
    return {"made": made, "attempted": att, "pct": _pct(made, att)}


def _unit_stats(n: list[int], assists: int, opp_dreb: int) -> dict[str, Any]:
    """One side's ``LineupUnitStats`` from its event-type counts ``n`` (indexed by :class:`ET`)."""
    j2, j2x = n[ET.J2_MADE], n[ET.J2_MISS]
    lay, layx = n[ET.LAYUP_MADE], n[ET.LAYUP_MISS]
    dunk = n[ET.DUNK_MADE]
    tip, tipx = n[ET.TIP_MADE], n[ET.TIP_MISS]
    tpm, tpa = n[ET.THREE_MADE], n[ET.THREE_MADE] + n[ET.THREE_MISS]
    ftm, fta = n[ET.FT_MADE], n[ET.FT_MADE] + n[ET.FT_MISS]
    two_m = j2 + lay + dunk + tip
    two_a = two_m + j2x + layx + tipx
    fgm, fga = two_m + tpm, two_a + tpa
    points = 2 * two_m + 3 * tpm + ftm
    orb, dreb, tov = n[ET.OFF_REB], n[ET.DEF_REB], n[ET.TURNOVER]
    poss = tov + dreb + fgm
    return {
        "possessions": poss,
        "points": points,
        "blocks": n[ET.BLOCK],
        "assists": assists,
        "steals": n[ET.STEAL],
        "turnovers": tov,
        "defensiveRebounds": dreb,
        "offensiveRebounds": orb,
        "trueShooting": _pct(points, 2 * (fga + 0.44 * fta)),
        "fieldGoals": _shooting(fgm, fga),
        "twoPointers": {
            **_shooting(two_m, two_a),
            "jumpers": _shooting(j2, j2 + j2x),
            "layups": _shooting(lay, lay + layx),
            "dunks": _shooting(dunk, dunk),
            "tipIns": _shooting(tip, tip + tipx),
        },
        "threePointers": _shooting(tpm, tpa),
        "freeThrows": _shooting(ftm, fta),
        "fourFactors": {
            "freeThrowRate": _pct(fta, fga),
            "offensiveReboundPct": _pct(orb, orb + opp_dreb),
            "turnoverRatio": _pct(tov, poss),
            "effectiveFieldGoalPct": _pct(fgm + 0.5 * tpm, fga),
        },
    }


def _rating(points: int, poss: int) -> float:
    return round(points / poss * 100, 1) if poss else 0.0


def lineup_records(frame: PlayFrame, b: int, teams: TeamTable, seed: int) -> list[dict[str, Any]]:
    """The lineup units of one game (D-I teams only, home first), as the API returns them.

    Args:
        frame: The plays of a batch containing the game.
        b: The game's batch position.
        teams: The team table.
        seed: The universe seed.

    Returns:
        Wire records without ``gameId``/``season`` (the API sends none); empty when the game has
        no substitution data.
    """
    g = frame.games
    row = int(frame.rows[b])
    if not g.has_subs[row]:
        return []
    rot = frame.rotation
    total = 2400 + 300 * (int(g.n_periods[row]) - 2)
    sel = rot.chg_b == b
    c_slot, c_time = rot.chg_slot[sel], rot.chg_time[sel]
    seg0 = int(rot.seg_off[b])
    ev = game_events(frame, b)
    el, et, side, assisted = frame.elapsed[ev], frame.etype[ev], frame.side[ev], frame.assist[ev] >= 0
    sides = (int(g.home[row]), int(g.away[row]))
    roster = rot.seg_aid[seg0 : int(rot.seg_off[b + 1])]
    roster_ids = np.unique(roster)
    names = dict(zip(roster_ids.tolist(), athlete_names(seed, roster_ids).to_pylist(), strict=True))
    out: list[dict[str, Any]] = []
    for s, team in enumerate(sides):
        if not teams.d1[team]:
            continue  # the server's inner join on conference membership drops non-D-I teams
        own = (c_slot // 5) == s
        bounds = np.concatenate([[0], c_time[own], [total]])
        # the floor segment at each team boundary gives the five players
        seg_at = seg0 + np.searchsorted(c_time, bounds[:-1], side="right")
        aids = np.sort(rot.seg_aid[seg_at][:, s * 5 : s * 5 + 5], axis=1)
        length = np.diff(bounds)
        keep = length > 0
        hashes = ["-".join(str(a) for a in row_ids) for row_ids in aids.tolist()]
        unit_of_seg = np.zeros(len(hashes), dtype=np.int64)
        units: dict[str, int] = {}
        for k, h in enumerate(hashes):
            unit_of_seg[k] = units.setdefault(h, len(units)) if keep[k] else -1
        ev_unit = unit_of_seg[np.searchsorted(c_time[own], el, side="right")]
        n_units = len(units)
        on = (ev_unit >= 0) & (side >= 0)
        # counts[u, 0 if the event is the unit's team's else 1, event type]
        key = (ev_unit[on] * 2 + (side[on] != s)) * 20 + et[on]
        counts = np.bincount(key, minlength=n_units * 40).reshape(n_units, 2, 20).tolist()
        assists = np.bincount(ev_unit[on] * 2 + (side[on] != s), weights=assisted[on], minlength=n_units * 2)
        assists_l = assists.astype(np.int64).reshape(n_units, 2).tolist()
        conf = teams.conference(team)
        seconds_of = np.bincount(unit_of_seg[keep], weights=length[keep], minlength=n_units).astype(np.int64)
        first_seg = {u: k for k, u in reversed(list(enumerate(unit_of_seg.tolist()))) if u >= 0}
        for h, u in units.items():
            ids = aids[first_seg[u]]
            mine, theirs = counts[u]
            ts = _unit_stats(mine, assists_l[u][0], theirs[ET.DEF_REB])
            os_ = _unit_stats(theirs, assists_l[u][1], mine[ET.DEF_REB])
            seconds = int(seconds_of[u])
            off_r = _rating(ts["points"], ts["possessions"])
            def_r = _rating(os_["points"], os_["possessions"])
            out.append(
                {
                    "teamId": int(teams.team_id[team]),
                    "team": teams.school[team],
                    "conference": conf,
                    "idHash": h,
                    "athletes": [{"name": names[a], "id": a} for a in ids.tolist()],
                    "totalSeconds": seconds,
                    "pace": round(ts["possessions"] / seconds * 2400, 1) if seconds else 0.0,
                    "offenseRating": off_r,
                    "defenseRating": def_r,
                    "netRating": round(off_r - def_r, 1),
                    "teamStats": ts,
                    "opponentStats": os_,
                }
            )
    return out
