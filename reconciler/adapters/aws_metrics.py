"""Count the AWS API calls a command makes, per service and operation, through botocore events.

The factory gives every AWS adapter of a profile one boto3 session and attaches an
:class:`AwsCallCounter` to it before any client is created (clients copy the session's event
hooks when they are made). Each API call, however many HTTP attempts botocore's retries take,
fires ``before-call.<service>.<Operation>`` once and is counted once; a paginator counts a call
per page. The CLI prints the tally with ``--stats`` (``--debug`` logs it when the backends close).

Calls that do not go through botocore are not seen here: the DuckDB engine reads Parquet over S3
with pyarrow's own S3 client (ranged GETs of each file's footer and columns).

Calls on the apply lock's own objects in the lake (``_reconcile/locks/``) are counted apart, as
``s3.<Operation>.lock``, so that the lake's data calls (and the rule that nothing is deleted
without ``--allow-delete``) read plainly.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["LOCK_MARK", "AwsCallCounter", "format_calls", "is_lock_request"]


def format_calls(calls: Mapping[str, int]) -> str:
    """The one-line form of a tally: ``s3.ListObjectsV2=3, glue.GetPartitions=1``.

    Args:
        calls: ``service.Operation`` → count.

    Returns:
        The counts sorted by service then operation, with the total; ``none`` when empty.
    """
    if not calls:
        return "none"
    parts = [f"{name}={n:,}" for name, n in sorted(calls.items())]
    return ", ".join(parts) + f" (total {sum(calls.values()):,})"


#: Where the apply lock keeps its lease objects (reconciler.apply.lake_lock.LOCK_PREFIX).
LOCK_MARK = "_reconcile/locks/"


def is_lock_request(request: Any) -> bool:
    """Whether an S3 request (botocore's request dict) is about the lake lock's objects only."""
    if not isinstance(request, Mapping):
        return False
    query = request.get("query_string") or {}
    prefix = str(query.get("prefix", "")) if isinstance(query, Mapping) else ""
    if LOCK_MARK in str(request.get("url_path", "")) or LOCK_MARK in prefix:
        return True
    body = request.get("body")
    if isinstance(body, bytes) and b"<Delete" in body:
        keys = [k.split(b"</Key>")[0] for k in body.split(b"<Key>")[1:]]
        return bool(keys) and all(LOCK_MARK.encode() in k for k in keys)
    return False


class AwsCallCounter:
    """A thread-safe tally of botocore API calls by ``service.Operation``."""

    def __init__(self) -> None:
        """Start at zero."""
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, target: Any) -> AwsCallCounter:
        """Count the calls of a boto3 session (clients created afterwards) or of one client.

        Args:
            target: A ``boto3.session.Session`` or a botocore client.

        Returns:
            This counter.
        """
        events = target.meta.events if hasattr(target, "meta") else target.events
        events.register("before-call", self._seen)
        return self

    def _seen(self, event_name: str = "", params: Any = None, **_: Any) -> None:
        # event_name is "before-call.<service id>.<Operation>", e.g. "before-call.s3.ListObjectsV2".
        parts = event_name.split(".", 2)
        if len(parts) != 3:
            return
        name = f"{parts[1]}.{parts[2]}"
        if parts[1] == "s3" and is_lock_request(params):
            name += ".lock"
        with self._lock:
            self._counts[name] += 1

    def counts(self) -> dict[str, int]:
        """A snapshot of the tally.

        Returns:
            ``service.Operation`` → calls, sorted by name.
        """
        with self._lock:
            return dict(sorted(self._counts.items()))

    def __getitem__(self, name: str) -> int:
        """Calls of one ``service.Operation`` so far (0 if none)."""
        with self._lock:
            return self._counts.get(name, 0)

    @property
    def total(self) -> int:
        """All calls so far."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Forget every call counted so far."""
        with self._lock:
            self._counts.clear()

    def __str__(self) -> str:
        """``AWS calls: s3.ListObjectsV2=3, ... (total N)``."""
        return "AWS calls: " + format_calls(self.counts())
