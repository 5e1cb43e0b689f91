"""Observe the lake for a set of specs: expected units, present units, lake sources, state."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit, UnitState
from reconciler.errors import QueryError
from reconciler.lake.layout import is_data_object
from reconciler.lake.promote import unify_tables
from reconciler.observe.queries import coverage_query
from reconciler.observe.sources import missing_columns
from reconciler.ports import ObjectStore, QueryEngine, StateStore
from reconciler.spec.models import Spec

__all__ = ["Observer", "unit_key"]

log = logging.getLogger(__name__)

QUOTA_META_KEY = "api.calllimit_remaining"


def unit_key(values: Sequence[Any]) -> str:
    """The text key of a unit from its column values (``1234`` or ``1234:72``).

    Args:
        values: The unit's column values in spec order.

    Returns:
        The key.
    """
    return ":".join(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values)


def _key_column(table: pa.Table, columns: Sequence[str]) -> list[str]:
    """Every row's unit key, as :func:`unit_key` would give it (integer and text columns fast)."""
    parts: list[list[str]] = []
    for c in columns:
        col = table.column(c)
        if pa.types.is_integer(col.type) or pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            parts.append([str(v) for v in col.to_pylist()])
        else:
            parts.append([unit_key([v]) for v in col.to_pylist()])
    if len(parts) == 1:
        return parts[0]
    return [":".join(p) for p in zip(*parts, strict=True)]


def _expected_units(table: pa.Table, unit: Sequence[str], seasons: Sequence[int]) -> tuple[ExpectedUnit, ...]:
    """The source rows of the selected seasons as units, one per key, ordered by season, date, key."""
    season = pc.cast(table.column("season"), pa.int64())
    wanted = pc.is_in(season, value_set=pa.array(sorted(set(seasons)), pa.int64()))
    table, season = table.filter(wanted), season.filter(wanted)
    if table.num_rows == 0:
        return ()
    keys = _key_column(table, unit)
    dates = [str(d)[:10] for d in table.column("date").to_pylist()]
    # Sort like the plan reads (season, date, key) in Arrow; the first row of a key then wins.
    idx = pc.sort_indices(
        pa.table({"s": season, "d": pa.array(dates), "k": pa.array(keys)}),
        sort_keys=[("s", "ascending"), ("d", "ascending"), ("k", "ascending")],
    )
    table = table.take(idx)
    perm = idx.to_pylist()
    seasons_col = season.take(idx).to_pylist()
    out: dict[str, ExpectedUnit] = {}
    for i, season_no, row in zip(perm, seasons_col, table.to_pylist(), strict=True):
        key = keys[i]
        if key not in out:
            out[key] = ExpectedUnit(key=key, season=season_no, date=dates[i], cols=row)
    return tuple(out.values())


def _digest(items: Any) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Observer:
    """Reads (never writes) the lake through the ports.

    Attributes:
        store: The object store (to check that tables have files before querying them).
        engine: The query engine.
        state: The state store.
        layer_of: Database name → layer prefix (``cbbd_silver`` → ``silver``).
        bytes_scanned: Bytes the engine reported scanning (Athena bills by them).
        hidden: When the engine reads through the catalog, an embedded engine over the files it
            misses: every query runs on both, so that data in partitions the catalog lacks counts
            as present (to register), never as missing (to fetch again).
    """

    store: ObjectStore
    engine: QueryEngine
    state: StateStore
    layer_of: Mapping[str, str]
    bytes_scanned: int = 0
    hidden: QueryEngine | None = None

    def _has_data(self, database: str, table: str) -> bool:
        prefix = f"{self.layer_of.get(database, database)}/{table}/"
        return any(is_data_object(o.key) for o in self.store.list_objects(prefix))

    def _query(self, sql: str, seasons: Sequence[int]) -> list[pa.Table]:
        """The query's rows from the engine, and from the files it misses (when it reads the catalog)."""
        params = {"season_start": min(seasons), "season_end": max(seasons)}
        res = self.engine.query(sql, params)
        self.bytes_scanned += res.bytes_scanned
        out = [res.table]
        if self.hidden is not None:
            extra = self.hidden.query(sql, params).table
            if extra.num_rows:
                out.append(extra)
        return out

    def expected(self, spec: Spec, seasons: Sequence[int]) -> tuple[tuple[ExpectedUnit, ...] | None, str]:
        """The spec's expected units for the seasons.

        Args:
            spec: The spec.
            seasons: Selected seasons.

        Returns:
            The units (None if the source cannot be read yet) and an explanation when None.
        """
        try:
            tables = self._query(spec.source.query, seasons)
        except QueryError as exc:
            return None, str(exc)
        table = unify_tables(tables) if len(tables) > 1 else tables[0]
        why = missing_columns(spec, table.column_names)
        if why:
            return None, why
        return _expected_units(table, spec.unit, seasons), ""

    def present(
        self,
        database: str,
        table: str,
        unit_columns: Sequence[str],
        seasons: Sequence[int],
        *,
        min_rows: int,
        expression: str | None,
    ) -> dict[str, PresentUnit]:
        """Units present in a table with their row counts and completeness.

        Args:
            database: Glue database.
            table: Table.
            unit_columns: Columns identifying a unit.
            seasons: Selected seasons.
            min_rows: Completeness: minimum rows.
            expression: Completeness: extra boolean aggregate.

        Returns:
            Present units by key.
        """
        if not self._has_data(database, table):
            return {}
        sql = coverage_query(database, table, unit_columns, min_rows=min_rows, expression=expression)
        out: dict[str, PresentUnit] = {}
        for result in self._query(sql, seasons):
            parts = [[str(v) for v in result.column(f"u{i}").to_pylist()] for i in range(len(unit_columns))]
            keys = parts[0] if len(parts) == 1 else [":".join(p) for p in zip(*parts, strict=True)]
            rows = result.column("n").to_pylist()
            oks = result.column("ok").to_pylist()
            for k, n, ok in zip(keys, rows, oks, strict=True):
                seen = out.get(k)
                # Rows split between registered and unregistered partitions: complete if either
                # part is (a unit is not split by any writer's layout; this is conservative).
                out[k] = (
                    PresentUnit(int(n), bool(ok))
                    if seen is None
                    else PresentUnit(seen.rows + int(n), seen.complete or bool(ok))
                )
        return out

    def observe_target(self, spec: Spec, seasons: Sequence[int]) -> ObservedTarget:
        """Observe one target.

        Args:
            spec: The spec.
            seasons: Selected seasons.

        Returns:
            The observation.
        """
        expected, err = self.expected(spec, seasons)
        silver = spec.target.silver
        comp = spec.expect.complete
        present = self.present(
            silver.database,
            silver.table,
            silver.unit_columns,
            seasons,
            min_rows=comp.min_rows,
            expression=comp.expression,
        )
        lake: dict[str, frozenset[str]] = {}
        bronze_db = next((db for db, layer in self.layer_of.items() if layer == "bronze"), "cbbd_bronze")
        # Bronze matters only for units silver lacks: read it for their seasons, or not at all.
        lacking = sorted(
            {u.season for u in expected or () if not ((p := present.get(u.key)) is not None and p.complete)}
        )
        for strat in spec.fetch:
            if strat.source != "bronze" or not strat.bronze:
                continue
            if not lacking:
                lake[strat.name] = frozenset()
                continue
            found = self.present(
                bronze_db,
                strat.bronze,
                strat.unit_columns or silver.unit_columns,
                lacking,
                min_rows=comp.min_rows,
                expression=strat.complete_expression,
            )
            lake[strat.name] = frozenset(k for k, p in found.items() if p.complete)
        states = {
            k: UnitState(status=r.status, rows=r.rows, attempts=r.attempts, error=r.error, updated_at=r.updated_at)
            for k, r in self.state.load_units(spec.name).items()
        }
        fp_exp = _digest(sorted(u.key for u in expected)) if expected is not None else "unknown"
        fp_obs = _digest(
            {
                "present": sorted((k, p.rows, p.complete) for k, p in present.items()),
                "states": sorted((k, s.status, s.attempts) for k, s in states.items()),
            }
        )
        return ObservedTarget(
            name=spec.name,
            expected=expected,
            present=present,
            lake_sources=lake,
            states=states,
            source_error=err,
            fingerprint_expected=fp_exp,
            fingerprint_observed=fp_obs,
        )

    def observe(self, specs: Sequence[Spec], seasons: Sequence[int], engine_name: str) -> ObservedState:
        """Observe every target.

        Args:
            specs: Specs in dependency order.
            seasons: Selected seasons.
            engine_name: For the record (``duckdb`` or ``athena``).

        Returns:
            The observed state.
        """
        targets = {s.name: self.observe_target(s, seasons) for s in specs}
        quota = self.state.get_meta(QUOTA_META_KEY)
        return ObservedState(
            seasons=tuple(seasons),
            targets=targets,
            quota_remaining=int(quota) if quota else None,
            engine=engine_name,
            bytes_scanned=self.bytes_scanned,
        )
