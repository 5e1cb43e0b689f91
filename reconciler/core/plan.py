"""The plan as data (DESIGN.md §4): frozen pydantic models with a stable JSON form.

The executor and the dry run walk the same ``actions`` list, so what is printed is what runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from reconciler.errors import InputError

__all__ = [
    "FORMAT_VERSION",
    "Action",
    "ActionType",
    "Plan",
    "Request",
    "SeasonCoverage",
    "Summary",
    "TargetPlan",
    "check_digest",
    "plan_digest",
]

FORMAT_VERSION = 1

ActionType = Literal["fetch", "refetch", "rebuild", "register", "relayout", "dedupe", "delete"]
API_ACTIONS: frozenset[str] = frozenset({"fetch", "refetch"})


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Request(_Frozen):
    """An API request: path (with path parameters filled) and query parameters."""

    path: str
    params: dict[str, Any] = Field(default_factory=dict)


class Action(_Frozen):
    """One step of a plan.

    Attributes:
        type: What the step does.
        address: Stable address, usable with ``--target`` (e.g. ``plays[season=2015][date=2015-01-03]``).
        target: The spec it belongs to (or a partition-layout target).
        season: The season it concerns.
        strategy: The fetch strategy's name (fetch/refetch/rebuild).
        request: The API request (fetch/refetch).
        covers: How many units it fills.
        units: The unit keys it fills.
        api_calls: API calls it will make (a windowed season makes several).
        est_rows: Rows the response is expected to carry (including rows of units already present).
        reason: Why the step is needed, with evidence for incomplete units.
        details: Type-specific details (objects, partitions, keys).
    """

    type: ActionType
    address: str
    target: str
    season: int | None = None
    strategy: str | None = None
    request: Request | None = None
    covers: int = 0
    units: list[str] = Field(default_factory=list)
    api_calls: int = 0
    est_rows: int = 0
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class SeasonCoverage(_Frozen):
    """Coverage of one target in one season."""

    expected: int = 0
    present: int = 0
    incomplete: int = 0
    verified_empty: int = 0
    waived: int = 0
    quarantined: int = 0
    failed: int = 0
    missing: int = 0
    after_apply: int = Field(0, description="missing units whose inputs other targets will fill first")
    known_after_apply: bool = False

    @property
    def ratio(self) -> float:
        """Share of expected units that are present, verified empty or waived."""
        if self.expected == 0:
            return 1.0
        return (self.present + self.verified_empty + self.waived) / self.expected


class TargetPlan(_Frozen):
    """One target's coverage and actions."""

    target: str
    table: str = ""
    depends_on: list[str] = Field(default_factory=list)
    coverage: dict[str, SeasonCoverage] = Field(default_factory=dict)
    actions: list[Action] = Field(default_factory=list)
    choices: list[str] = Field(default_factory=list, description="per-season strategy choices, for people")
    quarantined: list[dict[str, Any]] = Field(default_factory=list)
    gate: Literal["ok", "warn", "error"] = "ok"
    warn_below: float = 0.0
    error_below: float = 0.0
    notes: list[str] = Field(default_factory=list)
    source_error: str = Field(
        "", description="why the expected set could not be computed (an error gate); empty when it was"
    )


class Summary(BaseModel):
    """Counts of the plan's actions and its API cost (``register`` is spelled so in JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)

    fetch: int = 0
    refetch: int = 0
    rebuild: int = 0
    register_: int = Field(0, alias="register")
    relayout: int = 0
    dedupe: int = 0
    delete: int = 0
    api_calls: int = 0
    estimated_seconds: float = 0.0
    quota_remaining: int | None = None
    quota_reserve: int = 0

    @property
    def changes(self) -> int:
        """Total number of actions."""
        return self.fetch + self.refetch + self.rebuild + self.register_ + self.relayout + self.dedupe + self.delete


class Plan(_Frozen):
    """A complete plan: what was observed, and what apply will do."""

    format_version: int = FORMAT_VERSION
    plan_id: str
    fingerprint: str
    created_at: str
    seasons: list[int]
    season_list: list[int] = Field(default_factory=list)
    profile: str = ""
    targets: list[TargetPlan] = Field(default_factory=list)
    summary: Summary = Summary()
    fingerprints: dict[str, dict[str, str]] = Field(default_factory=dict)
    observation: dict[str, Any] = Field(default_factory=dict, description="engine, bytes scanned")
    retry_failed: bool = Field(False, description="planned with --retry-failed (quarantined units included)")
    warnings: list[str] = Field(
        default_factory=list, description="what people must know: selectors and waivers matching nothing, bad files"
    )
    not_planned: list[str] = Field(
        default_factory=list, description="targets left out by --target: the plan says nothing about them"
    )
    digest: str = Field("", description="sha256 of the plan file's content without this field")

    def all_actions(self) -> list[Action]:
        """Every action, targets in plan order."""
        return [a for t in self.targets for a in t.actions]

    def to_json(self) -> str:
        """The plan file text (DESIGN.md §4), with its ``digest``.

        Returns:
            Indented JSON; ``digest`` is :func:`plan_digest` of the rest, so that an edited
            file is recognised when it is applied.
        """
        data = self.model_dump(mode="json", by_alias=True)
        data["digest"] = plan_digest(data)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def plan_digest(data: Mapping[str, Any]) -> str:
    """The digest of a plan file's content: SHA-256 over its canonical JSON, ``digest`` left out.

    Args:
        data: The plan as parsed JSON.

    Returns:
        ``sha256:<hex>``.
    """
    body = {k: v for k, v in data.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_digest(data: Mapping[str, Any], where: str) -> None:
    """Refuse a plan file whose content is not what ``reconcile plan`` wrote.

    Args:
        data: The plan as parsed JSON.
        where: The file, for the message.

    Raises:
        InputError: If the digest is missing or does not match the content.
    """
    digest = data.get("digest")
    if not digest:
        raise InputError(
            f"{where}: the plan file has no digest (it was not written by `reconcile plan --out` of this version); "
            "plan again"
        )
    if digest != plan_digest(data):
        raise InputError(
            f"{where}: the plan file was changed after it was saved (its digest does not match its content); "
            "a saved plan is applied only as written: plan again"
        )
