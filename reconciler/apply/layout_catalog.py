"""Catalog writes for layout work: registering partitions, and cataloguing a whole lake.

Partitions are registered with the Catalog port's batch create (Glue ``BatchCreatePartition``,
100 a call), or with ``MSCK REPAIR TABLE`` (:mod:`reconciler.adapters.msck`) when the profile asks
for it and the catalog is Glue behind Athena. :class:`WrittenPartitions` collects what an apply writes
(fetch, rebuild, relayout, dedupe) and registers it at the end, for tables the catalog has, so
that plan → apply → plan stays "No changes" on a catalogued lake.
"""

from __future__ import annotations

import logging
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.layout_observed import TableDecl, in_declared_layout
from reconciler.observe.layout_files import file_obs, list_table
from reconciler.observe.layout_tables import catalog_definition
from reconciler.ports import Catalog, CatalogTable, ObjectStore, PartitionSpec

__all__ = ["Msck", "WrittenPartitions", "catalog_lake", "register_partitions"]

log = logging.getLogger(__name__)


#: Runs ``MSCK REPAIR TABLE`` on (database, table).
Msck = Callable[[str, str], None]


def register_partitions(
    catalog: Catalog,
    database: str,
    table: str,
    parts: Sequence[PartitionSpec],
    *,
    method: str = "batch",
    msck: Msck | None = None,
) -> int:
    """Register partitions of one table.

    Args:
        catalog: The catalog.
        database: Database name.
        table: Table name.
        parts: The partitions.
        method: ``batch`` (BatchCreatePartition) or ``msck`` (needs ``msck``: Athena over Glue).
        msck: Runs MSCK REPAIR TABLE.

    Returns:
        Backend calls made.
    """
    if not parts:
        return 0
    if method == "msck" and msck is not None:
        msck(database, table)
        return 1
    return catalog.create_partitions(database, table, parts)


def _spec_for(table: CatalogTable, key: str) -> PartitionSpec | None:
    """The catalog partition an object belongs to, when its path matches the table's keys."""
    rel = key[len(table.location) :] if key.startswith(table.location) else ""
    segs = [s for s in posixpath.dirname(rel).split("/") if s]
    if not segs or not all("=" in s for s in segs):
        return None
    pairs = [s.split("=", 1) for s in segs]
    if [k.lower() for k, _ in pairs] != [k.lower() for k, _ in table.partition_keys]:
        return None
    return PartitionSpec(values=tuple(v for _, v in pairs), location=table.location + "/".join(segs) + "/")


@dataclass
class WrittenPartitions:
    """Partitions an apply wrote, registered in one go at the end.

    Attributes:
        catalog: The catalog.
        databases: Layer prefix → catalog database (``silver`` → ``cbbd_silver``).
        method: ``batch`` or ``msck``.
        msck: Runs MSCK REPAIR TABLE (Athena over Glue), when the method is ``msck``.
    """

    catalog: Catalog
    databases: Mapping[str, str]
    method: str = "batch"
    msck: Msck | None = None
    _keys: set[str] = field(default_factory=set)

    def add(self, keys: Iterable[str]) -> None:
        """Note objects written (raw and other non-table keys are ignored later).

        Args:
            keys: Object keys.
        """
        self._keys.update(k for k in keys if k.endswith(".parquet"))

    def pending(self) -> int:
        """Distinct partition directories noted and not registered yet.

        Returns:
            Their number.
        """
        return len({k.rsplit("/", 1)[0] for k in self._keys})

    def flush(self) -> int:
        """Register the partitions of every object noted, for tables the catalog has.

        A partition is registered only when the object's path matches the table's partition
        keys; partitions already registered are left as they are.

        Returns:
            Partitions submitted.
        """
        by_table: dict[tuple[str, str], set[str]] = defaultdict(set)
        for key in self._keys:
            parts = key.split("/")
            if len(parts) > 2 and parts[0] in self.databases:
                by_table[(self.databases[parts[0]], parts[1])].add(key)
        self._keys.clear()
        n = 0
        for (database, name), keys in sorted(by_table.items()):
            table = self.catalog.get_table(database, name)
            if table is None:
                log.debug("%s.%s is not in the catalog; %d written objects not registered", database, name, len(keys))
                continue
            specs = {s.values: s for k in keys if (s := _spec_for(table, k)) is not None}
            if not specs:
                continue
            have = {p.values for p in self.catalog.list_partitions(database, name)}
            new = [s for v, s in sorted(specs.items()) if v not in have]
            register_partitions(self.catalog, database, name, new, method=self.method, msck=self.msck)
            n += len(new)
        return n


def catalog_lake(
    store: ObjectStore, catalog: Catalog, tables: Sequence[TableDecl], *, register: bool = True
) -> dict[str, int]:
    """Create every declared table in the catalog and register the partitions storage holds.

    Used by ``reconcile sandbox init``: the sandbox's catalog starts complete, and drift is
    injected afterwards. Only partitions in the declared layout are registered.

    Args:
        store: The object store.
        catalog: The catalog.
        tables: The declared tables.
        register: Register partitions too (else only create the tables).

    Returns:
        ``{"tables": n, "partitions": m}``.
    """
    n_parts = 0
    for decl in tables:
        catalog.put_table(catalog_definition(decl))
        if not register:
            continue
        parts: dict[tuple[str, ...], PartitionSpec] = {}
        for info in list_table(store, decl):
            f = file_obs(decl, info)
            if in_declared_layout(decl, f):
                values = tuple(v for _, v in f.partition)
                parts[values] = PartitionSpec(values, f"{decl.prefix}{f.partition_dir}/")
        catalog.create_partitions(decl.database, decl.table, [parts[v] for v in sorted(parts)])
        n_parts += len(parts)
    return {"tables": len(tables), "partitions": n_parts}
