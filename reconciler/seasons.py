"""Parse season selections such as ``2010-2026``, ``2024`` or ``2019,2021-2023``."""

from __future__ import annotations

from reconciler.errors import InputError

__all__ = ["FIRST_SEASON", "LAST_SEASON", "format_seasons", "parse_seasons"]

FIRST_SEASON = 2003
LAST_SEASON = 2030


def parse_seasons(text: str, source: str = "--seasons") -> tuple[int, ...]:
    """Parse a season selection into a sorted tuple of distinct seasons.

    Args:
        text: ``2010-2026``, ``2024`` or a comma list of both forms.
        source: Where the text came from, named in errors (``--seasons``, or a config field
            such as ``config.yaml: profiles.local.seasons``).

    Returns:
        The seasons, ascending.

    Raises:
        InputError: On an empty selection, empty parts, non-numbers, reversed ranges or seasons
            out of range.
    """
    if not text.strip():
        raise InputError(f"{source}: empty season selection (e.g. 2010-2026, 2024 or 2019,2021-2023)")
    out: set[int] = set()
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            raise InputError(f"{source}: empty part in {text!r}")
        lo_s, sep, hi_s = part.partition("-")
        try:
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
        except ValueError:
            raise InputError(f"{source}: {part!r} is not a season or a range like 2010-2026") from None
        if hi < lo:
            raise InputError(f"{source}: range {part!r} runs backwards (did you mean {hi}-{lo}?)")
        for s in (lo, hi):
            if not FIRST_SEASON <= s <= LAST_SEASON:
                raise InputError(f"{source}: {s} is outside the seasons CBBD covers ({FIRST_SEASON}-{LAST_SEASON})")
        out.update(range(lo, hi + 1))
    return tuple(sorted(out))


def format_seasons(seasons: tuple[int, ...] | list[int]) -> str:
    """Format seasons compactly, e.g. ``2010-2012,2015``.

    Args:
        seasons: Seasons in any order.

    Returns:
        The compact text form, the inverse of :func:`parse_seasons`.
    """
    vals = sorted(set(seasons))
    parts: list[str] = []
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        parts.append(str(vals[i]) if i == j else f"{vals[i]}-{vals[j]}")
        i = j + 1
    return ",".join(parts)
