"""The catalog of a pipeline sandbox: lagging behind storage, as the real Glue catalog does.

Built from the :class:`~reconciler.sandbox.pipeline_out.WriteLog` of the season jobs, in
``.reconcile/catalog.sqlite``:

* every table cbbd_etl wrote has the definition of its **last writer**
  (``glue_catalog.py:ensure_table``, called after each orchestrator, rebuild and first gap-fill
  write): that file's columns minus the partition names (``orchestrate.py:_update_glue``), Glue
  types by ``_pa_to_glue``, the partition path's key names, all ``string``;
* a table the specs name that no run wrote keeps Terraform's placeholder (one ``placeholder
  string`` column, no partition keys);
* partitions were never registered by the ingest code, only by ``MSCK REPAIR TABLE`` on the
  tables ``scripts/sql/bronze_silver_validation_queries.sql`` lists (bronze ``games`` and
  ``plays_game``; silver ``fct_games``, ``fct_plays``, ``fct_substitutions``, ``fct_lineups``) on
  the repair day: a directory is registered when it held an object that day and its path matches
  the table's partition keys as they were then. Later writes stay unregistered, and so do other
  layouts (``asof=`` under a ``season``/``date`` table, loose files, the root ``asof=``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.adapters.factory import catalog_path
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.ports import CatalogTable, PartitionSpec
from reconciler.sandbox.catalog import sandbox_tables
from reconciler.sandbox.pipeline_out import WriteLog

__all__ = ["MSCK_TABLES", "pipeline_catalog"]

#: The tables the repo's SQL repairs with ``MSCK REPAIR TABLE`` (of those the sandbox writes).
MSCK_TABLES = frozenset(
    {
        ("bronze", "games"),
        ("bronze", "plays_game"),
        ("silver", "fct_games"),
        ("silver", "fct_plays"),
        ("silver", "fct_substitutions"),
        ("silver", "fct_lineups"),
    }
)


def _pairs(path: str) -> list[tuple[str, str]]:
    return [(seg.split("=", 1)[0], seg.split("=", 1)[1]) for seg in path.split("/") if "=" in seg]


def pipeline_catalog(dest: Path, wlog: WriteLog, repair: str) -> dict[str, Any]:
    """Write the sandbox's catalog from the write log.

    Args:
        dest: The sandbox directory (its ``config.yaml`` is written already).
        wlog: The merged write log of every season.
        repair: The repair day.

    Returns:
        The manifest's ``pipeline.catalog`` entry: the repair day, and per table its keys, columns,
        registered partitions and partitions left unregistered.
    """
    profile, declared = sandbox_tables(dest)
    dbs = {"silver": profile.catalog.silver_database, "bronze": profile.catalog.bronze_database}
    catalog = LocalCatalog(catalog_path(profile))
    summary: dict[str, Any] = {"repair_day": repair, "method": "MSCK REPAIR TABLE", "tables": {}}
    try:
        for (layer, table), lw in sorted(wlog.last.items()):
            db = dbs[layer]
            keys = tuple((k, "string") for k in lw.keys)
            catalog.put_table(CatalogTable(db, table, f"{layer}/{table}/", lw.columns, keys))
            parts = [(p, day) for (lay, tab, p), day in wlog.partitions.items() if (lay, tab) == (layer, table)]
            then = wlog.at_repair.get((layer, table))
            repaired = (layer, table) in MSCK_TABLES and then is not None and then.keys == lw.keys
            register, later, other = [], 0, 0
            for path, day in sorted(parts):
                pairs = _pairs(path)
                if [k for k, _ in pairs] != list(lw.keys) or path.count("/") + 1 != len(pairs):
                    other += 1
                elif repaired and day <= repair:
                    register.append(PartitionSpec(tuple(v for _, v in pairs), f"{layer}/{table}/{path}/"))
                else:
                    later += 1
            catalog.create_partitions(db, table, register)
            summary["tables"][f"{db}.{table}"] = {
                "partition_keys": list(lw.keys),
                "columns": len(lw.columns),
                "registered": len(register),
                "unregistered": later,
                "other_layouts": other,
                "repaired": repaired,
            }
        written = {(dbs[layer], table) for layer, table in wlog.last}
        for decl in declared:
            if (decl.database, decl.table) not in written:
                catalog.put_table(
                    CatalogTable(decl.database, decl.table, decl.prefix, (("placeholder", "string"),), ())
                )
                summary["tables"][decl.qualified] = {"placeholder": True}
    finally:
        catalog.close()
    return summary
