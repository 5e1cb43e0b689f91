"""Observe the layout of every table the specs name: storage, footers, catalog, duplicates.

Read-only. For each table, in bronze and silver:

1. list its Parquet objects (those of the selected seasons, and those with no season in their
   path) and mark the ones recorded as superseded (pending delete);
2. read the footer of every live object (rows and schema; never the data);
3. read the catalog's definition and registered partitions;
4. silver only: find duplicate natural keys, as a full scan sees them (any layout, any types):
   :mod:`reconciler.observe.layout_census`.

:meth:`LayoutObserver.inputs_key` digests everything the layout plan is a function of, so that an
unchanged lake's plan is answered from the observation cache (:mod:`reconciler.observe.layout_plan_cache`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

import pyarrow as pa

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
from reconciler.lake.fingerprint import code_version
from reconciler.observe.layout_census import Census, catalog_doc, census_tag, library_versions, season_of
from reconciler.observe.layout_files import (
    file_obs,
    files_from_table,
    files_key,
    files_table,
    is_remote,
    list_table,
    read_footers,
)
from reconciler.observe.layout_superseded import Superseded, load_superseded, same_object
from reconciler.ports import (
    Catalog,
    CatalogTable,
    ObjectInfo,
    ObjectStore,
    ObservationCache,
    PartitionSpec,
    QueryEngine,
    StateStore,
)

__all__ = ["LayoutObserver"]

log = logging.getLogger(__name__)

#: Bump when the layout plan comes to depend on more than :meth:`LayoutObserver.inputs_key` digests.
_PLAN_VERSION = "layout-plan-1"

#: Tables listed at once on a remote store (each splits its listing 16 ways: within the S3 client's
#: connection pool, ``MAX_POOL_CONNECTIONS``).
_LISTERS = 4


def _rows_in(f: FileObs, seasons: set[int]) -> bool:
    span = row_seasons(f)
    return span is not None and any(span[0] <= s <= span[1] for s in seasons)


def _in_scope(values: Sequence[tuple[str, str]], seasons: set[int]) -> bool:
    s = season_of(values)
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
    cache: ObservationCache | None = None
    hidden: QueryEngine | None = None
    #: Listings made ahead (remote stores: every table at once), taken by :meth:`_files`.
    _listed: dict[str, list[ObjectInfo]] = field(default_factory=dict)
    #: What :meth:`inputs_key` read, for the observation that follows it: the superseded records,
    #: each table's files cache key and its catalog entry (definition and partitions).
    _superseded: dict[str, Superseded] | None = None
    _keys: dict[str, str] = field(default_factory=dict)
    _catalogs: dict[tuple[str, str], tuple[CatalogTable | None, list[PartitionSpec]]] = field(default_factory=dict)
    census: Census = field(init=False)

    def __post_init__(self) -> None:
        """The duplicate census runs on the observer's engines."""
        self.census = Census(store=self.store, engine=self.engine, hidden=self.hidden)

    @property
    def bytes_scanned(self) -> int:
        """Bytes the engines reported scanning for the census (Athena bills by them)."""
        return self.census.bytes_scanned

    @property
    def census_exact(self) -> bool:
        """False once a census failed and every season's keys were read instead (not a plan to keep)."""
        return self.census.exact

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
        if self.cache is None:
            return None
        self._superseded = load_superseded(self.state)
        self._list_all(tables)
        wanted = set(seasons)
        parts = []
        for d in tables:
            entry = self._catalogs[(d.database, d.table)] = self._catalog_entry(d)
            key = self._keys[d.prefix] = self._files_key(d, wanted, self._superseded, self._listed[d.prefix])
            parts.append([d.qualified, key, catalog_doc(entry)])
        doc = [
            _PLAN_VERSION,
            code_version(),
            # The footers' column types are pyarrow's words, the census DuckDB's answer.
            library_versions(),
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
                if season_of(f.partition) != before:
                    files.append(replace(f, superseded_by=rec.by, replacements=rec.replacements))
            else:
                live.append(f)
        read = read_footers(self.store, live, self.cache, etags, decl.prefix, {o.key for o in listed})
        kept = [f for f in read if season_of(f.partition) != before or _rows_in(f, seasons)]
        return sorted(files + kept, key=lambda f: f.key)

    def _catalog(
        self,
        decl: TableDecl,
        seasons: set[int],
        files: Sequence[FileObs],
        entry: tuple[CatalogTable | None, list[PartitionSpec]],
    ) -> CatalogObs | None:
        """The catalog's table and its partitions in scope.

        A partition of the season before is in scope only where an object in scope lives (its rows
        belong to a selected season); the rest of that season is another plan's business.
        """
        table, registered = entry
        if table is None:
            return None
        keys = [k for k, _ in table.partition_keys]
        before = min(seasons) - 1
        dirs = {f"{decl.prefix}{f.partition_dir}/" for f in files if season_of(f.partition) == before}
        parts = tuple(
            RegisteredPartition(values=p.values, location=p.location)
            for p in registered
            if _in_scope(list(zip(keys, p.values, strict=False)), seasons)
            or (p.location if p.location.endswith("/") else p.location + "/") in dirs
        )
        return CatalogObs(
            partition_keys=table.partition_keys, location=table.location, partitions=parts, columns=table.columns
        )

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
        listed = self._listed.get(decl.prefix)
        if listed is None:
            listed = self._listed[decl.prefix] = list_table(self.store, decl)
        entry = self._catalog_entry(decl)
        # Only the census needs the tag (a digest of the listing): not worked out for other tables.
        tag = census_tag(decl, listed, entry) if decl.dedupe else ""
        files = self._files(decl, wanted, superseded)
        overlaps: tuple[Overlap, ...] = ()
        internal: dict[str, int] = {}
        notes: tuple[str, ...] = ()
        if decl.dedupe:
            overlaps, internal, notes = self.census.duplicates(decl, files, wanted, tag)
        return TableObs(
            decl=decl,
            files=tuple(files),
            catalog=self._catalog(decl, wanted, files, entry),
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
            if is_remote(self.store) and len(tables) > 1:
                self._list_all(tables)  # each listing waits on S3 page by page: list them at once
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
