"""Open the four backends a profile chooses: object store, query engine, catalog, state store.

Each port's adapter is chosen independently, so S3 + Glue + DynamoDB with DuckDB as the engine
is as valid as the all-local or all-AWS profiles. The embedded catalog lives in
``catalog.sqlite`` beside the state database (or, when state is in DynamoDB, in ``.reconcile/``
beside the config file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config import Profile
from reconciler.errors import ConfigError
from reconciler.ports import Catalog, ObjectStore, QueryEngine, StateStore

__all__ = ["Backends", "catalog_path", "open_backends"]

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"


@dataclass(frozen=True, slots=True)
class Backends:
    """The four open backends of a profile.

    Attributes:
        store: The object store.
        engine: The query engine.
        catalog: The table catalog.
        state: The state store.
    """

    store: ObjectStore
    engine: QueryEngine
    catalog: Catalog
    state: StateStore

    def close(self) -> None:
        """Close every backend (errors on one do not stop the others)."""
        for part in (self.engine, self.catalog, self.state):
            _close(part)


def _close(obj: Any) -> None:
    close = getattr(obj, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as exc:  # closing must not mask the error that made us close
        log.warning("closing %s failed: %s", type(obj).__name__, exc)


def catalog_path(profile: Profile) -> Path:
    """Where the embedded catalog of a profile lives.

    Args:
        profile: The profile.

    Returns:
        ``<state dir>/catalog.sqlite``, or ``<config dir>/.reconcile/catalog.sqlite`` when the
        state is not in SQLite.
    """
    if profile.state.kind == "sqlite" and profile.state.path:
        return Path(profile.state.path).parent / CATALOG_FILE
    base = Path(profile.config_file).parent if profile.config_file else Path.cwd()
    return base / ".reconcile" / CATALOG_FILE


def _store(profile: Profile) -> ObjectStore:
    settings = profile.store
    if settings.kind == "local":
        from reconciler.adapters.local_store import LocalStore

        assert settings.path is not None  # guaranteed by StoreSettings
        return LocalStore(settings.path)
    from reconciler.adapters.s3_store import S3Store

    return S3Store.from_settings(settings)


def _engine(profile: Profile, store: ObjectStore) -> QueryEngine:
    if profile.engine.kind == "duckdb":
        from reconciler.adapters.duckdb_engine import DuckDBEngine

        return DuckDBEngine.from_settings(store, profile.engine, profile.catalog)
    from reconciler.adapters.athena_engine import AthenaEngine

    if profile.store.kind != "s3":
        raise ConfigError(f"profiles.{profile.name}.engine: athena reads S3; the store is local")
    return AthenaEngine.from_settings(profile.engine, profile.catalog)


def _catalog(profile: Profile) -> Catalog:
    if profile.catalog.kind == "local":
        from reconciler.adapters.local_catalog import LocalCatalog

        return LocalCatalog(catalog_path(profile))
    from reconciler.adapters.glue_catalog import GlueCatalog

    if profile.store.kind != "s3" or not profile.store.bucket:
        raise ConfigError(f"profiles.{profile.name}.catalog: glue locations are s3:// URIs; use an s3 store")
    return GlueCatalog.from_settings(profile.catalog, profile.store.bucket)


def _state(profile: Profile) -> StateStore:
    if profile.state.kind == "sqlite":
        from reconciler.adapters.sqlite_state import SqliteState

        return SqliteState.from_settings(profile.state)
    from reconciler.adapters.dynamo_state import DynamoState

    return DynamoState.from_settings(profile.state)


def open_backends(profile: Profile) -> Backends:
    """Open the store, engine, catalog and state a profile chooses.

    Args:
        profile: The profile.

    Returns:
        The backends; call :meth:`Backends.close` when done.

    Raises:
        ConfigError: If the combination is impossible (Athena or Glue over a local store).
        LakeError: If a local lake directory does not exist.
        BackendError: If a backend cannot be opened.
    """
    opened: list[Any] = []
    try:
        store = _store(profile)
        opened.append(store)
        engine = _engine(profile, store)
        opened.append(engine)
        catalog = _catalog(profile)
        opened.append(catalog)
        state = _state(profile)
        opened.append(state)
    except BaseException:
        for obj in reversed(opened):
            _close(obj)
        raise
    log.debug(
        "backends: store=%s engine=%s catalog=%s state=%s",
        profile.store.kind,
        profile.engine.kind,
        profile.catalog.kind,
        profile.state.kind,
    )
    return Backends(store=store, engine=engine, catalog=catalog, state=state)
