"""Count the AWS API calls a command makes, per service and operation, through botocore events.

The factory gives every AWS adapter of a profile one boto3 session and attaches an
:class:`AwsCallCounter` to it before any client is created (clients copy the session's event
hooks when they are made). Each API call, however many HTTP attempts botocore's retries take,
fires ``before-call.<service>.<Operation>`` once and is counted once; a paginator counts a call
per page. The CLI prints the tally with ``--stats`` (``--debug`` logs it when the backends close).

Calls that do not go through botocore are not seen here: the DuckDB engine reads Parquet over S3
with pyarrow's own S3 client (ranged GETs of each file's footer and columns).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

__all__ = ["AwsCallCounter", "format_calls"]


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

    def _seen(self, event_name: str = "", **_: Any) -> None:
        # event_name is "before-call.<service id>.<Operation>", e.g. "before-call.s3.ListObjectsV2".
        parts = event_name.split(".", 2)
        if len(parts) != 3:
            return
        with self._lock:
            self._counts[f"{parts[1]}.{parts[2]}"] += 1

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
