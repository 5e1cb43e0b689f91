"""Synthetic teams, conferences, venues and players (season-independent identities)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from reconciler.synth import names
from reconciler.synth.rng import hash_u64, uniform

__all__ = [
    "N_D1",
    "N_NON_D1",
    "POSITIONS",
    "TeamTable",
    "athlete_ids",
    "athlete_names",
    "build_teams",
]

N_D1 = 362
N_NON_D1 = 20
#: Position of each of the 10 rotation players (slot j starter = k j, bench = k j+5).
POSITIONS: tuple[str, ...] = ("G", "G", "F", "F", "C", "G", "G", "F", "F", "C")

_S_ORDER = 11
_S_ID = 12
_S_STATE = 13
_S_COLOR = 14
_S_MASCOT = 15
_S_VENUE = 16
_S_FIRST = 17
_S_LAST = 18
_ARENA = ("Arena", "Coliseum", "Fieldhouse", "Center", "Pavilion", "Gymnasium")
_NON_D1_SUFFIX = ("Christian", "Bible", "Baptist", "Wesleyan", "College")


@dataclass(frozen=True, slots=True)
class TeamTable:
    """All teams of the universe, indexed 0..n-1 (``team_id`` is the wire id).

    Attributes:
        team_id: Wire team ids (small ints).
        d1: Whether the team is D-I (has a conference).
        conf_idx: Index into :data:`names.CONFERENCES`, or -1.
        school: School names.
        mascot: Mascots.
        abbreviation: Short codes.
        city: Home city.
        state: Home state.
        venue_id: Home venue id.
        venue: Home venue name.
        colors: (primary, secondary) hex colours.
        school_pa: ``school`` as an Arrow array (for vectorised lookups).
        conf_pa: Conference abbreviations (null for non-D-I), Arrow.
        conf_id: Conference ids, -1 for non-D-I.
        conf_members: For each conference index, the team indexes in it.
    """

    team_id: NDArray[np.int64]
    d1: NDArray[np.bool_]
    conf_idx: NDArray[np.int64]
    school: tuple[str, ...]
    mascot: tuple[str, ...]
    abbreviation: tuple[str, ...]
    city: tuple[str, ...]
    state: tuple[str, ...]
    venue_id: NDArray[np.int64]
    venue: tuple[str, ...]
    colors: tuple[tuple[str, str], ...]
    school_pa: pa.Array
    conf_pa: pa.Array
    conf_id: NDArray[np.int64]
    conf_members: tuple[NDArray[np.int64], ...]

    def conference(self, idx: int) -> str | None:
        """The conference abbreviation of a team, or None.

        Args:
            idx: Team index.

        Returns:
            The abbreviation.
        """
        c = int(self.conf_idx[idx])
        return None if c < 0 else names.CONFERENCES[c][1]

    def conference_id(self, idx: int) -> int | None:
        """The conference id of a team, or None.

        Args:
            idx: Team index.

        Returns:
            The id.
        """
        c = int(self.conf_idx[idx])
        return None if c < 0 else names.CONFERENCES[c][0]

    def info(self, idx: int) -> dict[str, Any]:
        """The ``TeamInfo`` wire record of a team.

        Args:
            idx: Team index.

        Returns:
            The record, all 16 keys.
        """
        tid = int(self.team_id[idx])
        src = str(2000 + tid)
        d1 = bool(self.d1[idx])
        return {
            "id": tid,
            "sourceId": src,
            "school": self.school[idx],
            "mascot": self.mascot[idx],
            "abbreviation": self.abbreviation[idx],
            "displayName": f"{self.school[idx]} {self.mascot[idx]}",
            "shortDisplayName": self.school[idx],
            "primaryColor": self.colors[idx][0],
            "secondaryColor": self.colors[idx][1],
            "currentVenueId": int(self.venue_id[idx]),
            "currentVenue": self.venue[idx],
            "currentCity": self.city[idx],
            "currentState": self.state[idx],
            "conferenceId": self.conference_id(idx),
            "conference": self.conference(idx),
            "logos": (
                [
                    f"https://a.espncdn.com/i/teamlogos/ncaa/500/{src}.png",
                    f"https://a.espncdn.com/i/teamlogos/ncaa/500-dark/{src}.png",
                ]
                if d1
                else None
            ),
        }


def _abbrev(school: str) -> str:
    words = school.replace("-", " ").split()
    if len(words) == 1:
        return words[0][:4].upper()
    return "".join(w[0] for w in words).upper()


def build_teams(seed: int) -> TeamTable:
    """Generate the teams of a universe.

    Args:
        seed: The universe seed.

    Returns:
        The team table: :data:`N_D1` D-I teams in 32 conferences plus :data:`N_NON_D1` others.
    """
    places = names.PLACES
    candidates = [*places, *(f"{p} State" for p in places), *(f"{p} Tech" for p in places)]
    order = np.argsort(uniform(seed, _S_ORDER, np.arange(len(candidates))), kind="stable")
    d1_names = [candidates[i] for i in order[:N_D1]]
    used_places = {n.rsplit(" ", 1)[0] if n.endswith((" State", " Tech")) else n for n in d1_names}
    spare = [p for p in places if p not in used_places] or list(places)
    non_d1 = [f"{spare[i % len(spare)]} {_NON_D1_SUFFIX[i % len(_NON_D1_SUFFIX)]}" for i in range(N_NON_D1)]
    school = tuple(d1_names + non_d1)
    n = len(school)
    team_id = (np.argsort(uniform(seed, _S_ID, np.arange(n)), kind="stable") + 1).astype(np.int64)
    d1 = np.arange(n) < N_D1
    conf_idx = np.where(d1, np.arange(n) % len(names.CONFERENCES), -1).astype(np.int64)
    h_state = hash_u64(seed, _S_STATE, team_id)
    h_color = hash_u64(seed, _S_COLOR, team_id)
    h_mascot = hash_u64(seed, _S_MASCOT, team_id)
    h_venue = hash_u64(seed, _S_VENUE, team_id)
    colors = tuple((f"{int(c) & 0xFFFFFF:06x}", f"{(int(c) >> 24) & 0xFFFFFF:06x}") for c in h_color.tolist())
    city = tuple(s.rsplit(" ", 1)[0] if s.endswith((" State", " Tech")) else s for s in school)
    city = tuple(c.split(" ", 1)[0] if c.endswith(_NON_D1_SUFFIX) else c for c in city)
    conf_members = tuple(np.flatnonzero(conf_idx == c).astype(np.int64) for c in range(len(names.CONFERENCES)))
    return TeamTable(
        team_id=team_id,
        d1=d1,
        conf_idx=conf_idx,
        school=school,
        mascot=tuple(names.MASCOTS[int(h) % len(names.MASCOTS)] for h in h_mascot.tolist()),
        abbreviation=tuple(_abbrev(s) for s in school),
        city=city,
        state=tuple(names.STATES[int(h) % len(names.STATES)] for h in h_state.tolist()),
        venue_id=(100 + team_id).astype(np.int64),
        venue=tuple(f"{school[i]} {_ARENA[int(h) % len(_ARENA)]}" for i, h in enumerate(h_venue.tolist())),
        colors=colors,
        school_pa=pa.array(school, type=pa.string()),
        conf_pa=pa.array([names.CONFERENCES[c][1] if c >= 0 else None for c in conf_idx.tolist()], type=pa.string()),
        conf_id=np.where(conf_idx >= 0, conf_idx + 1, -1).astype(np.int64),
        conf_members=conf_members,
    )


def athlete_ids(season: int | NDArray[np.int64], team_id: NDArray[np.int64], k: NDArray[np.int64]) -> NDArray[np.int64]:
    """Athlete ids: unique per (season, team, roster slot ``k`` in 0..19).

    Args:
        season: Season(s).
        team_id: Wire team id(s).
        k: Roster index(es).

    Returns:
        int64 athlete ids.
    """
    return ((np.asarray(season, dtype=np.int64) - 2000) * 10_000 + team_id * 20 + k).astype(np.int64)


_FIRST_PA = pa.array(names.FIRST_NAMES, type=pa.string())
_LAST_PA = pa.array(names.LAST_NAMES, type=pa.string())


def athlete_names(seed: int, aid: NDArray[np.int64]) -> pa.Array:
    """Names of athletes ("First Last"), vectorised.

    Args:
        seed: The universe seed.
        aid: Athlete ids.

    Returns:
        An Arrow string array.
    """
    first = (hash_u64(seed, _S_FIRST, aid) % np.uint64(len(names.FIRST_NAMES))).astype(np.int64)
    last = (hash_u64(seed, _S_LAST, aid) % np.uint64(len(names.LAST_NAMES))).astype(np.int64)
    if first.shape != aid.shape:
        first = np.broadcast_to(first, aid.shape)
        last = np.broadcast_to(last, aid.shape)
    return pc.binary_join_element_wise(pc.take(_FIRST_PA, first), pc.take(_LAST_PA, last), " ")
