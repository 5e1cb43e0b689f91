"""The application layer between the CLI and the core: load, observe, plan.

Kept free of presentation so the CLI, the demo and the tests drive the same code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from reconciler.config import Profile
from reconciler.core.layout_planner import LAYOUT_TARGET, layout_selected, plan_layout
from reconciler.core.observed import ObservedState, ObservedTarget
from reconciler.core.plan import Plan, TargetPlan
from reconciler.core.planner import PlanOptions, build_plan, with_dependencies
from reconciler.errors import InputError
from reconciler.observe.observer import Observer
from reconciler.ports import Backends
from reconciler.spec.loader import load_specs, load_waivers
from reconciler.spec.models import Spec, Waiver

__all__ = ["Session", "check_targets", "layer_map"]


def layer_map(profile: Profile) -> dict[str, str]:
    """Glue database → lake layer prefix for a profile.

    Args:
        profile: The profile.

    Returns:
        e.g. ``{"cbbd_silver": "silver", "cbbd_bronze": "bronze"}``.
    """
    return {profile.catalog.silver_database: "silver", profile.catalog.bronze_database: "bronze"}


def check_targets(specs: Sequence[Spec], targets: Sequence[str]) -> None:
    """Reject ``--target`` values that name no spec and no address of one.

    Args:
        specs: Loaded specs.
        targets: The ``--target`` values.

    Raises:
        InputError: For an unknown target.
    """
    names = {s.name for s in specs}
    extra = {"partitions", "layout"}
    for t in targets:
        base = t.split("[", 1)[0].split(".", 1)[0]
        if base not in names and base not in extra:
            known = ", ".join(sorted(names | extra))
            raise InputError(f"--target: unknown target {t!r} (known: {known})")


@dataclass
class Session:
    """Open backends plus loaded specs for one command.

    Attributes:
        profile: The profile.
        specs: Specs in dependency order.
        backends: The open ports.
    """

    profile: Profile
    specs: list[Spec]
    backends: Backends
    _waivers: tuple[Waiver, ...] | None = field(default=None, init=False, repr=False)

    def waivers(self) -> tuple[Waiver, ...]:
        """The profile's waivers, read once per session (observation and planning see the same file).

        Returns:
            The waivers.
        """
        if self._waivers is None:
            self._waivers = tuple(load_waivers(self.profile.waivers))
        return self._waivers

    @classmethod
    def open(cls, profile: Profile) -> Session:
        """Load specs, open the profile's backends and check that their AWS resources exist.

        Args:
            profile: The profile.

        Returns:
            The session (close it when done).

        Raises:
            BackendError: If a bucket, Glue database or checkpoint table is missing, or there
                are no AWS credentials (one line naming the fix).
        """
        from reconciler.adapters.factory import open_backends
        from reconciler.preflight import check_permissions, plan_permissions

        specs = load_specs(profile.specs_dir)
        backends = open_backends(profile)
        try:
            backends.preflight()
            check_permissions(profile, backends, plan_permissions(profile), "reconcile plan")
        except BaseException:
            backends.close()
            raise
        return cls(profile=profile, specs=specs, backends=backends)

    def close(self) -> None:
        """Close the backends."""
        self.backends.close()

    def observe(
        self,
        seasons: Sequence[int],
        targets: Sequence[str] = (),
        *,
        whole: bool = False,
        now: datetime | None = None,
    ) -> ObservedState:
        """Observe the lake for the selected targets (and what they depend on).

        Args:
            seasons: Selected seasons.
            targets: ``--target`` selectors (empty: all).
            whole: Observe every expected and present unit, not only the gap (the plan is the same).
            now: The plan's clock, for the freshness of ``empty`` records (default: now, UTC).

        Returns:
            The observation.
        """
        b = self.backends
        observer = Observer(
            store=b.store,
            engine=b.engine,
            state=b.state,
            layer_of=layer_map(self.profile),
            hidden=b.hidden,
            now=now or datetime.now(UTC),
            waivers=tuple(w.address for w in self.waivers()),
            # A selector narrower than a target is matched against every unit's address.
            whole=frozenset(
                self._names()
                if whole
                else (t.split("[", 1)[0].split(".", 1)[0] for t in targets if t not in self._names())
            ),
        )
        wanted = self._with_dependencies(targets)
        return observer.observe([s for s in self.specs if s.name in wanted], seasons, self.profile.engine.kind)

    def _names(self) -> set[str]:
        return {s.name for s in self.specs}

    def _with_dependencies(self, targets: Sequence[str]) -> set[str]:
        if not targets:
            return {s.name for s in self.specs}
        return with_dependencies(self.specs, (t.split("[", 1)[0].split(".", 1)[0] for t in targets))

    def plan_layout(self, seasons: Sequence[int], targets: Sequence[str] = ()) -> tuple[TargetPlan, int]:
        """Observe every table the specs name (storage, footers, catalog) and plan the layout target.

        Args:
            seasons: Selected seasons.
            targets: ``--target`` selectors (``layout``, ``partitions``, address globs).

        Returns:
            The ``layout`` target's plan, and the bytes its queries scanned.
        """
        from reconciler.observe.layout import LayoutObserver
        from reconciler.observe.layout_plan_cache import cached_plan, keep_plan
        from reconciler.observe.layout_tables import declared_tables

        b = self.backends
        cat = self.profile.catalog
        observer = LayoutObserver(
            store=b.store,
            catalog=b.catalog,
            engine=b.engine,
            state=b.state,
            registration=cat.partition_registration,
            catalog_kind=cat.kind,
            engine_kind=self.profile.engine.kind,
            cache=b.cache,
            hidden=b.hidden,
        )
        tables = declared_tables(self.specs, cat.silver_database, cat.bronze_database)
        cache = observer.cache
        key = observer.inputs_key(tables, seasons, targets)
        if cache is not None and key is not None:
            kept = cached_plan(cache, key)
            if kept is not None:  # nothing the plan is a function of changed: no footer, no census
                return kept, 0
        obs = observer.observe(tables, seasons)
        layout = plan_layout(obs, targets)
        if cache is not None and key is not None:
            keep_plan(cache, key, layout, obs, _notices(b), exact=observer.census_exact)
        return layout, observer.bytes_scanned

    def plan(
        self,
        seasons: Sequence[int],
        targets: Sequence[str] = (),
        *,
        retry_failed: bool = False,
        now: datetime | None = None,
        whole: bool = False,
    ) -> tuple[Plan, ObservedState]:
        """Observe and plan.

        Args:
            seasons: Selected seasons.
            targets: ``--target`` selectors.
            retry_failed: Re-plan quarantined units.
            now: The clock (default: now, UTC).
            whole: Observe every expected and present unit (the plan is the same; the observation
                returned then lists every unit, as the audit's pictures need).

        Returns:
            The plan and the observation it was computed from.
        """
        check_targets(self.specs, targets)
        now = now or datetime.now(UTC)
        observed = self.observe(seasons, targets, now=now, whole=whole)
        extra: tuple[TargetPlan, ...] = ()
        if layout_selected(targets):
            layout, scanned = self.plan_layout(seasons, targets)
            extra = (layout,)
            observed = replace(_with_fingerprint(observed, layout), bytes_scanned=observed.bytes_scanned + scanned)
        opts = replace(self.options(targets, retry_failed=retry_failed), extra_targets=extra)
        plan = build_plan(self.specs, observed, now, opts)
        planned = {t.target for t in plan.targets}
        left = [n for n in (*(s.name for s in self.specs), LAYOUT_TARGET) if n not in planned]
        # Objects the engines left out or read with casts, each named once with its table.
        warnings = list(dict.fromkeys([*_notices(self.backends), *plan.warnings]))
        if left or warnings != plan.warnings:
            plan = plan.model_copy(update={"not_planned": left, "warnings": warnings})
        return plan, observed

    def options(self, targets: Sequence[str] = (), *, retry_failed: bool = False) -> PlanOptions:
        """The plan options of this profile (waivers, pacing, quota reserve) for a selection.

        Args:
            targets: ``--target`` selectors.
            retry_failed: Re-plan quarantined units.

        Returns:
            The options (without layout targets).
        """
        return PlanOptions(
            targets=tuple(targets),
            waivers=self.waivers(),
            retry_failed=retry_failed,
            rate_per_sec=float(self.profile.api.rate_limit_per_sec),
            quota_reserve=self.profile.api.quota_reserve,
            profile=self.profile.name,
        )


def _notices(backends: Backends) -> list[str]:
    """The engines' notices: objects they left out or read with casts, each named once with its table."""
    engines = (backends.engine, backends.hidden)
    return [n for e in engines for n in getattr(e, "notices", [])]


def _with_fingerprint(observed: ObservedState, layout: TargetPlan) -> ObservedState:
    """Record the layout target's fingerprint beside the specs' (for the saved-plan staleness check)."""
    acts = [(a.address, a.details) for a in layout.actions]
    digest = hashlib.sha256(json.dumps(acts, sort_keys=True, default=str).encode()).hexdigest()[:16]
    entry = ObservedTarget(
        name=LAYOUT_TARGET, expected=(), fingerprint_expected=LAYOUT_TARGET, fingerprint_observed=digest
    )
    return replace(observed, targets={**observed.targets, LAYOUT_TARGET: entry})
