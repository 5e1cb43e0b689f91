"""The reconciler's ports: what observation, apply and the CLI work through, each with adapters.

* :mod:`reconciler.ports.backends`: the four backends of a profile (object store, query engine,
  catalog, state store; embedded and AWS adapters), the observation cache, and their bundle.
* :mod:`reconciler.ports.api`: the CBBD client the executor fetches through, and progress.

The planner never sees these; observation reads through them and hands the planner plain data.
"""

from __future__ import annotations

from reconciler.ports.api import (
    QUOTA_META_KEY,
    ApiBodyLike,
    ApiClientLike,
    ApiResponseLike,
    ProgressSink,
)
from reconciler.ports.backends import (
    Backends,
    CachedFooter,
    Catalog,
    CatalogTable,
    LockInfo,
    ObjectInfo,
    ObjectStore,
    ObservationCache,
    PartitionSpec,
    QueryEngine,
    QueryResult,
    StateStore,
    UnitRecord,
)

__all__ = [
    "QUOTA_META_KEY",
    "ApiBodyLike",
    "ApiClientLike",
    "ApiResponseLike",
    "Backends",
    "CachedFooter",
    "Catalog",
    "CatalogTable",
    "LockInfo",
    "ObjectInfo",
    "ObjectStore",
    "ObservationCache",
    "PartitionSpec",
    "ProgressSink",
    "QueryEngine",
    "QueryResult",
    "StateStore",
    "UnitRecord",
]
