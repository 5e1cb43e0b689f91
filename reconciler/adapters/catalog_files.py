"""Which of a table's files an engine that reads through the catalog can see.

Athena reads a partitioned table's registered partitions only, each partition's own directory
(not below it); an unpartitioned table, every file under its location. cbbd_etl never registers
the partitions it writes, so on the real lake much of what S3 holds is invisible to Athena until
it is registered. :func:`catalog_filter` gives the files Athena would read (the DuckDB engine's
``sees: catalog`` mode, an Athena-like view for tests and for the cautious), or the complement:
the files it would miss, which observation reads directly so that data the catalog lacks counts
as present (to register), never as missing (to fetch again).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from typing import Literal

from reconciler.adapters.duckdb_sources import LakeFile
from reconciler.ports import Catalog

__all__ = ["FilesFilter", "catalog_filter", "registered_dirs"]

#: (database, table, its files) → the files an engine reads.
FilesFilter = Callable[[str, str, Sequence[LakeFile]], list[LakeFile]]


def registered_dirs(catalog: Catalog, database: str, table: str) -> set[str] | None:
    """The directories a catalog-reading engine reads for a table.

    Args:
        catalog: The catalog.
        database: The database.
        table: The table.

    Returns:
        The registered partitions' locations (ending with ``/``); an empty set for a table the
        catalog lacks; None for an unpartitioned table (every file under it is read).
    """
    t = catalog.get_table(database, table)
    if t is None:
        return set()
    if not t.partition_keys:
        return None
    return {
        p.location if p.location.endswith("/") else p.location + "/" for p in catalog.list_partitions(database, table)
    }


def catalog_filter(catalog: Catalog, side: Literal["registered", "unregistered"]) -> FilesFilter:
    """A filter keeping the files a catalog-reading engine sees, or those it misses.

    Args:
        catalog: The catalog.
        side: ``registered`` (what Athena reads) or ``unregistered`` (what it misses).

    Returns:
        The filter.
    """

    def keep(database: str, table: str, files: Sequence[LakeFile]) -> list[LakeFile]:
        dirs = registered_dirs(catalog, database, table)
        seen = list(files) if dirs is None else [f for f in files if posixpath.dirname(f.key) + "/" in dirs]
        if side == "registered":
            return seen
        shown = {f.key for f in seen}
        return [f for f in files if f.key not in shown]

    return keep
