"""The duplicate census of a table: the natural keys a full scan sees in two rows, and where.

A cheap Athena-dialect query first finds the seasons (folders) with any duplicate key at all; only
there are the key columns of the live objects read, to say which objects hold which duplicates.
The query's text names what it reads (:func:`census_tag`): Athena reuses the result of the same
text for up to ``result_reuse_minutes``, which must never answer for a table that changed since.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from itertools import combinations
from typing import Any

from reconciler.core.layout_observed import FileObs, Overlap, TableDecl
from reconciler.errors import QueryError
from reconciler.lake.fingerprint import listing_fingerprint
from reconciler.lake.keys import key_parts, key_sql
from reconciler.observe.layout_files import object_keys
from reconciler.observe.queries import duplicate_seasons_query, season_rows_query
from reconciler.ports import CatalogTable, ObjectInfo, ObjectStore, PartitionSpec, QueryEngine

__all__ = ["Census", "catalog_doc", "census_tag", "library_versions", "season_of"]

log = logging.getLogger(__name__)


def season_of(values: Sequence[tuple[str, str]]) -> int | None:
    """The season folder of a partition (None: none, or not a number).

    Args:
        values: The partition's (key, value) pairs.

    Returns:
        The season, or None.
    """
    return _folder_season(tuple(values))


@lru_cache(maxsize=1 << 16)
def _folder_season(values: tuple[tuple[str, str], ...]) -> int | None:
    """:func:`season_of`, once per folder (its objects share it)."""
    v = dict(values).get("season", "")
    return int(v) if v.isdigit() else None


@lru_cache(maxsize=1)
def library_versions() -> str:
    """The versions of the libraries whose answers the layout plan is made of (pyarrow, DuckDB)."""
    out = []
    for lib in ("pyarrow", "duckdb"):
        try:
            out.append(f"{lib} {metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            out.append(f"{lib} -")
    return ", ".join(out)


def census_tag(
    decl: TableDecl, listed: Sequence[ObjectInfo], entry: tuple[CatalogTable | None, list[PartitionSpec]]
) -> str:
    """What a table's duplicate census reads, digested: its objects and its catalog entry.

    Athena reuses the result of the same query text for up to ``result_reuse_minutes``; a census
    naming this digest is reused only while the table is unchanged. A catalog that points outside
    the table's prefix (where the listing cannot see a change) gets a tag of its own every time.
    """
    table, registered = entry
    locations = [p.location for p in registered] + ([table.location] if table is not None else [])
    if any(loc and not loc.startswith(decl.prefix) for loc in locations):
        return uuid.uuid4().hex
    fp = listing_fingerprint((o.key, o.size, o.mtime, o.etag or "") for o in listed)
    return hashlib.sha256(json.dumps([fp, catalog_doc(entry)]).encode()).hexdigest()[:32]


def catalog_doc(entry: tuple[CatalogTable | None, list[PartitionSpec]]) -> list[Any] | None:
    """A table's catalog entry (definition and registered partitions) as JSON-able text, for digests.

    Args:
        entry: The definition (None: no table) and its partitions.

    Returns:
        The document, or None when the catalog has no such table.
    """
    table, registered = entry
    return None if table is None else [repr(table), sorted((p.values, p.location) for p in registered)]


@dataclass
class Census:
    """Runs the duplicate census of tables (read-only).

    Attributes:
        store: The object store (key columns of the objects where duplicates are).
        engine: The query engine.
        hidden: When the engine reads through the catalog, an engine over the files it misses.
        bytes_scanned: Bytes the engines reported scanning (Athena bills by them).
        exact: False once a census query failed and every season's keys were read instead (the
            same overlaps, with notes a census would not give).
    """

    store: ObjectStore
    engine: QueryEngine
    hidden: QueryEngine | None = None
    bytes_scanned: int = 0
    exact: bool = True

    def seasons(self, decl: TableDecl, seasons: set[int], tag: str) -> set[int | None]:
        """The season folders (None: rows with no season folder) holding a row of a duplicated key.

        Args:
            decl: The table.
            seasons: Selected seasons.
            tag: :func:`census_tag` of the table.

        Returns:
            The seasons, of the selected ones and the season before.
        """
        # The tag names what the census reads: Athena reuses a result only for the same query text.
        census = duplicate_seasons_query(decl.database, decl.table, key_sql(key_parts(decl.table, decl.key)))
        sql = f"/* reconcile census {tag} */\n{census}"
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
                self.exact = False
                return {*seasons, min(seasons) - 1, None}
            self.bytes_scanned += res.bytes_scanned
            found |= {None if s is None else int(s) for s in res.table.column("season").to_pylist()}
        if self.hidden is not None:
            hidden_rows = self.hidden.query(season_rows_query(decl.database, decl.table), params).table
            found |= {None if s is None else int(s) for s in hidden_rows.column("season").to_pylist()}
        return {s for s in found if s is None or s in seasons or s == min(seasons) - 1}

    def duplicates(
        self, decl: TableDecl, files: list[FileObs], seasons: set[int], tag: str
    ) -> tuple[tuple[Overlap, ...], dict[str, int], tuple[str, ...]]:
        """Which live objects hold which duplicated keys, where the census found any.

        Args:
            decl: The table.
            files: Its objects in scope, footers read.
            seasons: Selected seasons.
            tag: :func:`census_tag` of the table.

        Returns:
            Overlapping object pairs, keys repeated within one object, and notes.
        """
        live = [f for f in files if not f.superseded_by and not f.unreadable and f.columns]
        if not live or not decl.key:
            return (), {}, ()
        dup_seasons = self.seasons(decl, seasons, tag)
        if not dup_seasons:
            return (), {}, ()
        owners: dict[tuple[Any, ...], list[str]] = defaultdict(list)
        notes = []
        parts = key_parts(decl.table, decl.key)
        for f in live:
            season = season_of(f.partition)
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
