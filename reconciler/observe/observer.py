"""Observe the lake for a set of specs: expected units, present units, lake sources, state."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import pyarrow as pa

from reconciler.core.empties import SetDigest, pushdown_seasons, waiver_may_name
from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit
from reconciler.errors import QueryError
from reconciler.lake.layout import is_data_object
from reconciler.lake.promote import unify_tables
from reconciler.observe.fingerprints import fingerprints, states_of, whole_fingerprints
from reconciler.observe.gap import GapResult, gap_query, gap_result, input_key, keys_filter
from reconciler.observe.queries import coverage_query
from reconciler.observe.runner import QueryRunner
from reconciler.observe.sources import missing_columns
from reconciler.observe.units import expected_units, unit_key
from reconciler.ports import QUOTA_META_KEY, ObjectStore, QueryEngine, StateStore
from reconciler.spec.models import Spec

__all__ = ["Observer", "unit_key"]

log = logging.getLogger(__name__)


#: Most unit keys a query names in an ``IN`` list (about 60 kB of SQL; Athena takes 256 kB);
#: past it the units' seasons are read whole.
MAX_IN_KEYS = 5000


def _params(seasons: Sequence[int]) -> dict[str, int]:
    return {"season_start": min(seasons), "season_end": max(seasons)}


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
        whole: Targets to observe whole (every expected and present unit), not by their gap:
            those a ``--target`` unit address names (its warning needs every unit's address).
        rows_returned: Rows the engines returned (what crossed into Python).
        now: The plan's clock: with it, a season's units absent from a table that the state
            records as fresh ``empty`` are counted by the engine, not listed
            (:mod:`reconciler.core.empties`). None: every unit that is not complete is listed.
        waivers: The address globs of the waivers (a target one of them may name has its
            units listed, for the waiver to be matched against each).
    """

    store: ObjectStore
    engine: QueryEngine
    state: StateStore
    layer_of: Mapping[str, str]
    bytes_scanned: int = 0
    hidden: QueryEngine | None = None
    whole: frozenset[str] = field(default_factory=frozenset)
    rows_returned: int = 0
    runner: QueryRunner = field(default_factory=QueryRunner)
    now: datetime | None = None
    waivers: tuple[str, ...] = ()
    _pushdown: dict[str, dict[int, tuple[SetDigest, str | None]]] = field(default_factory=dict)
    _tables: dict[str, bool] = field(default_factory=dict)
    _specs: dict[str, Spec] = field(default_factory=dict)
    _inputs: dict[str, Mapping[str, Mapping[str, PresentUnit]]] = field(default_factory=dict)

    def _has_data(self, database: str, table: str) -> bool:
        prefix = f"{self.layer_of.get(database, database)}/{table}/"
        got = self._tables.get(prefix)
        if got is None:
            got = self._tables[prefix] = any(is_data_object(o.key) for o in self.store.list_objects(prefix))
        return got

    def _query(self, sql: str, seasons: Sequence[int]) -> list[pa.Table]:
        """The query's rows from the engine, and from the files it misses (when it reads the catalog)."""
        params = _params(seasons)
        out = [self.runner.run(self.engine, sql, params).table]
        if self.hidden is not None:
            extra = self.runner.run(self.hidden, sql, params).table
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
        return expected_units(table, spec.unit, seasons), ""

    def present(
        self,
        database: str,
        table: str,
        unit_columns: Sequence[str],
        seasons: Sequence[int],
        *,
        min_rows: int,
        expression: str | None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, PresentUnit]:
        """Units present in a table with their row counts and completeness.

        Args:
            database: Glue database.
            table: Table.
            unit_columns: Columns identifying a unit.
            seasons: Selected seasons.
            min_rows: Completeness: minimum rows.
            expression: Completeness: extra boolean aggregate.
            keys: Only these units (read whole when there are more than :data:`MAX_IN_KEYS`).

        Returns:
            Present units by key.
        """
        if keys is not None and not keys:
            return {}
        if not self._has_data(database, table):
            return {}
        where = ""
        if keys is not None and len(keys) <= MAX_IN_KEYS:
            where = keys_filter(unit_columns, keys)
        sql = coverage_query(database, table, unit_columns, min_rows=min_rows, expression=expression, where=where)
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

    def _hidden_rows(self, spec: Spec, seasons: Sequence[int]) -> bool:
        """Whether the files the catalog misses hold rows of the target's source or table.

        Such rows are merged with the engine's in Python (:meth:`present`), so the engine
        cannot compute the gap alone; a query the embedded engine cannot run counts as rows.
        """
        if self.hidden is None:
            return False
        params = {"season_start": min(seasons), "season_end": max(seasons)}
        silver = spec.target.silver
        comp = spec.expect.complete
        table = coverage_query(
            silver.database, silver.table, silver.unit_columns, min_rows=comp.min_rows, expression=comp.expression
        )
        try:
            for sql in (spec.source.query, table):
                if self.runner.run(self.hidden, sql, params).table.num_rows:
                    return True
        except QueryError:
            return True
        return False

    def _bronze_db(self) -> str:
        return next((db for db, layer in self.layer_of.items() if layer == "bronze"), "cbbd_bronze")

    def _folded(self, spec: Spec, seasons: Sequence[int]) -> tuple[dict[str, str], list[Spec]]:
        """What the target's gap query also answers: bronze strategy → database, and derivation inputs.

        A bronze table is folded in only when the engine sees every file (no hidden engine: its
        rows would be merged in Python) and has files; an input, when its silver table has files.
        Neither is folded in when the state's ``empty`` records may stand for the gap (the steady
        state): the gap is then likely empty, and a folded lookup would scan the bronze table or
        the input's table for nothing; they are asked apart, for the units the gap lists, if any.
        """
        if self._empties(spec, seasons):
            return {}, []
        bronze: dict[str, str] = {}
        if self.hidden is None:
            db = self._bronze_db()
            for strat in spec.fetch:
                if strat.source == "bronze" and strat.bronze and self._has_data(db, strat.bronze):
                    bronze[strat.name] = db
        inputs: list[Spec] = []
        for strat in spec.fetch:
            for name in strat.inputs if strat.source == "derive" else ():
                ispec = self._specs.get(name)
                if ispec is None or ispec in inputs:
                    continue
                if self._has_data(ispec.target.silver.database, ispec.target.silver.table):
                    inputs.append(ispec)
        return bronze, inputs

    def _empties(self, spec: Spec, seasons: Sequence[int]) -> dict[int, tuple[SetDigest, str | None]]:
        """The seasons whose absent units the state's ``empty`` records may stand for (cached)."""
        got = self._pushdown.get(spec.name)
        if got is None:
            pol = spec.expect.empty_response
            got = {}
            if pol.record and self.now is not None and not any(waiver_may_name(w, spec.name) for w in self.waivers):
                young_since = self.now.timestamp() - pol.recheck_after_days * 86400
                wanted = set(seasons)
                digests = {k: d for k, d in self.state.empty_digests(spec.name, young_since).items() if k in wanted}
                got = pushdown_seasons(digests, pol.only_if_game_within_days)
            self._pushdown[spec.name] = got
        return got

    def _gap_sql(self, spec: Spec, seasons: Sequence[int]) -> str | None:
        """The target's gap query, or None when it must be observed whole."""
        silver = spec.target.silver
        if spec.name in self.whole or not self._has_data(silver.database, silver.table):
            return None
        if self._hidden_rows(spec, seasons):
            return None
        bronze, inputs = self._folded(spec, seasons)
        return gap_query(
            spec,
            seasons,
            database=silver.database,
            table=silver.table,
            bronze=bronze,
            inputs=inputs,
            empties=self._empties(spec, seasons),
        )

    def _gap(self, spec: Spec, seasons: Sequence[int]) -> GapResult | None:
        """The target's gap, computed by the engine; None when it must be observed whole."""
        sql = self._gap_sql(spec, seasons)
        if sql is None:
            return None
        bronze, inputs = self._folded(spec, seasons)
        try:
            res = self.runner.run(self.engine, sql, _params(seasons))
        except QueryError as exc:
            silver = spec.target.silver
            plain = gap_query(
                spec, seasons, database=silver.database, table=silver.table, empties=self._empties(spec, seasons)
            )
            try:
                if plain == sql:
                    raise
                # A folded-in table or column the engine refused (a source query that lacks an
                # input's unit column): the gap alone, the lookups asked apart as before.
                log.debug("%s: gap query with lookups failed (%s); asking the gap alone", spec.name, exc)
                res = self.runner.run(self.engine, plain, _params(seasons))
                bronze, inputs = {}, []
            except QueryError as again:
                # The whole observation runs the two queries apart and says which one failed.
                log.debug("%s: gap query failed (%s); observing whole", spec.name, again)
                return None
        if missing_columns(spec, [c for c in res.table.column_names if not c.startswith("rc_")]):
            return None
        return gap_result(spec, res.table, list(bronze), inputs)

    def _lake_sources(
        self,
        spec: Spec,
        lacking: Sequence[ExpectedUnit],
        present: Mapping[str, PresentUnit],
        known: Mapping[str, frozenset[str]] | None = None,
    ) -> dict[str, frozenset[str]]:
        """For each bronze strategy, the units lacking in silver that bronze holds completely.

        Bronze matters only for units silver lacks: it is read for those units (or their
        seasons, when they are many), or not at all; ``known`` gives the strategies the gap
        query already answered.
        """
        silver = spec.target.silver
        comp = spec.expect.complete
        bronze_db = self._bronze_db()
        units = [u for u in lacking if not ((p := present.get(u.key)) is not None and p.complete)]
        seasons = sorted({u.season for u in units})
        lake: dict[str, frozenset[str]] = {}
        for strat in spec.fetch:
            if strat.source != "bronze" or not strat.bronze:
                continue
            if known is not None and strat.name in known:
                lake[strat.name] = known[strat.name]
                continue
            if not units:
                lake[strat.name] = frozenset()
                continue
            found = self.present(
                bronze_db,
                strat.bronze,
                strat.unit_columns or silver.unit_columns,
                seasons,
                min_rows=comp.min_rows,
                expression=strat.complete_expression,
                keys=[u.key for u in units],
            )
            lake[strat.name] = frozenset(k for k, p in found.items() if p.complete)
        return lake

    def _observe_gap(self, spec: Spec, seasons: Sequence[int]) -> ObservedTarget | None:
        """Observe a target by its gap (see :mod:`reconciler.observe.gap`), or None."""
        gap = self._gap(spec, seasons)
        if gap is None:
            return None
        keys = [u.key for u in gap.units]
        self._inputs[spec.name] = gap.inputs
        states = states_of(self.state.load_units_for(spec.name, keys) if keys else {})
        digests = self._empties(spec, seasons)
        pushed = {season: digests[season][0] for season in gap.empty}
        listed = [(u.key, u.season) for u in gap.units]
        fp_exp, fp_obs = fingerprints(
            gap.counts, listed, gap.present, states, gap.rows_mean, pushed, gap.digests or None
        )
        return ObservedTarget(
            name=spec.name,
            expected=gap.units,
            present=gap.present,
            lake_sources=self._lake_sources(spec, gap.units, gap.present, gap.lake),
            states=states,
            fingerprint_expected=fp_exp,
            fingerprint_observed=fp_obs,
            counts=gap.counts,
            rows_mean=gap.rows_mean,
            touch=gap.touch,
            empty_counts=gap.empty,
        )

    def observe_target(self, spec: Spec, seasons: Sequence[int]) -> ObservedTarget:
        """Observe one target: by its gap when the engine can compute it, else whole.

        Args:
            spec: The spec.
            seasons: Selected seasons.

        Returns:
            The observation.
        """
        got = self._observe_gap(spec, seasons)
        if got is not None:
            return got
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
        states = states_of(self.state.load_units(spec.name))
        fp_exp, fp_obs = whole_fingerprints(expected, present, states)
        return ObservedTarget(
            name=spec.name,
            expected=expected,
            present=present,
            lake_sources=self._lake_sources(spec, expected or (), present),
            states=states,
            source_error=err,
            fingerprint_expected=fp_exp,
            fingerprint_observed=fp_obs,
        )

    def _with_inputs(
        self, spec: Spec, obs: ObservedTarget, targets: dict[str, ObservedTarget], by_name: Mapping[str, Spec]
    ) -> None:
        """Add to each gap-observed input of a derivation its units the derivation's gap needs.

        A derived unit waits for its inputs' units: the planner asks whether they are complete
        (present, or recorded done or empty), and apply reads them through the input's index of
        units present at observation. A gap observation lists only an input's incomplete units,
        so its complete units that the derivation's gap names are read here, with their state.
        """
        lacking = [u for u in obs.expected or () if not ((p := obs.present.get(u.key)) is not None and p.complete)]
        for strat in spec.fetch:
            if strat.source != "derive":
                continue
            for name in strat.inputs:
                t, ispec = targets.get(name), by_name.get(name)
                if t is None or ispec is None or not t.gap_only:
                    continue
                listed = {u.key for u in t.expected or ()}
                needed: set[str] = set()
                for u in lacking:
                    key = input_key(ispec, u)
                    if key is not None and key not in listed and key not in t.present:
                        needed.add(key)
                if not needed:
                    continue
                folded = self._inputs.get(spec.name, {}).get(name)
                if folded is not None:  # the derived target's gap query read them
                    found = {k: p for k, p in folded.items() if k in needed}
                else:
                    silver, comp = ispec.target.silver, ispec.expect.complete
                    found = self.present(
                        silver.database,
                        silver.table,
                        silver.unit_columns,
                        sorted({u.season for u in lacking}),
                        min_rows=comp.min_rows,
                        expression=comp.expression,
                        keys=sorted(needed),
                    )
                    found = {k: p for k, p in found.items() if k in needed}
                states = states_of(self.state.load_units_for(name, needed))
                targets[name] = replace(t, present={**t.present, **found}, states={**t.states, **states})

    def observe(self, specs: Sequence[Spec], seasons: Sequence[int], engine_name: str) -> ObservedState:
        """Observe every target.

        Args:
            specs: Specs in dependency order.
            seasons: Selected seasons.
            engine_name: For the record (``duckdb`` or ``athena``).

        Returns:
            The observed state.
        """
        targets: dict[str, ObservedTarget] = {}
        by_name = {s.name: s for s in specs}
        self._specs = dict(by_name)
        try:
            # The targets' gap queries are independent: started together, they run side by side
            # on an engine that runs several queries at once.
            for spec in specs:
                sql = self._gap_sql(spec, seasons)
                if sql is not None:
                    self.runner.start(self.engine, sql, _params(seasons))
            for spec in specs:
                targets[spec.name] = obs = self.observe_target(spec, seasons)
                self._with_inputs(spec, obs, targets, by_name)
        finally:
            self.runner.close()
        self.bytes_scanned += self.runner.bytes_scanned
        self.rows_returned += self.runner.rows_returned
        quota = self.state.get_meta(QUOTA_META_KEY)
        return ObservedState(
            seasons=tuple(seasons),
            targets=targets,
            quota_remaining=int(quota) if quota else None,
            engine=engine_name,
            bytes_scanned=self.bytes_scanned,
            rows_returned=self.rows_returned,
        )
