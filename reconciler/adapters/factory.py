"""Open the four backends a profile chooses: object store, query engine, catalog, state store.

Each port's adapter is chosen independently, so S3 + Glue + DynamoDB with DuckDB as the engine
is as valid as the all-local or all-AWS profiles. The embedded catalog lives in
``catalog.sqlite`` beside the state database (or, when state is in DynamoDB, in ``.reconcile/``
beside the config file).

All AWS adapters of a profile share one boto3 session, to which an
:class:`~reconciler.adapters.aws_metrics.AwsCallCounter` is attached: ``Backends.aws_calls``
tallies every AWS API call the command makes. :meth:`Backends.preflight` checks that the
bucket, Glue databases and checkpoint table exist before a command starts work, so a missing
resource is one clear line rather than a failure halfway through.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.adapters.aws_metrics import AwsCallCounter
from reconciler.adapters.obs_cache import ObservationCache
from reconciler.config import Profile
from reconciler.errors import ConfigError
from reconciler.ports import Catalog, ObjectStore, QueryEngine, StateStore

__all__ = ["Backends", "cache_path", "catalog_path", "open_backends", "spool_path", "uses_aws"]

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
        aws_calls: The tally of AWS API calls, or None when no port is on AWS.
        cache: The local observation cache, or None when the profile disables it.
        hidden: When the engine reads through the catalog (Athena, or DuckDB with ``sees:
            catalog``): an embedded engine over the files it misses (partitions the catalog lacks),
            so that observation sees the lake as it holds data. None otherwise.
        session: The boto3 session the AWS adapters share (None when no port is on AWS).
    """

    store: ObjectStore
    engine: QueryEngine
    catalog: Catalog
    state: StateStore
    aws_calls: AwsCallCounter | None = None
    cache: ObservationCache | None = None
    hidden: QueryEngine | None = None
    session: Any = None

    def preflight(self) -> None:
        """Check that every AWS resource the profile names exists and is reachable.

        One cheap call each, for the AWS parts the profile uses: HeadBucket, GetDatabase per Glue
        database, DescribeTable (which also checks the checkpoint table's key schema), GetWorkGroup
        when the engine is Athena. Embedded adapters have nothing to check.

        Raises:
            BackendError: Naming the missing resource, or the missing credentials, and the fix.
        """
        for part in (self.store, self.catalog, self.state, self.engine):
            check = getattr(part, "check", None)
            if check is not None:
                check()

    def close(self) -> None:
        """Close every backend (errors on one do not stop the others)."""
        for part in (self.engine, self.hidden, self.catalog, self.state, self.cache):
            _close(part)
        if self.aws_calls is not None and self.aws_calls.total:
            log.debug("%s", self.aws_calls)


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


def cache_path(profile: Profile) -> Path:
    """Where the observation cache of a profile lives.

    Args:
        profile: The profile.

    Returns:
        ``cache.path`` when set; else ``cache/`` beside the embedded catalog.
    """
    if profile.cache.path:
        return Path(profile.cache.path)
    return catalog_path(profile).parent / "cache"


def spool_path(profile: Profile) -> Path:
    """Where apply spools fetched responses until they are written (:mod:`reconciler.apply.spool`).

    Args:
        profile: The profile.

    Returns:
        ``spool/`` beside the embedded catalog (local disk, whatever the profile's lake is).
    """
    return catalog_path(profile).parent / "spool"


def uses_aws(profile: Profile) -> bool:
    """Whether any port of a profile is an AWS service.

    Args:
        profile: The profile.

    Returns:
        True for an S3 store, Athena engine, Glue catalog or DynamoDB state.
    """
    return (
        profile.store.kind == "s3"
        or profile.engine.kind == "athena"
        or profile.catalog.kind == "glue"
        or profile.state.kind == "dynamodb"
    )


def _store(profile: Profile, session: Any) -> ObjectStore:
    settings = profile.store
    if settings.kind == "local":
        from reconciler.adapters.local_store import LocalStore

        assert settings.path is not None  # guaranteed by StoreSettings
        return LocalStore(settings.path)
    from reconciler.adapters.s3_store import S3Store

    return S3Store.from_settings(settings, session=session)


def _engine(
    profile: Profile, store: ObjectStore, catalog: Catalog, session: Any, cache: ObservationCache | None
) -> QueryEngine:
    if profile.engine.kind == "duckdb":
        from reconciler.adapters.catalog_files import catalog_filter
        from reconciler.adapters.duckdb_engine import DuckDBEngine

        seen = catalog_filter(catalog, "registered") if profile.engine.sees == "catalog" else None
        return DuckDBEngine.from_settings(store, profile.engine, profile.catalog, cache, seen)
    from reconciler.adapters.athena_engine import AthenaEngine

    if profile.store.kind != "s3":
        raise ConfigError(f"profiles.{profile.name}.engine: athena reads S3; the store is local")
    return AthenaEngine.from_settings(profile.engine, profile.catalog, session=session)


def _hidden(
    profile: Profile, store: ObjectStore, catalog: Catalog, cache: ObservationCache | None
) -> QueryEngine | None:
    """An embedded engine over what a catalog-reading engine misses (None when the engine reads every file)."""
    if profile.engine.kind == "duckdb" and profile.engine.sees == "files":
        return None
    from reconciler.adapters.catalog_files import catalog_filter
    from reconciler.adapters.duckdb_engine import DuckDBEngine

    return DuckDBEngine.from_settings(
        store, profile.engine, profile.catalog, cache, catalog_filter(catalog, "unregistered")
    )


def _catalog(profile: Profile, session: Any) -> Catalog:
    if profile.catalog.kind == "local":
        from reconciler.adapters.local_catalog import LocalCatalog

        return LocalCatalog(catalog_path(profile))
    from reconciler.adapters.glue_catalog import GlueCatalog

    if profile.store.kind != "s3" or not profile.store.bucket:
        raise ConfigError(f"profiles.{profile.name}.catalog: glue locations are s3:// URIs; use an s3 store")
    return GlueCatalog.from_settings(profile.catalog, profile.store.bucket, session=session)


def _state(profile: Profile, session: Any) -> StateStore:
    if profile.state.kind == "sqlite":
        from reconciler.adapters.sqlite_state import SqliteState

        return SqliteState.from_settings(profile.state)
    from reconciler.adapters.dynamo_state import DynamoState

    return DynamoState.from_settings(profile.state, session=session)


def _aws_session(profile: Profile) -> tuple[Any, AwsCallCounter | None]:
    if not uses_aws(profile):
        return None, None
    from reconciler.adapters.aws_session import make_session

    # No region here: each adapter resolves its own (profile section, AWS_REGION, AWS profile).
    session = make_session(None, f"profile {profile.name}")
    return session, AwsCallCounter().attach(session)


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
    session, calls = _aws_session(profile)
    cache = (
        ObservationCache(cache_path(profile), max_bytes=profile.cache.max_mb * 1024 * 1024)
        if profile.cache.enabled
        else None
    )
    try:
        store = _store(profile, session)
        opened.append(store)
        if cache is not None and profile.cache.shared:
            from reconciler.adapters.shared_cache import SharedCache

            cache.shared = SharedCache(store, profile.cache.shared)
        catalog = _catalog(profile, session)
        opened.append(catalog)
        engine = _engine(profile, store, catalog, session, cache)
        opened.append(engine)
        hidden = _hidden(profile, store, catalog, cache)
        opened.append(hidden)
        state = _state(profile, session)
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
    return Backends(
        store=store,
        engine=engine,
        catalog=catalog,
        state=state,
        aws_calls=calls,
        cache=cache,
        hidden=hidden,
        session=session,
    )
