"""Batch sizes shared by the embedded and AWS adapters, so both report the same call counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

__all__ = ["DDB_BATCH_GET", "DDB_BATCH_WRITE", "GLUE_CREATE_BATCH", "GLUE_DELETE_BATCH", "S3_DELETE_BATCH", "chunked"]

T = TypeVar("T")

#: BatchCreatePartition accepts at most 100 partitions per call.
GLUE_CREATE_BATCH = 100
#: BatchDeletePartition accepts at most 25 partitions per call.
GLUE_DELETE_BATCH = 25
#: DeleteObjects accepts at most 1,000 keys per call.
S3_DELETE_BATCH = 1000
#: BatchWriteItem accepts at most 25 items per call.
DDB_BATCH_WRITE = 25
#: BatchGetItem accepts at most 100 keys per call.
DDB_BATCH_GET = 100


def chunked(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items.

    Args:
        items: The items.
        size: The slice size (positive).

    Yields:
        Slices in order.
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]
