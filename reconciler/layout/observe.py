"""Observe the layout of every table the specs name: storage, footers, catalog, duplicates.

Read-only. For each table, in bronze and silver:

1. list its Parquet objects (those of the selected seasons, and those with no season in their
   path) and mark the ones recorded as superseded (pending delete);
2. read the footer of every live object (rows and schema; never the data);
3. read the catalog's definition and registered partitions;
4. silver only: find duplicate natural keys, as a full scan sees them (any layout, any types).
   A cheap Athena-dialect query first finds the seasons (folders) with any duplicate key at all;
   only there are the key columns of the live objects read, to say which objects hold which
   duplicates.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations
from typing import Any, Literal

import pyarrow as pa

from reconciler.adapters.obs_cache import ObservationCache
from reconciler.core.layout_observed import (
    CatalogObs,
    FileObs,
    LayoutObservation,
    Overlap,
    RegisteredPartition,
    TableDecl,
    TableObs,
    row_seasons,
)
from reconciler.errors import QueryError
from reconciler.lake.keys import key_parts, key_sql
from reconciler.layout.files import (
    file_obs,
    files_from_table,
    files_key,
    files_table,
    is_remote,
    list_table,
    object_keys,
    read_footers,
)
from reconciler.layout.superseded import Superseded, load_superseded, same_object
from reconciler.observe.queries import duplicate_seasons_query, season_rows_query
from reconciler.ports import Catalog, CatalogTable, ObjectInfo, ObjectStore, PartitionSpec, QueryEngine, StateStore

__all__ = ["LayoutObserver"]

log = logging.getLogger(__name__)

#: Bump when what the layout plan is a function of changes beyond the code (digested by :func:`code_version`).
_PLAN_VERSION = "layout-plan-1"

#: Tables listed at once on a remote store (each splits its listing 16 ways: within the S3 client's
#: connection pool, ``MAX_POOL_CONNECTIONS``).
_LISTERS = 4


def _season_of(values: Sequence[tuple[str, str]]) -> int | None:
    """The season folder of a partition (None: none, or not a number)."""
    return _folder_season(tuple(values))


@lru_cache(maxsize=1 << 16)
def _folder_season(values: tuple[tuple[str, str], ...]) -> int | None:
    """:func:`_season_of`, once per folder (its objects share it)."""
    v = dict(values).get("season", "")
    return int(v) if v.isdigit() else None


def _rows_in(f: FileObs, seasons: set[int]) -> bool:
    span = row_seasons(f)
    return span is not None and any(span[0] <= s <= span[1] for s in seasons)


def _in_scope(values: Sequence[tuple[str, str]], seasons: set[int]) -> bool:
    s = _season_of(values)
    return s is None or s in seasons


@dataclass
class LayoutObserver:
    """Reads (never writes) what the layout planner needs.

    Attributes:
        store: The object store.
        catalog: The catalog.
        engine: The query engine (for the cheap duplicate census).
        state: The state store (superseded-object records).
        registration: The profile's ``catalog.partition_registration``.
        catalog_kind: ``local`` or ``glue``.
        engine_kind: ``duckdb`` or ``athena``.
        bytes_scanned: Bytes the engine reported scanning (Athena bills by them).
        cache: Footers read by earlier plans (None: read every footer).
        hidden: When the engine reads through the catalog, an engine over the files it misses
            (the duplicate census runs on both).
    """

    store: ObjectStore
    catalog: Catalog
    engine: QueryEngine
    state: StateStore
    registration: str = "batch"
    catalog_kind: str = "local"
    engine_kind: str = "duckdb"
    bytes_scanned: int = 0
    cache: ObservationCache | None = None
    hidden: QueryEngine | None = None
    #: Listings made ahead (remote stores: every table at once), taken by :meth:`_files`.
    _listed: dict[str, list[ObjectInfo]] = field(default_factory=dict)
    #: What :meth:`inputs_key` read, for the observation that follows it: the superseded records,
    #: each table's files cache key and its catalog entry (definition and partitions).
    _superseded: dict[str, Superseded] | None = None
    _keys: dict[str, str] = field(default_factory=dict)
    _catalogs: dict[tuple[str, str], tuple[CatalogTable | None, list[PartitionSpec]]] = field(default_factory=dict)

    def _list_all(self, tables: Sequence[TableDecl]) -> None:
        """List every table ahead (on a remote store, several at once: each waits on S3 page by page)."""
        if is_remote(self.store) and len(tables) > 1:
            with ThreadPoolExecutor(max_workers=min(_LISTERS, len(tables))) as pool:
                listings = list(pool.map(lambda d: list_table(self.store, d), tables))
        else:
            listings = [list_table(self.store, d) for d in tables]
        self._listed = {d.prefix: got for d, got in zip(tables, listings, strict=True)}

    def _catalog_entry(self, decl: TableDecl) -> tuple[CatalogTable | None, list[PartitionSpec]]:
        """The catalog's definition of a table and its registered partitions (as :meth:`inputs_key` read them)."""
        entry = self._catalogs.pop((decl.database, decl.table), None)
        if entry is None:
            table = self.catalog.get_table(decl.database, decl.table)
            parts = [] if table is None else self.catalog.list_partitions(decl.database, decl.table)
            entry = (table, parts)
        return entry

    def _files_key(
        self, decl: TableDecl, seasons: set[int], superseded: dict[str, Superseded], listed: Sequence[ObjectInfo]
    ) -> str:
        """The cache key of a table's observed objects (its listing, the seasons, its superseded records)."""
        mine = sorted((k, repr(r)) for k, r in superseded.items() if k.startswith(decl.prefix))
        return files_key(self.store, decl, sorted(seasons), listed, json.dumps(mine))

    def inputs_key(self, tables: Sequence[TableDecl], seasons: Sequence[int], selectors: Sequence[str]) -> str | None:
        """Read what the layout plan is a function of, and digest it; the observation that follows reuses it.

        The plan depends on each table's objects (key, size, modification time, ETag: the footers
        and the duplicate census are functions of them), its catalog entry, the superseded
        records, the seasons, the selectors and the profile's registration and engine choices. All
        of them are read here (every table listed, the catalog and the state read), so an unchanged
        lake's plan can be answered without reading a footer, decoding a cached table or running
        the census.

        Args:
            tables: The declared tables.
            seasons: Selected seasons.
            selectors: ``--target`` values.

        Returns:
            A hex digest, or None without a cache.
        """
        self._superseded = load_superseded(self.state)
        self._list_all(tables)
        if self.cache is None:
            return None
        wanted = set(seasons)
        parts = []
        for d in tables:
            table, registered = self._catalogs[(d.database, d.table)] = self._catalog_entry(d)
            catalog = None if table is None else [repr(table), sorted((p.values, p.location) for p in registered)]
            key = self._keys[d.prefix] = self._files_key(d, wanted, self._superseded, self._listed[d.prefix])
            parts.append([d.qualified, key, catalog])
        doc = [
            _PLAN_VERSION,
            sorted(wanted),
            list(selectors),
            self.registration,
            self.catalog_kind,
            self.engine_kind,
            self.hidden is not None,
            parts,
        ]
        return hashlib.sha256(json.dumps(doc, default=str).encode()).hexdigest()

    def _files(self, decl: TableDecl, seasons: set[int], superseded: dict[str, Superseded]) -> list[FileObs]:
        """The table's objects in scope, footers read.

        In scope: in a selected season's folder, in no season folder, or in the folder of the
        season before with rows of a selected season (``plays_date`` files the calendar year).
        """
        listed = self._listed.pop(decl.prefix, None)
        key = self._keys.pop(decl.prefix, None)  # both made for this observation, by :meth:`inputs_key`
        if listed is None:
            listed, key = list_table(self.store, decl), None
        if self.cache is None:
            return self._read_files(decl, seasons, superseded, listed)
        # An unchanged table (same objects, seasons and superseded records) is not re-read.
        key = key or self._files_key(decl, seasons, superseded, listed)
        hit = self.cache.result(key)
        if hit is not None:
            try:
                return files_from_table(hit)
            except (KeyError, TypeError, ValueError, pa.ArrowException) as exc:  # not an entry we wrote
                log.warning("observation cache: ignoring a malformed entry for %s (%s)", decl.qualified, exc)
        got = self._read_files(decl, seasons, superseded, listed)
        if not any(f.unreadable for f in got):
            self.cache.put_result(key, files_table(got))
        return got

    def _read_files(
        self, decl: TableDecl, seasons: set[int], superseded: dict[str, Superseded], listed: list[ObjectInfo]
    ) -> list[FileObs]:
        """:meth:`_files` without the table-level cache."""
        files: list[FileObs] = []
        live: list[FileObs] = []
        etags: dict[str, str] = {}
        before = min(seasons) - 1
        for info in listed:
            if info.etag:
                etags[info.key] = info.etag
            f = file_obs(decl, info)
            if not _in_scope(f.partition, seasons | {before}):
                continue
            rec = superseded.get(info.key)
            if rec is not None and same_object(rec, info):
                if _season_of(f.partition) != before:
                    files.append(replace(f, superseded_by=rec.by, replacements=rec.replacements))
            else:
                live.append(f)
        read = read_footers(self.store, live, self.cache, etags, decl.prefix, {o.key for o in listed})
        kept = [f for f in read if _season_of(f.partition) != before or _rows_in(f, seasons)]
        return sorted(files + kept, key=lambda f: f.key)

    def _catalog(self, decl: TableDecl, seasons: set[int], files: Sequence[FileObs]) -> CatalogObs | None:
        """The catalog's table and its partitions in scope.

        A partition of the season before is in scope only where an object in scope lives (its rows
        belong to a selected season); the rest of that season is another plan's business.
        """
        table, registered = self._catalog_entry(decl)
        if table is None:
            return None
        keys = [k for k, _ in table.partition_keys]
        before = min(seasons) - 1
        dirs = {f"{decl.prefix}{f.partition_dir}/" for f in files if _season_of(f.partition) == before}
        parts = tuple(
            RegisteredPartition(values=p.values, location=p.location)
            for p in registered
            if _in_scope(list(zip(keys, p.values, strict=False)), seasons)
            or (p.location if p.location.endswith("/") else p.location + "/") in dirs
        )
        return CatalogObs(
            partition_keys=table.partition_keys, location=table.location, partitions=parts, columns=table.columns
        )

    def _dup_seasons(self, decl: TableDecl, seasons: set[int]) -> set[int | None]:
        sql = duplicate_seasons_query(decl.database, decl.table, key_sql(key_parts(decl.table, decl.key)))
        params = {"season_start": min(seasons), "season_end": max(seasons)}
        found: set[int | None] = set()
        # Duplicates between registered and unregistered partitions are not in either census:
        # with a catalog-reading engine, every season with unregistered rows is read too.
        for engine in (self.engine, self.hidden):
            if engine is None:
                continue
            try:
                res = engine.query(sql, params)
            except QueryError as exc:
                log.info("duplicate census of %s failed (%s); reading every season's keys", decl.qualified, exc)
                return {*seasons, min(seasons) - 1, None}
            self.bytes_scanned += res.bytes_scanned
            found |= {None if s is None else int(s) for s in res.table.column("season").to_pylist()}
        if self.hidden is not None:
            hidden_rows = self.hidden.query(season_rows_query(decl.database, decl.table), params).table
            found |= {None if s is None else int(s) for s in hidden_rows.column("season").to_pylist()}
        return {s for s in found if s is None or s in seasons or s == min(seasons) - 1}

    def _duplicates(
        self, decl: TableDecl, files: list[FileObs], seasons: set[int]
    ) -> tuple[tuple[Overlap, ...], dict[str, int], tuple[str, ...]]:
        live = [f for f in files if not f.superseded_by and not f.unreadable and f.columns]
        if not live or not decl.key:
            return (), {}, ()
        dup_seasons = self._dup_seasons(decl, seasons)
        if not dup_seasons:
            return (), {}, ()
        owners: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        notes = []
        parts = key_parts(decl.table, decl.key)
        for f in live:
            season = _season_of(f.partition)
            if season is not None and season not in dup_seasons:  # rows with no season folder: always
                continue
            rows = object_keys(self.store, f.key, parts)
            if rows is None:
                notes.append(f"{f.key}: lacks a key column ({', '.join(decl.key)}); not checked for duplicates")
                continue
            for k in rows:
                owners[k].append(f.key)
        pairs: Counter[tuple[str, str]] = Counter()
        internal: Counter[str] = Counter()
        for holders in owners.values():
            if len(holders) < 2:
                continue
            counts = Counter(holders)
            for key, n in counts.items():
                if n > 1:
                    internal[key] += n - 1
            for a, b in combinations(sorted(counts), 2):
                pairs[(a, b)] += 1
        overlaps = tuple(Overlap(a, b, n) for (a, b), n in sorted(pairs.items()))
        return overlaps, dict(internal), tuple(notes)

    def observe_table(self, decl: TableDecl, seasons: Sequence[int], superseded: dict[str, Superseded]) -> TableObs:
        """Observe one table.

        Args:
            decl: The table.
            seasons: Selected seasons.
            superseded: Superseded-object records.

        Returns:
            The observation.
        """
        wanted = set(seasons)
        files = self._files(decl, wanted, superseded)
        overlaps: tuple[Overlap, ...] = ()
        internal: dict[str, int] = {}
        notes: tuple[str, ...] = ()
        if decl.dedupe:
            overlaps, internal, notes = self._duplicates(decl, files, wanted)
        return TableObs(
            decl=decl,
            files=tuple(files),
            catalog=self._catalog(decl, wanted, files),
            overlaps=overlaps,
            internal=internal,
            notes=notes,
        )

    def observe(self, tables: Sequence[TableDecl], seasons: Sequence[int]) -> LayoutObservation:
        """Observe every table.

        Args:
            tables: The declared tables.
            seasons: Selected seasons.

        Returns:
            The observation.
        """
        superseded = self._superseded
        if superseded is None:  # not read by :meth:`inputs_key` just before
            superseded = load_superseded(self.state)
            self._list_all(tables)
        reg: Literal["batch", "msck"] = "msck" if self.registration == "msck" else "batch"
        try:
            observed = tuple(self.observe_table(d, seasons, superseded) for d in tables)
        finally:
            # Never reused by a later observation.
            self._listed, self._keys, self._catalogs, self._superseded = {}, {}, {}, None
        return LayoutObservation(
            tables=observed,
            registration=reg,
            msck_available=self.catalog_kind == "glue" and self.engine_kind == "athena",
            catalog_kind=self.catalog_kind,
        )
