"""The sandbox's catalog: every table the specs name, with the partitions the lake holds.

Built after the lake (and its object drift) is written, in ``.reconcile/catalog.sqlite`` beside
the state, the way ``fix_glue_catalog.py`` would register a real lake. With ``--drift`` the
catalog then drifts too (recorded under ``manifest["drift"]``):

* ``catalog_unregistered_partitions``: partitions with data that the catalog lacks;
* ``catalog_orphan_partitions``: registered partitions whose prefix holds nothing;
* ``catalog_partition_keys``: ``fct_lineups`` with the partition keys ``season, asof`` while its
  storage (and its registered partitions) use ``season, date`` (§7: the last writer's layout wins).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

import reconciler
from reconciler.adapters.factory import catalog_path
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.apply.layout_catalog import catalog_lake
from reconciler.config import Profile, load_profile
from reconciler.core.layout_observed import TableDecl
from reconciler.errors import ReconcilerError
from reconciler.observe.layout_tables import declared_tables
from reconciler.ports import Catalog, PartitionSpec
from reconciler.spec.loader import load_specs
from reconciler.spec.models import Spec

__all__ = ["catalog_sandbox", "inject_catalog_drift", "sandbox_tables"]

log = logging.getLogger(__name__)


def _specs(specs_dir: str) -> list[Spec]:
    try:
        return load_specs(specs_dir)
    except ReconcilerError as exc:
        fallback = Path(reconciler.__file__).resolve().parents[1] / "specs"
        log.info("specs in %s not usable (%s); cataloguing the tables of %s", specs_dir, exc, fallback)
        return load_specs(fallback) if fallback.is_dir() else []


def _table(tables: list[TableDecl], name: str) -> TableDecl | None:
    return next((t for t in tables if t.table == name), None)


def _unregister(catalog: Catalog, tables: list[TableDecl], avoid: set[str]) -> list[dict[str, str]]:
    out = []
    for name in ("fct_plays", "lineups_game"):
        t = _table(tables, name)
        if t is None:
            continue
        parts = [p for p in catalog.list_partitions(t.database, t.table) if p.location not in avoid]
        if not parts:
            continue
        p = parts[-1]
        catalog.delete_partitions(t.database, t.table, [p])
        out.append({"table": t.qualified, "partition": p.location[len(t.prefix) :].rstrip("/")})
    return out


def _orphans(catalog: Catalog, tables: list[TableDecl], seasons: list[int]) -> list[dict[str, str]]:
    out = []
    for name, day in (("fct_plays", "07-15"), ("fct_substitutions", "07-16")):
        t = _table(tables, name)
        if t is None or not seasons:
            continue
        season = seasons[-1]
        values = (str(season), f"{season}-{day}")  # mid-July: no game is ever played then
        where = f"season={values[0]}/date={values[1]}"
        catalog.create_partitions(t.database, t.table, [PartitionSpec(values, f"{t.prefix}{where}/")])
        out.append({"table": t.qualified, "partition": where})
    return out


def _flip_keys(catalog: Catalog, tables: list[TableDecl]) -> dict[str, Any]:
    t = _table(tables, "fct_lineups")
    current = catalog.get_table(t.database, t.table) if t is not None else None
    if t is None or current is None:
        return {"kind": "catalog", "skipped": "no fct_lineups table"}
    flipped = (("season", "string"), ("asof", "string"))
    catalog.put_table(replace(current, partition_keys=flipped))
    return {
        "kind": "catalog",
        "table": t.qualified,
        "partition_keys": [k for k, _ in flipped],
        "declared": list(t.partition_keys),
    }


def sandbox_tables(dest: Path) -> tuple[Profile, list[TableDecl]]:
    """The sandbox config's own default profile (whatever ``RECONCILE_PROFILE`` says) and its tables.

    Args:
        dest: The sandbox directory (its ``config.yaml`` is written already).

    Returns:
        The profile and the tables its specs name.
    """
    config_file = dest / "config.yaml"
    default = (yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}).get("default_profile", "local")
    profile = load_profile(config_file, str(default))
    cat = profile.catalog
    return profile, declared_tables(_specs(profile.specs_dir), cat.silver_database, cat.bronze_database)


def catalog_sandbox(dest: Path, store: Any, seasons: list[int], drift: dict[str, Any] | None) -> dict[str, int]:
    """Catalogue a freshly written sandbox lake, then (with ``drift``) make the catalog drift.

    Args:
        dest: The sandbox directory (its ``config.yaml`` is written already).
        store: The sandbox lake.
        seasons: The sandbox's seasons.
        drift: The manifest's drift records to extend, or None for no catalog drift.

    Returns:
        ``{"tables": n, "partitions": m}`` registered before any drift.
    """
    profile, tables = sandbox_tables(dest)
    catalog = LocalCatalog(catalog_path(profile))
    try:
        counts = catalog_lake(store, catalog, tables)
        if drift is not None:
            inject_catalog_drift(catalog, tables, seasons, drift)
    finally:
        catalog.close()
    return counts


def inject_catalog_drift(
    catalog: Catalog, tables: list[TableDecl], seasons: list[int], drift: dict[str, Any]
) -> dict[str, Any]:
    """Make a complete catalog drift: unregister, add orphans, flip ``fct_lineups``'s keys.

    Works on any catalog (the sandbox's SQLite one, or Glue in the moto tests).

    Args:
        catalog: The catalog, with every partition of the lake registered.
        tables: The declared tables.
        seasons: The lake's seasons.
        drift: The manifest's drift records so far (extended in place).

    Returns:
        ``drift``.
    """
    touched = {f"silver/fct_plays/{d['partition']}/" for d in drift.values() if "partition" in d}
    drift["catalog_unregistered_partitions"] = {"kind": "catalog", "partitions": _unregister(catalog, tables, touched)}
    drift["catalog_orphan_partitions"] = {"kind": "catalog", "partitions": _orphans(catalog, tables, seasons)}
    drift["catalog_partition_keys"] = _flip_keys(catalog, tables)
    return drift
