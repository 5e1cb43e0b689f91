"""The choices that shape a plan (one home: the planner and the classifier both read them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from reconciler.core.plan import TargetPlan
from reconciler.spec.models import Waiver

__all__ = ["PlanOptions"]


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Choices that shape a plan.

    Attributes:
        targets: Target names or address globs to include (empty: all).
        waivers: Acknowledged gaps.
        retry_failed: Re-plan quarantined units.
        rate_per_sec: API pacing, for the time estimate.
        quota_reserve: Calls to keep in reserve.
        profile: Profile name, recorded in the plan.
        extra_targets: Plans for non-spec targets (partition layouts), appended as given.
    """

    targets: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    retry_failed: bool = False
    rate_per_sec: float = 3.0
    quota_reserve: int = 0
    profile: str = ""
    extra_targets: tuple[TargetPlan, ...] = field(default_factory=tuple)
