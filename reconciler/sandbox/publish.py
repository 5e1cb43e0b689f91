"""Publish a sandbox lake into the object store and catalog of any profile (S3 and Glue included).

``reconcile sandbox init DIR --into-config FILE --into-profile NAME`` builds the lake locally in
``DIR/lake`` as always, then:

1. copies every object, byte for byte and under the same key, into the profile's object store
   (conditional puts: an object already there is never overwritten, and a store that already
   holds any object under the layers being published is refused before the first write, as is
   a catalog that already holds any of the tables: in an account that holds the real lake, an
   empty test bucket must never repoint ``cbbd_silver.fct_plays`` at itself);
2. describes the lake's tables in the profile's catalog, as the pipeline's Terraform and
   ``fix_glue_catalog.py`` would: one external Parquet table per bronze/silver table that has
   files, its columns from the declared schemas (:mod:`reconciler.lake.schemas`) minus the
   partition keys, its partition keys those of the table's files (``season``/``date`` for the
   fan-out tables, ``season`` for ``fct_games``, ``season``/``asof`` for bronze ``games``), all
   typed ``string`` as cbbd_etl does, and every partition of that layout registered. Directories
   under another layout (drift) are left unregistered, as they are in the real catalog.

The same catalog step runs for a plain local sandbox (into ``DIR/.reconcile/catalog.sqlite``),
so a sandbox describes itself identically whichever backend holds it.
"""

from __future__ import annotations

import copy
import logging
import posixpath
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from reconciler.adapters.local_store import LocalStore
from reconciler.config import Profile
from reconciler.errors import LakeError
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES
from reconciler.ports import Catalog, CatalogTable, ObjectStore, PartitionSpec

__all__ = [
    "PUBLISH_WORKERS",
    "PublishResult",
    "TableEntry",
    "athena_type",
    "lake_tables",
    "publish_catalog",
    "publish_objects",
    "publish_sandbox",
    "refuse_existing_tables",
    "sandbox_table_names",
    "write_published_config",
]

log = logging.getLogger(__name__)

#: Concurrent PUTs while copying objects (botocore keeps 10 connections per client).
PUBLISH_WORKERS = 10
_LAYERS = ("bronze", "silver")


def athena_type(dtype: pa.DataType) -> str:
    """The Glue/Athena column type cbbd_etl gives an Arrow type.

    Args:
        dtype: The Arrow type.

    Returns:
        ``bigint``, ``int``, ``double``, ``boolean``, ``timestamp``, or ``string`` for the rest.
    """
    if pa.types.is_int64(dtype):
        return "bigint"
    if pa.types.is_int32(dtype):
        return "int"
    if pa.types.is_float64(dtype):
        return "double"
    if pa.types.is_boolean(dtype):
        return "boolean"
    if pa.types.is_timestamp(dtype):
        return "timestamp"
    return "string"


@dataclass(frozen=True, slots=True)
class TableEntry:
    """One catalog table of a lake and the partitions to register for it.

    Attributes:
        table: The table definition.
        partitions: Its partitions under the table's layout, sorted by values.
        other_layouts: Partition directories under another layout (left unregistered).
    """

    table: CatalogTable
    partitions: tuple[PartitionSpec, ...]
    other_layouts: int = 0


def _schema(store: ObjectStore, layer: str, name: str, first_key: str) -> pa.Schema:
    declared = (SILVER_TABLES if layer == "silver" else BRONZE_TABLES).get(name)
    if declared is not None:
        return declared.schema
    try:
        return pq.read_schema(pa.BufferReader(store.get(first_key)))
    except (OSError, pa.ArrowException) as exc:
        raise LakeError(f"{store.uri(first_key)}: not readable Parquet ({exc})") from None


def _entry(store: ObjectStore, layer: str, database: str, prefix: str) -> TableEntry | None:
    name = prefix.rstrip("/").rsplit("/", 1)[-1]
    dirs: dict[str, tuple[tuple[str, str], ...]] = {}
    first_key = ""
    for obj in store.list_objects(prefix):
        if not obj.key.endswith(".parquet") or posixpath.basename(obj.key).startswith((".", "_")):
            continue
        first_key = first_key or obj.key
        rel = posixpath.dirname(obj.key[len(prefix) :])
        if rel not in dirs:
            segs = rel.split("/") if rel else []
            dirs[rel] = tuple((s.split("=", 1)[0], s.split("=", 1)[1]) for s in segs if "=" in s)
    if not first_key:
        return None
    signatures = Counter(tuple(k for k, _ in parts) for parts in dirs.values())
    keys = max(signatures, key=lambda sig: (signatures[sig], len(sig)))
    lowered = {k.lower() for k in keys}
    columns = tuple(
        (f.name, athena_type(f.type)) for f in _schema(store, layer, name, first_key) if f.name.lower() not in lowered
    )
    parts = sorted(
        (
            PartitionSpec(values=tuple(v for _, v in p), location=f"{prefix}{rel}/")
            for rel, p in dirs.items()
            if tuple(k for k, _ in p) == keys and keys
        ),
        key=lambda p: p.values,
    )
    table = CatalogTable(database, name, prefix, columns, tuple((k, "string") for k in keys))
    return TableEntry(table, tuple(parts), other_layouts=sum(n for sig, n in signatures.items() if sig != keys))


def lake_tables(store: ObjectStore, databases: Mapping[str, str]) -> list[TableEntry]:
    """The catalog tables a lake's bronze and silver files call for.

    Args:
        store: The lake.
        databases: Layer → database (``{"bronze": "cbbd_bronze", "silver": "cbbd_silver"}``).

    Returns:
        One entry per table with Parquet files, by layer then name.
    """
    out: list[TableEntry] = []
    for layer in _LAYERS:
        for prefix in store.list_prefixes(f"{layer}/"):
            entry = _entry(store, layer, databases[layer], prefix)
            if entry is not None:
                out.append(entry)
    return out


def sandbox_table_names(databases: Mapping[str, str]) -> list[tuple[str, str]]:
    """The catalog tables a sandbox may publish, before it is built: every declared table.

    Args:
        databases: Layer → database.

    Returns:
        ``(database, table)`` pairs.
    """
    return [(databases["bronze"], name) for name in sorted(BRONZE_TABLES)] + [
        (databases["silver"], name) for name in sorted(SILVER_TABLES)
    ]


def refuse_existing_tables(catalog: Catalog, names: Iterable[tuple[str, str]], lake: str) -> None:
    """Refuse to publish into a catalog that already holds any of the tables (one GetTable each).

    A sandbox creates its tables and never updates one: updating would repoint a real table (say
    ``cbbd_silver.fct_plays`` at ``s3://hoops-edge/silver/``) at the sandbox's bucket.

    Args:
        catalog: The target catalog.
        names: ``(database, table)`` pairs to publish.
        lake: The target store's root URI (``s3://test-bucket/``), for the message.

    Raises:
        LakeError: Naming the first table that exists, where it points, and the fix.
    """
    for database, name in names:
        table = catalog.get_table(database, name)
        if table is None:
            continue
        root = lake.rstrip("/") + "/"
        if "://" in table.location and not table.location.startswith(root):
            where = f"points at {table.location}, outside this profile's {root}: it looks like a real lake's table"
        else:
            where = f"is at {root}{table.location}"
        raise LakeError(
            f"{database}.{name} already exists in the profile's catalog and {where}; a sandbox only creates "
            "tables, never updates one: drop it, or publish into other databases (catalog.bronze_database, "
            "catalog.silver_database)"
        )


def publish_catalog(entries: Sequence[TableEntry], catalog: Catalog) -> tuple[int, int]:
    """Create each table and register its partitions (:func:`refuse_existing_tables` checked first).

    Args:
        entries: From :func:`lake_tables`.
        catalog: The target catalog.

    Returns:
        Tables written and partitions registered (already registered ones count too).
    """
    partitions = 0
    for e in entries:
        catalog.put_table(e.table)
        if e.partitions:
            catalog.create_partitions(e.table.database, e.table.name, e.partitions)
            partitions += len(e.partitions)
        if e.other_layouts:
            log.info(
                "%s.%s: %d partition dir(s) under another layout left unregistered",
                e.table.database,
                e.table.name,
                e.other_layouts,
            )
    return len(entries), partitions


def _refuse_non_empty(target: ObjectStore, prefixes: Sequence[str]) -> None:
    for prefix in prefixes:
        found = next(iter(target.list_objects(prefix)), None)
        if found is not None:
            raise LakeError(
                f"{target.uri(prefix)} already holds objects (e.g. {found.key}): a sandbox is published only "
                "into an empty bucket or directory, and never overwrites; empty it or choose another"
            )


def publish_objects(source: ObjectStore, target: ObjectStore, *, workers: int = PUBLISH_WORKERS) -> tuple[int, int]:
    """Copy every object of a lake into another store, under the same keys.

    Args:
        source: The sandbox lake.
        target: The store to publish into; it must hold nothing under the source's top-level
            prefixes (``raw/``, ``bronze/``, ``silver/``, ``deadletter/``).
        workers: Concurrent copies.

    Returns:
        Objects and bytes copied.

    Raises:
        LakeError: If the target already holds objects there, or one appears while copying.
    """
    _refuse_non_empty(target, source.list_prefixes(""))
    keys = [o.key for o in source.list_objects("")]

    def copy(key: str) -> int:
        data = source.get(key)
        if not target.put(key, data, if_absent=True):
            raise LakeError(f"{target.uri(key)} appeared while publishing: another writer is using this lake")
        return len(data)

    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        sizes = list(pool.map(copy, keys))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure, start no more copies
    return len(keys), sum(sizes)


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What publishing a sandbox wrote.

    Attributes:
        objects: Objects copied into the store (0 when the store is the sandbox lake itself).
        bytes: Their bytes.
        tables: Catalog tables written.
        partitions: Catalog partitions registered.
        where: The store's location (``s3://bucket/``, or a directory).
    """

    objects: int
    bytes: int
    tables: int
    partitions: int
    where: str


def _same_dir(store: ObjectStore, lake: Path) -> bool:
    return isinstance(store, LocalStore) and store.root == lake.resolve()


def publish_sandbox(lake: Path, profile: Profile, backends: Any | None = None) -> PublishResult:
    """Publish a sandbox lake into a profile's object store and catalog.

    Args:
        lake: The sandbox's ``DIR/lake``.
        profile: The profile to publish into (as written in ``DIR/config.yaml``).
        backends: The profile's open backends (default: opened, checked and closed here).

    Returns:
        What was written.

    Raises:
        LakeError: If the store already holds a lake, or the catalog any of its tables.
        BackendError: If a bucket, Glue database or table is missing (named), or a write fails.
    """
    from reconciler.adapters.factory import open_backends

    own = backends is None
    b = backends if backends is not None else open_backends(profile)
    try:
        if own:
            b.preflight()
        source = LocalStore(lake)
        dbs = {"bronze": profile.catalog.bronze_database, "silver": profile.catalog.silver_database}
        entries = lake_tables(source, dbs)
        # Before the first write: no existing table is ever updated (repointed) by a sandbox.
        refuse_existing_tables(b.catalog, [(e.table.database, e.table.name) for e in entries], b.store.uri(""))
        objects = size = 0
        if not _same_dir(b.store, lake):
            objects, size = publish_objects(source, b.store)
        tables, partitions = publish_catalog(entries, b.catalog)
    finally:
        if own:
            b.close()
    return PublishResult(objects, size, tables, partitions, b.store.uri(""))


def _section(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": model.kind, **model.model_dump(mode="json", exclude_defaults=True)}
    return data


def write_published_config(config_file: Path, name: str, profile: Profile) -> str:
    """Add the published profile to a sandbox's ``config.yaml`` and make it the default.

    The new profile takes its store, engine, catalog and state from ``profile`` (endpoints and
    regions included) and everything else from the sandbox's own profile: the specs, the
    waivers and the loopback API of ``reconcile sim serve``. The local profile stays, for the
    copy in ``DIR/lake``.

    Args:
        config_file: ``DIR/config.yaml`` as written by ``init_sandbox``.
        name: The published profile's name.
        profile: The profile published into.

    Returns:
        The name of the profile for the local copy (``local``, or ``local-dir`` when ``name``
        is ``local``).
    """
    text = config_file.read_text(encoding="utf-8")
    header = "".join(line + "\n" for line in text.splitlines() if line.startswith("#"))
    doc = yaml.safe_load(text)
    local = doc["profiles"].pop(doc["default_profile"])
    local_name = "local-dir" if name == "local" else "local"
    published = copy.deepcopy({k: v for k, v in local.items() if k not in ("store", "engine", "catalog", "state")})
    published.update(
        {
            "store": _section(profile.store),
            "engine": _section(profile.engine),
            "catalog": _section(profile.catalog),
            "state": _section(profile.state),
        }
    )
    doc["default_profile"] = name
    doc["profiles"] = {name: published, local_name: local}
    note = (
        f"# Published with --into-profile {name}: the default profile `{name}` reads the lake from its own "
        f"store and catalog;\n# profile `{local_name}` reads the local copy in lake/.\n"
    )
    body = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)
    config_file.write_text(header + note + body, encoding="utf-8")
    return local_name
