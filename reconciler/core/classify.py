"""Classifying a target's expected units: present, incomplete, verified empty, waived, quarantined, missing.

Also the readiness of derivation inputs, and the addresses units are known by. Pure (no I/O).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.core.addresses import WaiverSet, glob_match, unit_address
from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, UnitState
from reconciler.core.options import PlanOptions
from reconciler.spec.models import FetchStrategy, Spec

__all__ = ["Inputs", "Work", "classify", "failed_units", "glob_match", "mean_rows", "unit_address"]

# glob_match and unit_address live in reconciler.core.addresses; re-exported for older imports.

_DEFAULT_ROWS = 300.0


def _empty_is_fresh(spec: Spec, unit: ExpectedUnit, checked_at: float, now: datetime) -> bool:
    pol = spec.expect.empty_response
    if not pol.record:  # empties are not kept as checkpoints: an older one no longer settles the unit
        return False
    age_days = (now.timestamp() - checked_at) / 86400
    if age_days < pol.recheck_after_days:
        return True
    if pol.only_if_game_within_days is None:
        return False
    try:
        game_day = datetime.fromisoformat(unit.date).replace(tzinfo=UTC)
    except ValueError:
        return False
    checked = datetime.fromtimestamp(checked_at, UTC)
    # Only games that were recent when found empty may still gain data; older ones stay empty.
    return checked - game_day > timedelta(days=pol.only_if_game_within_days)


@dataclass
class Inputs:
    """What derive strategies need to know about their input targets."""

    specs: Mapping[str, Spec]
    observed: ObservedState
    pending: Mapping[str, set[str]]
    _ready: dict[str, frozenset[str]] = field(default_factory=dict)

    def _ready_keys(self, name: str, obs: ObservedTarget) -> frozenset[str]:
        """An input's units that are complete, fetched as far as they go, or verified empty."""
        got = self._ready.get(name)
        if got is None:
            done = {k for k, s in obs.states.items() if s.status in ("done", "empty")}
            spec = self.specs.get(name)
            trusted = spec is None or spec.expect.empty_response.record  # record: false settles nothing
            empty = {k for k, s in obs.states.items() if s.status == "empty"} if trusted else set()
            got = frozenset(
                {k for k, p in obs.present.items() if p.complete or k in done}
                | {k for k in empty if k not in obs.present}
            )
            self._ready[name] = got
        return got

    def status(self, strategy: FetchStrategy, unit: ExpectedUnit) -> str:
        """``ready`` (every input complete or verified empty), ``wait`` (an input is planned) or ``no``."""
        for name in strategy.inputs:
            spec = self.specs.get(name)
            obs = self.observed.targets.get(name)
            if spec is None or obs is None:
                return "no"
            try:
                key = ":".join([str(unit.cols[c]) for c in spec.unit])
            except KeyError:
                return "no"
            if key in self.pending.get(name, ()):
                return "wait"
            if key not in self._ready_keys(name, obs):
                return "no"
        return "ready"


@dataclass
class Work:
    """The units a target still needs, with why (``missing``, ``incomplete: ...``)."""

    units: dict[str, ExpectedUnit] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def classify(
    spec: Spec, obs: ObservedTarget, opts: PlanOptions, now: datetime, waivers: WaiverSet | None = None
) -> tuple[dict[int, dict[str, int]], Work, list[dict[str, Any]]]:
    """Classify every expected unit of a target.

    Args:
        spec: The target's spec.
        obs: What was observed of it.
        opts: The plan options (``retry_failed``; its waivers when ``waivers`` is not given).
        now: The clock.
        waivers: The waivers, counting what each matches (default: ``opts.waivers``).

    Returns:
        Coverage counts per season, the units to fill with their reasons, and the quarantined units.
    """
    cov: dict[int, dict[str, int]] = defaultdict(Counter)
    work = Work()
    quarantined: list[dict[str, Any]] = []
    if waivers is None and opts.waivers:
        waivers = WaiverSet(opts.waivers, now.date())
    if obs.counts is not None:
        # The engine computed the gap: complete units are counted, the others listed.
        listed = Counter(u.season for u in obs.expected or ())
        for season, (expected, complete) in obs.counts.items():
            cov[season]["expected"] += expected - listed.get(season, 0)
            cov[season]["present"] += complete
        for season, n in obs.empty_counts.items():
            cov[season]["verified_empty"] += n
    for u in obs.expected or ():
        c = cov[u.season]
        c["expected"] += 1
        present = obs.present.get(u.key)
        state = obs.states.get(u.key)
        if present is not None and present.complete:
            c["present"] += 1
            continue
        if waivers is not None and waivers.waivers and waivers.match(unit_address(spec, u)):
            c["waived"] += 1
            continue
        if present is not None and state is not None and state.status in ("done", "empty"):
            # We already fetched everything the API has; the unit is as complete as it gets.
            c["present"] += 1
            continue
        if (
            present is None
            and state is not None
            and state.status == "empty"
            and _empty_is_fresh(spec, u, state.updated_at, now)
        ):
            c["verified_empty"] += 1
            continue
        if state is not None and state.status == "failed":
            if state.attempts >= spec.expect.max_failed_applies and not opts.retry_failed:
                c["quarantined"] += 1
                addr = unit_address(spec, u)
                quarantined.append({"unit": u.key, "address": addr, "attempts": state.attempts, "error": state.error})
                continue
            c["failed"] += 1
        if present is not None:
            c["incomplete"] += 1
            work.reasons[u.key] = f"incomplete: {present.rows} rows ({spec.expect.complete.description})"
        else:
            c["missing"] += 1
            work.reasons[u.key] = "missing"
        work.units[u.key] = u
    return cov, work, quarantined


def mean_rows(obs: ObservedTarget) -> float:
    """The mean rows of a target's complete units (a default when none is present).

    Args:
        obs: The observation.

    Returns:
        Rows per unit.
    """
    if obs.counts is not None:
        return obs.rows_mean if obs.rows_mean is not None else _DEFAULT_ROWS
    rows = [p.rows for p in obs.present.values() if p.complete]
    return sum(rows) / len(rows) if rows else _DEFAULT_ROWS


def failed_units(obs: ObservedTarget, remaining: dict[str, ExpectedUnit]) -> dict[str, ExpectedUnit]:
    """Take the units that failed before out of ``remaining``: each gets a request of its own.

    One bad payload fails its whole action (nothing of it is written), so the units sharing a
    request with a broken one would fail with it apply after apply, and be quarantined with it.
    Kept out of the shared candidates, a failed unit is filled by the one-unit strategy alone
    (at most one call more per failed unit).

    A unit whose only failure was transient (a timeout or 5xx after every retry, which fails a
    whole day of plays at once) stays in the shared requests: isolating it would turn one call
    per day into one per game. It is isolated once it has failed twice, or failed terminally.
    """
    failed = [k for k in remaining if (st := obs.states.get(k)) is not None and _isolate(st)]
    return {k: remaining.pop(k) for k in failed}


def _isolate(state: UnitState) -> bool:
    if state.status != "failed":
        return False
    return state.attempts >= 2 or not state.error.startswith("TransientApiError")
