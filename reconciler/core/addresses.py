"""One address grammar for units, actions, ``--target`` and waivers.

A unit's address names its target, season and unit columns the way the API and the lake name
them: ``plays[season=2016][gameId=1600017]``, ``lineups[season=2025][gameId=7][teamId=72]``. A
per-unit fetch has the same address (``/plays/game/{gameId}``), so an address copied from a plan
works as a waiver and as a ``--target``. Globs (``*``, ``?``; brackets are literal) select by
address. The old unit labels (``[game=…]``, ``[team=…]``) are still understood in waivers, with a
warning that names the address to write instead.

Also here: which selectors and waivers matched nothing, for the plan's warnings. Pure (no I/O).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from reconciler.core.observed import ExpectedUnit
from reconciler.spec.models import Spec, Waiver

__all__ = [
    "WaiverSet",
    "glob_match",
    "legacy_labels",
    "modern_address",
    "names_target",
    "selector_warnings",
    "unit_address",
    "unit_address_example",
    "unit_label",
    "waiver_problems",
]


@lru_cache(maxsize=1024)
def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern))


def glob_match(address: str, pattern: str) -> bool:
    """Match an address against a glob where only ``*`` and ``?`` are wildcards.

    Brackets are literal, so ``plays[season=2015]*`` works as written.

    Args:
        address: e.g. ``plays[season=2015][date=2015-01-03]``.
        pattern: e.g. ``plays[season=2015]*``.

    Returns:
        Whether the address matches.
    """
    return _glob(pattern).fullmatch(address) is not None


def unit_label(column: str) -> str:
    """The label of a unit column in addresses: the API's and the lake's name for it.

    Args:
        column: A spec's unit column (``game_id``).

    Returns:
        Its camelCase form (``gameId``; ``team_id`` → ``teamId``).
    """
    head, *rest = column.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


def unit_address(spec: Spec, unit: ExpectedUnit) -> str:
    """The stable address of a unit, e.g. ``plays[season=2015][gameId=1234]``.

    Args:
        spec: The unit's spec.
        unit: The unit.

    Returns:
        The address.
    """
    parts = "".join(f"[{unit_label(c)}={unit.cols.get(c)}]" for c in spec.unit if c != "season")
    return f"{spec.name}[season={unit.season}]{parts}"


def legacy_labels(specs: Iterable[Spec]) -> dict[str, str]:
    """The unit labels older versions used in addresses (``game``), and the label for each now.

    Args:
        specs: The specs.

    Returns:
        Old label → label (``{"game": "gameId", "team": "teamId"}``).
    """
    out: dict[str, str] = {}
    for spec in specs:
        for col in spec.unit:
            old, new = col.removesuffix("_id"), unit_label(col)
            if old != new and col != "season":
                out[old] = new
    return out


def modern_address(pattern: str, legacy: Mapping[str, str]) -> str:
    """An address or glob with old unit labels replaced (``[game=7]`` → ``[gameId=7]``).

    Args:
        pattern: The address or glob.
        legacy: From :func:`legacy_labels`.

    Returns:
        The pattern in today's grammar (unchanged when it uses no old label).
    """
    for old, new in legacy.items():
        pattern = pattern.replace(f"[{old}=", f"[{new}=")
    return pattern


@dataclass
class WaiverSet:
    """Waivers in force on a day, counting what each one matched.

    Attributes:
        waivers: The waivers, as written.
        today: The plan's day (a waiver is in force through its ``expires`` day).
        legacy: Old unit labels to today's (:func:`legacy_labels`).
        hits: Waiver index → units it waived.
        expired_hits: Waiver index → units it would have waived had it not expired.
    """

    waivers: Sequence[Waiver]
    today: date
    legacy: Mapping[str, str] = field(default_factory=dict)
    hits: Counter[int] = field(default_factory=Counter)
    expired_hits: Counter[int] = field(default_factory=Counter)

    def pattern(self, i: int) -> str:
        """The address glob of waiver ``i`` in today's grammar.

        Args:
            i: Waiver index.

        Returns:
            The glob.
        """
        return modern_address(self.waivers[i].address, self.legacy)

    def expired(self, i: int) -> bool:
        """Whether waiver ``i`` is past its ``expires`` day.

        Args:
            i: Waiver index.

        Returns:
            True once expired.
        """
        exp = self.waivers[i].expires
        return exp is not None and exp < self.today

    def match(self, address: str) -> Waiver | None:
        """The waiver in force that covers a unit address (counting the match), if any.

        Args:
            address: A unit address.

        Returns:
            The waiver, or None.
        """
        for i, w in enumerate(self.waivers):
            if not glob_match(address, self.pattern(i)):
                continue
            if self.expired(i):
                self.expired_hits[i] += 1
                continue
            self.hits[i] += 1
            return w
        return None

    def expired_notes(self, target: str) -> list[str]:
        """One note per expired waiver of a target that still matches gaps.

        Args:
            target: The spec name.

        Returns:
            e.g. ``waiver plays[season=2016]* (specs/waivers.yaml) expired on 2026-01-01: 3 units it
            covered are planned again``.
        """
        out = []
        for i, n in sorted(self.expired_hits.items()):
            w = self.waivers[i]
            if not names_target(self.pattern(i), target):
                continue
            what = "1 unit it covered is" if n == 1 else f"{n:,} units it covered are"
            out.append(f"waiver {w.address}{_file(w)} expired on {w.expires}: {what} planned again")
        return out


def _file(w: Waiver) -> str:
    return f" ({w.file})" if w.file else ""


def names_target(pattern: str, target: str) -> bool:
    """Whether an address or glob can name a target's units or actions.

    Args:
        pattern: The address or glob.
        target: The spec name.

    Returns:
        True when its target part (before ``[`` or ``.``) is the target, or a glob matching it.
    """
    head = re.split(r"[\[.]", pattern, maxsplit=1)[0]
    return glob_match(target, head) if any(c in head for c in "*?") else head == target


def _seasons_named(pattern: str) -> set[int] | None:
    m = re.search(r"\[season=(\d{4})\]", pattern)
    return {int(m.group(1))} if m else None


def selector_warnings(
    selectors: Sequence[str],
    waivers: WaiverSet | None,
    specs: Mapping[str, Spec],
    units: Mapping[str, Sequence[ExpectedUnit]],
    action_addresses: Sequence[str],
    seasons: Sequence[int],
) -> list[str]:
    """Warnings for ``--target`` globs and waivers that match nothing, and for old-style waivers.

    A selector matches when it names a target, or an action's address, or an expected unit's
    address. A waiver is checked only where it could apply: its target was planned and, when it
    names a season, that season was selected.

    Args:
        selectors: The ``--target`` values.
        waivers: The waivers with their match counts (None: no waivers).
        specs: Planned specs by name.
        units: Expected units of each planned target.
        action_addresses: Every action's address in the plan.
        seasons: The selected seasons.

    Returns:
        One line per problem.
    """
    out: list[str] = []
    cache: dict[str, list[str]] = {}

    def addresses(target: str) -> list[str]:
        if target not in cache:
            spec = specs[target]
            cache[target] = [unit_address(spec, u) for u in units.get(target, ())]
        return cache[target]

    def matches_unit(pattern: str) -> bool:
        return any(
            names_target(pattern, name) and any(glob_match(a, pattern) for a in addresses(name)) for name in specs
        )

    for sel in selectors:
        if sel in specs or sel in ("layout", "partitions") or ("[" not in sel and "." not in sel and "*" not in sel):
            continue
        if any(glob_match(a, sel) or glob_match(a, sel + "*") for a in action_addresses):
            continue
        wild = any(c in sel for c in "*?")
        if not wild and matches_unit(sel):
            continue
        if wild and (matches_unit(sel) or matches_unit(sel + "*")):
            out.append(
                f"--target {sel} matches units but no action address, so it selects nothing; an exact unit "
                "address (plays[season=S][gameId=G]) selects the action that fills it"
            )
            continue
        out.append(f"--target {sel} matches no unit and no action of this plan (seasons {_span(seasons)})")
    if waivers is None:
        return out
    for i, w in enumerate(waivers.waivers):
        pattern = waivers.pattern(i)
        if pattern != w.address:
            out.append(f"waiver {w.address}{_file(w)} uses old unit labels; write it as {pattern}")
        if waivers.hits[i] or waivers.expired_hits[i]:
            continue
        named = [n for n in specs if names_target(pattern, n)]
        wanted = _seasons_named(pattern)
        if not named or (wanted is not None and not wanted & set(seasons)):
            continue
        if not matches_unit(pattern):
            out.append(f"waiver {w.address}{_file(w)} matches no expected unit (seasons {_span(seasons)})")
    return out


def _span(seasons: Sequence[int]) -> str:
    return f"{min(seasons)}-{max(seasons)}" if len(seasons) > 1 else (str(seasons[0]) if seasons else "none")


_LABEL = re.compile(r"\[([A-Za-z_][A-Za-z0-9_]*)=")


def waiver_problems(waivers: Sequence[Waiver], specs: Sequence[Spec], today: date) -> tuple[list[str], list[str]]:
    """What ``reconcile validate`` says about waivers: problems (errors) and warnings.

    Args:
        waivers: The waivers.
        specs: The specs.
        today: The day (for expiry).

    Returns:
        Problems (an address naming no target, or a label no unit has) and warnings (old unit
        labels, expired waivers), one line each, naming the waiver's file and index.
    """
    legacy = legacy_labels(specs)
    problems: list[str] = []
    warnings: list[str] = []
    for i, w in enumerate(waivers):
        where = f"{w.file or 'waivers'}: waivers.{i}.address: {w.address}"
        pattern = modern_address(w.address, legacy)
        named = [s for s in specs if names_target(pattern, s.name)]
        if not named:
            known = ", ".join(sorted(s.name for s in specs))
            problems.append(f"{where}: names no target (targets: {known})")
            continue
        allowed = {"season"} | {unit_label(c) for s in named for c in s.unit}
        bad = [lb for lb in _LABEL.findall(pattern) if lb not in allowed]
        if bad:
            example = unit_address_example(named[0])
            problems.append(f"{where}: no unit is addressed by {bad[0]!r} (units look like {example})")
            continue
        if pattern != w.address:
            warnings.append(f"{where}: uses old unit labels; write it as {pattern}")
        if w.expires is not None and w.expires < today:
            warnings.append(f"{where}: expired on {w.expires}; the units it covered are planned again")
    return problems, warnings


def unit_address_example(spec: Spec) -> str:
    """What a unit address of a spec looks like, for messages.

    Args:
        spec: The spec.

    Returns:
        e.g. ``plays[season=2016][gameId=…]``.
    """
    return f"{spec.name}[season=…]" + "".join(f"[{unit_label(c)}=…]" for c in spec.unit if c != "season")
