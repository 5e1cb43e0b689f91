"""Pydantic models of a spec (DESIGN.md §5). Unknown fields are rejected.

A spec names a target (``plays``), the Athena query that yields its expected units, the
fetch strategies that can fill a unit (API endpoints, or the lake's own bronze layer), the
tables it writes and what a complete unit looks like.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Completeness",
    "CoverageGate",
    "EmptyPolicy",
    "Expect",
    "FetchStrategy",
    "SilverTarget",
    "Source",
    "Spec",
    "Target",
    "Waiver",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PATH_PARAM = re.compile(r"\{(\w+)\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Model):
    """Where the expected units come from: one Athena-dialect query.

    ``:season_start`` and ``:season_end`` are bound to the selected season range. The query
    must return the unit columns plus ``season`` and ``date`` (``YYYY-MM-DD``).
    """

    query: str = Field(min_length=1)


class FetchStrategy(_Model):
    """One way to fill units: an API request, or a rebuild from the lake's bronze layer.

    ``params`` maps each request parameter to the unit column(s) supplying its value. A list
    of columns means the request can match any of them (``match: any``, e.g. a team request
    covers games where the team is home or away) or that each listed column needs its own
    request to complete a unit (``match: all``, e.g. substitutions by team return one side).
    """

    name: str
    covers: str = Field(description="what one request covers, for display: game, date, team_season")
    path: str | None = None
    params: dict[str, str | list[str]] = Field(default_factory=dict)
    match: Literal["any", "all"] = "any"
    source: Literal["api", "bronze", "derive"] = "api"
    derive: Literal["lineups"] | None = Field(None, description="derive strategy: the derivation to run")
    inputs: list[str] = Field(default_factory=list, description="derive strategy: targets whose silver feeds it")
    raw: str | None = Field(None, description="raw/ directory for this endpoint, e.g. plays/game")
    bronze: str | None = Field(None, description="bronze table (endpoint name), e.g. plays_game")
    rows_per_unit: float | None = Field(None, gt=0, description="expected rows per unit, for byte estimates")
    aggregated: bool = Field(False, description="rows are aggregated across units; cannot fill a unit")
    window_days: int | None = Field(None, ge=1, le=366, description="split a season into date windows")
    cap: int | None = Field(None, ge=1, description="the endpoint's silent row cap; len == cap is an error")
    unit_columns: list[str] | None = Field(None, description="bronze strategy: the bronze unit columns")
    complete_expression: str | None = Field(None, description="bronze strategy: completeness over bronze")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} must be lower_snake_case")
        return v

    @model_validator(mode="after")
    def _check(self) -> FetchStrategy:
        if self.source == "api":
            if not self.path or not self.path.startswith("/"):
                raise ValueError("an api strategy needs a path starting with '/'")
            missing = [p for p in _PATH_PARAM.findall(self.path) if p not in self.params]
            if missing:
                raise ValueError(f"path parameter(s) {missing} have no entry in params")
            if not self.raw or not self.bronze:
                raise ValueError("an api strategy needs raw (directory) and bronze (table)")
            if sum(1 for v in self.params.values() if not isinstance(v, str)) > 1:
                raise ValueError("at most one parameter may list several unit columns")
        elif self.source == "bronze" and not self.bronze:
            raise ValueError("a bronze strategy needs bronze (the table to rebuild from)")
        elif self.source == "derive" and (not self.derive or not self.inputs):
            raise ValueError("a derive strategy needs derive (the derivation) and inputs (targets)")
        return self

    def param_columns(self) -> dict[str, tuple[str, ...]]:
        """Each request parameter with the unit columns that can supply it."""
        return {k: (v,) if isinstance(v, str) else tuple(v) for k, v in self.params.items()}


class SilverTarget(_Model):
    """The silver table a target fills."""

    database: str = "cbbd_silver"
    table: str
    key: list[str] = Field(min_length=1)
    unit_columns: list[str] = Field(min_length=1, description="silver columns matching the spec's unit")
    layout: str = "season={season}/date={date}"

    @field_validator("layout")
    @classmethod
    def _layout(cls, v: str) -> str:
        for seg in v.split("/"):
            if not re.fullmatch(r"\w+=\{\w+\}", seg):
                raise ValueError(f"layout segment {seg!r} must look like key={{key}}")
        return v


class Target(_Model):
    """What a target writes."""

    silver: SilverTarget


class CoverageGate(_Model):
    """Coverage thresholds: warn below one ratio, fail (with --detailed-exitcode) below another."""

    warn_below: float = Field(0.995, ge=0, le=1)
    error_below: float = Field(0.98, ge=0, le=1)

    @model_validator(mode="after")
    def _order(self) -> CoverageGate:
        if self.error_below > self.warn_below:
            raise ValueError("error_below must not exceed warn_below")
        return self


class EmptyPolicy(_Model):
    """What a verified-empty unit (the API returned nothing for it) means."""

    record: bool = True
    recheck_after_days: int = Field(30, ge=1)
    only_if_game_within_days: int | None = Field(14, ge=0)


class Completeness(_Model):
    """What a complete unit looks like; failing units are re-planned with the evidence shown."""

    min_rows: int = Field(1, ge=1)
    expression: str | None = Field(None, description="Athena boolean aggregate over a unit's rows")
    description: str = ""


class Expect(_Model):
    """Expectations of coverage and completeness."""

    coverage: CoverageGate = CoverageGate()
    empty_response: EmptyPolicy = EmptyPolicy()
    complete: Completeness = Completeness()
    max_failed_applies: int = Field(3, ge=1, description="failed applies before a unit is quarantined")


class Spec(_Model):
    """One target's declaration."""

    name: str
    description: str = ""
    depends_on: list[str] = Field(default_factory=list)
    source: Source
    unit: list[str] = Field(min_length=1)
    fetch: list[FetchStrategy] = Field(min_length=1)
    target: Target
    expect: Expect = Expect()
    file: str = Field("", exclude=True)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"{v!r} must be lower_snake_case")
        return v

    @model_validator(mode="after")
    def _check(self) -> Spec:
        names = [f.name for f in self.fetch]
        if len(set(names)) != len(names):
            raise ValueError(f"fetch strategy names repeat: {names}")
        if len(self.unit) != len(self.target.silver.unit_columns):
            raise ValueError("target.silver.unit_columns must name one column per unit column")
        if not any(f.source == "api" and not f.aggregated for f in self.fetch):
            raise ValueError("at least one api fetch strategy must be able to fill a unit")
        for f in self.fetch:
            missing = [t for t in f.inputs if t not in self.depends_on]
            if missing:
                raise ValueError(f"fetch.{f.name}: inputs {missing} must also be listed in depends_on")
        return self


class Waiver(_Model):
    """An acknowledged gap the API genuinely lacks.

    ``address`` is a glob over unit addresses such as ``plays[season=2012][gameId=4711]``
    or ``lineups[season=2025]*``.
    """

    address: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    expires: date | None = None
    file: str = Field("", exclude=True)
