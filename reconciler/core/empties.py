"""Verified-empty units counted in aggregate instead of listed, and set digests of unit keys.

In the steady state most units a lake lacks are units the API itself lacks: an apply asked for
them and checkpointed them ``empty``. Listing them on every plan costs a row per unit from the
engine and a state read per unit. Instead, per season, the engine sums a digest of the keys of
the expected units absent from the table, the state store sums the same digest over the
target's ``empty`` records, and when the two agree (same count, same two 32-bit sums) and every
record is fresh for every absent unit's date, the season's absent units are all verified empty:
they are counted, not listed.

The digest of a key is the first 8 bytes of its MD5, read as two unsigned 32-bit integers, so the
engine can compute it in Athena SQL (:func:`key_hash_sql`) exactly as Python does
(:func:`key_hash`). Two different key sets of the same size agree by chance with odds of about
2^-64. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "EmptyDigest",
    "SetDigest",
    "digest_empties",
    "key_hash",
    "key_hash_sql",
    "last_fresh_day",
    "pushdown_seasons",
    "waiver_may_name",
]


def key_hash(key: str) -> tuple[int, int]:
    """The digest of a unit key: two unsigned 32-bit integers from its MD5.

    Args:
        key: The unit key text (``1234`` or ``1234:72``).

    Returns:
        The first and second 32 bits of ``md5(utf8(key))``, big-endian.
    """
    h = hashlib.md5(key.encode(), usedforsecurity=False).hexdigest()
    return int(h[:8], 16), int(h[8:16], 16)


def key_hash_sql(expr: str, part: int) -> str:
    """:func:`key_hash` in Athena SQL (the embedded engine defines ``from_base`` for base 16).

    Args:
        expr: A varchar expression (the unit key).
        part: 0 for the first 32 bits, 1 for the second.

    Returns:
        A BIGINT expression.
    """
    return f"from_base(substr(to_hex(md5(to_utf8({expr}))), {1 + 8 * part}, 8), 16)"


@dataclass(frozen=True, slots=True)
class SetDigest:
    """The digest of a set of unit keys: their count and the sums of their two key hashes.

    Attributes:
        n: Keys.
        h1: Sum of the first hashes.
        h2: Sum of the second hashes.
    """

    n: int = 0
    h1: int = 0
    h2: int = 0

    @classmethod
    def of(cls, keys: Iterable[str]) -> SetDigest:
        """The digest of some keys (each counted once per occurrence).

        Args:
            keys: Unit keys.

        Returns:
            The digest.
        """
        n = h1 = h2 = 0
        for k in keys:
            a, b = key_hash(k)
            n, h1, h2 = n + 1, h1 + a, h2 + b
        return cls(n, h1, h2)

    def __add__(self, other: SetDigest) -> SetDigest:
        """The digest of the union of two disjoint sets."""
        return SetDigest(self.n + other.n, self.h1 + other.h1, self.h2 + other.h2)

    def as_list(self) -> list[int]:
        """The digest as a JSON-friendly list."""
        return [self.n, self.h1, self.h2]


@dataclass(frozen=True, slots=True)
class EmptyDigest:
    """A season's ``empty`` records in a state store, in aggregate.

    Attributes:
        keys: The digest of their unit keys.
        oldest_old: Epoch seconds of the earliest check among the records too old to be fresh by
            age alone (None when every record is younger than the spec's recheck age).
    """

    keys: SetDigest
    oldest_old: float | None = None


def digest_empties(rows: Iterable[tuple[str, int | None, float]], young_since: float) -> dict[int, EmptyDigest]:
    """Aggregate a target's ``empty`` records per season (records without a season are left out).

    Args:
        rows: (unit key, season, checked at in epoch seconds) of each ``empty`` record.
        young_since: Records checked after this instant are fresh by age.

    Returns:
        Season → its records' digest.
    """
    acc: dict[int, tuple[int, int, int, float | None]] = {}
    for key, season, checked in rows:
        if season is None:
            continue
        n, h1, h2, old = acc.get(int(season), (0, 0, 0, None))
        a, b = key_hash(key)
        if checked <= young_since:
            old = checked if old is None else min(old, checked)
        acc[int(season)] = (n + 1, h1 + a, h2 + b, old)
    return {s: EmptyDigest(SetDigest(n, h1, h2), old) for s, (n, h1, h2, old) in acc.items()}


def last_fresh_day(checked: float, game_within_days: int) -> str:
    """The latest game date for which a record older than the recheck age is still fresh.

    Such a record stays fresh only for a game that was more than ``game_within_days`` old when
    it was checked (see :mod:`reconciler.core.classify`).

    Args:
        checked: When the record was checked (epoch seconds).
        game_within_days: The spec's ``only_if_game_within_days``.

    Returns:
        The date, ``YYYY-MM-DD`` (inclusive).
    """
    bound = datetime.fromtimestamp(checked, UTC) - timedelta(days=game_within_days)
    # A game day (midnight UTC) is fresh when it is strictly before the bound.
    midnight = bound.replace(hour=0, minute=0, second=0, microsecond=0)
    last = bound.date() if bound > midnight else bound.date() - timedelta(days=1)
    return last.isoformat()


def waiver_may_name(pattern: str, target: str) -> bool:
    """Whether a waiver's address glob could match some unit address of a target.

    Conservative: true unless the glob's literal head rules the target out.

    Args:
        pattern: The waiver's address glob (``plays[season=2015]*``; ``*`` and ``?`` wildcards).
        target: The target's name.

    Returns:
        Whether the target's units must be listed for the waiver to be matched against them.
    """
    head = pattern
    for wild in "*?":
        head = head.split(wild, 1)[0]
    lead = f"{target}["
    return head.startswith(lead) or lead.startswith(head)


def pushdown_seasons(
    digests: Mapping[int, EmptyDigest], game_within_days: int | None
) -> dict[int, tuple[SetDigest, str | None]]:
    """The seasons whose ``empty`` records may stand for their absent units, with the date bound.

    Args:
        digests: Season → its ``empty`` records (:func:`digest_empties`).
        game_within_days: The spec's ``only_if_game_within_days``.

    Returns:
        Season → (its records' digest, the latest fresh game date or None for any date).
    """
    out: dict[int, tuple[SetDigest, str | None]] = {}
    for season, d in digests.items():
        if d.oldest_old is None:  # every record is fresh by age, whatever the game's date
            out[season] = (d.keys, None)
        elif game_within_days is not None:  # else an old record is stale for every date
            out[season] = (d.keys, last_fresh_day(d.oldest_old, game_within_days))
    return out
