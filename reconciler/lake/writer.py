"""Encode and write lake objects: raw gzip JSON Lines and Parquet with declared schemas."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reconciler.errors import LakeError

__all__ = ["RawEncoder", "decode_raw", "encode_parquet", "encode_raw"]


# gzip.compress's own header at level 9 without a timestamp (its OS byte varies by Python version).
_GZIP_HEADER = gzip.compress(b"", mtime=0)[:10]


class RawEncoder:
    """Raw gzip JSON Lines, encoded as records come (one record's text alive at a time).

    The bytes equal ``gzip.compress(text, mtime=0)`` of the whole text: the same header
    (compression level 9, no name, no timestamp), deflate stream and trailer.
    """

    def __init__(self, chunk: int = 1 << 20) -> None:
        """Start an empty object.

        Args:
            chunk: Bytes of lines gathered before they are compressed (one zlib call per chunk,
                which runs without the GIL, instead of one per record).
        """
        self._deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        self._parts: list[bytes] = [_GZIP_HEADER]
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._chunk = chunk
        self._crc = 0
        self._size = 0

    def add(self, record: Mapping[str, Any]) -> None:
        """Append one record as a line (Python's default separators and ASCII escaping, keys in API order).

        Args:
            record: An API record.
        """
        line = (json.dumps(record) + "\n").encode("utf-8")
        self._pending.append(line)
        self._pending_size += len(line)
        if self._pending_size >= self._chunk:
            self._compress()

    def _compress(self) -> None:
        data = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        out = self._deflate.compress(data)
        if out:
            self._parts.append(out)

    def finish(self) -> bytes:
        """The gzip bytes of every record added.

        Returns:
            The object's bytes.
        """
        self._compress()
        self._parts.append(self._deflate.flush())
        self._parts.append(struct.pack("<LL", self._crc, self._size & 0xFFFFFFFF))
        return b"".join(self._parts)


def encode_raw(records: Iterable[Mapping[str, Any]]) -> bytes:
    """Encode API records as raw gzip JSON Lines, as cbbd_etl writes them.

    Python's default separators and ASCII escaping, keys in API order, one record a line.
    The gzip header carries no timestamp, so equal records give equal bytes.

    Args:
        records: API records.

    Returns:
        The gzip bytes.
    """
    encoder = RawEncoder()
    for r in records:
        encoder.add(r)
    return encoder.finish()


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
