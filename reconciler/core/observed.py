"""What observation hands the planner: plain, read-only values (no I/O handles)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = ["ExpectedUnit", "ObservedState", "ObservedTarget", "PresentUnit", "TableCounts", "UnitState"]


class ExpectedUnit(NamedTuple):
    """One unit the spec's source query says should exist.

    A named tuple rather than a frozen dataclass: observation builds hundreds of thousands of
    them per plan, and a frozen dataclass costs about twice as much to construct.

    Attributes:
        key: The unit key text (``1234`` or ``1234:72``).
        season: The unit's season.
        date: The unit's UTC date ``YYYY-MM-DD``.
        cols: Every column of the source row (for request parameters).
    """

    key: str
    season: int
    date: str
    cols: Mapping[str, Any]


class PresentUnit(NamedTuple):
    """A unit found in the lake.

    Attributes:
        rows: Rows found.
        complete: Whether it passes the spec's completeness rule.
    """

    rows: int
    complete: bool


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit's durable state from the state store.

    Attributes:
        status: ``done``, ``empty`` or ``failed``.
        rows: Rows written.
        attempts: Failed applies so far.
        error: Last error.
        updated_at: Epoch seconds of the last change.
    """

    status: Literal["done", "empty", "failed"]
    rows: int = 0
    attempts: int = 0
    error: str = ""
    updated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ObservedTarget:
    """Everything observed about one target.

    Attributes:
        name: Spec name.
        expected: Expected units, or None when the source could not be read yet.
        present: Units in silver, by key.
        lake_sources: For each bronze strategy, the unit keys bronze holds completely.
        states: Recorded unit states, by key.
        source_error: Why the expected set could not be read, if it could not.
        fingerprint_expected: Digest of the expected set.
        fingerprint_observed: Digest of what is present and recorded.
        counts: When the engine computed the gap (``expected`` then holds only the units that
            are not complete, ``present`` and ``states`` only theirs): season → (expected units,
            complete units). None when ``expected`` is the whole expected set.
        rows_mean: With ``counts``: the mean rows of the table's complete units (None: none).
        touch: With ``counts``: season → strategy name → request parameters → expected units
            of the season the request touches (for the requests of the gap's units).
        empty_counts: With ``counts``: season → its units absent from the table that the state
            records as fresh ``empty``, counted by the engine and not listed in ``expected``
            (:mod:`reconciler.core.empties`).
    """

    name: str
    expected: tuple[ExpectedUnit, ...] | None
    present: Mapping[str, PresentUnit] = field(default_factory=dict)
    lake_sources: Mapping[str, frozenset[str]] = field(default_factory=dict)
    states: Mapping[str, UnitState] = field(default_factory=dict)
    source_error: str = ""
    fingerprint_expected: str = ""
    fingerprint_observed: str = ""
    counts: Mapping[int, tuple[int, int]] | None = None
    rows_mean: float | None = None
    touch: Mapping[int, Mapping[str, Counter[tuple[tuple[str, Any], ...]]]] = field(default_factory=dict)
    empty_counts: Mapping[int, int] = field(default_factory=dict)

    @property
    def gap_only(self) -> bool:
        """Whether ``expected`` holds only the units that are not complete (see ``counts``)."""
        return self.counts is not None


@dataclass(frozen=True, slots=True)
class ObservedState:
    """The whole observation.

    Attributes:
        seasons: The selected seasons.
        targets: Observations by target name.
        quota_remaining: The last ``X-CallLimit-Remaining`` seen, if any.
        engine: The query engine used.
        bytes_scanned: Bytes the queries scanned (Athena bills by them).
        rows_returned: Rows the engines returned to observation (what crossed into Python).
        extra: Observations of other kinds (partition layouts, duplicates), by name.
        warnings: What observation had to leave out, one line each (an unreadable object and
            its table), for the plan's warnings.
    """

    seasons: tuple[int, ...]
    targets: Mapping[str, ObservedTarget]
    quota_remaining: int | None = None
    engine: str = "duckdb"
    bytes_scanned: int = 0
    rows_returned: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableCounts:
    """Counts read from one table, per season.

    Attributes:
        table: ``cbbd_silver.fct_plays``.
        rows: Rows.
        units: Distinct units (the spec's ``unit_columns``; for ``fct_games`` the season).
        dup_rows: Surplus rows whose natural key appears more than once.
        keys: Distinct natural keys (for ``fct_games``: games).
        unit_columns: The unit columns counted.
        key_columns: The natural key.
    """

    table: str
    rows: Mapping[int, int]
    units: Mapping[int, int]
    dup_rows: Mapping[int, int]
    keys: Mapping[int, int] = field(default_factory=dict)
    unit_columns: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
