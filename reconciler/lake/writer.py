"""Encode and write lake objects: raw gzip JSON Lines and Parquet with declared schemas."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reconciler.errors import LakeError
from reconciler.ports import ObjectStore

__all__ = ["decode_parquet", "decode_raw", "encode_parquet", "encode_raw", "put_objects"]


def encode_raw(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Encode API records as raw gzip JSON Lines, as cbbd_etl writes them.

    Python's default separators and ASCII escaping, keys in API order, one record a line.
    The gzip header carries no timestamp, so equal records give equal bytes.

    Args:
        records: API records.

    Returns:
        The gzip bytes.
    """
    body = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
    return gzip.compress(body, mtime=0)


def decode_raw(data: bytes, *, key: str = "") -> list[dict[str, Any]]:
    """Decode a raw object back into records.

    Args:
        data: gzip JSON Lines bytes.
        key: The object key, for error messages.

    Returns:
        The records.

    Raises:
        LakeError: If the object is not gzip JSON Lines of objects.
    """
    try:
        text = gzip.decompress(data).decode("utf-8")
        out = [json.loads(line) for line in text.splitlines() if line.strip()]
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LakeError(f"{key}: unreadable raw object ({exc})") from None
    if not all(isinstance(r, dict) for r in out):
        raise LakeError(f"{key}: raw object holds non-object lines")
    return out


def encode_parquet(table: pa.Table) -> bytes:
    """Encode a table as snappy Parquet bytes.

    Args:
        table: The rows, already cast to the declared schema.

    Returns:
        The Parquet file bytes.
    """
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="snappy")
    return buf.getvalue()


def decode_parquet(data: bytes, *, key: str = "") -> pa.Table:
    """Read Parquet bytes.

    Args:
        data: The file bytes.
        key: The object key, for error messages.

    Returns:
        The table.

    Raises:
        LakeError: If the bytes are not a readable Parquet file.
    """
    try:
        return pq.read_table(io.BytesIO(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise LakeError(f"{key}: unreadable Parquet object ({exc})") from None


def put_objects(store: ObjectStore, objects: Mapping[str, bytes]) -> list[str]:
    """Write several objects (data first; the caller checkpoints afterwards).

    Args:
        store: The object store.
        objects: Key → bytes.

    Returns:
        The keys written.
    """
    for key, data in objects.items():
        store.put(key, data)
    return list(objects)
