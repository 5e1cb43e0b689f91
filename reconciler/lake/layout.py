"""Object keys and partition layouts of the cbbd_etl lake (``cbbd_etl_lake.md`` §3).

Pure functions only: the same inputs always give the same key, so a re-fetch replaces its own
earlier write instead of adding a duplicate.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "format_layout",
    "hash8",
    "is_data_object",
    "layout_keys",
    "param_hash",
    "parse_partition_path",
    "partition_pairs",
    "raw_key",
    "table_key",
]

_FIELD = re.compile(r"\{(\w+)\}")


def param_hash(params: Mapping[str, Any]) -> str:
    """SHA-256 of a parameter dict, serialised exactly as cbbd_etl does.

    Keys sorted, Python's default separators, ASCII escaping, ``str`` for non-JSON values.

    Args:
        params: The full call parameters, path parameters included (integer ids stay ints).

    Returns:
        The 64-hex digest (the checkpoint key); its first 8 characters are :func:`hash8`.
    """
    text = json.dumps(dict(params), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash8(params: Mapping[str, Any]) -> str:
    """The 8-hex part name of a call (``part-<hash8>``).

    Args:
        params: The call parameters.

    Returns:
        The first 8 hex characters of :func:`param_hash`.
    """
    return param_hash(params)[:8]


@lru_cache(maxsize=256)
def layout_keys(layout: str) -> tuple[str, ...]:
    """The partition key names of a layout template.

    Args:
        layout: A template such as ``season={season}/date={date}``.

    Returns:
        The key names in order, e.g. ``("season", "date")``.
    """
    return tuple(seg.split("=", 1)[0] for seg in layout.split("/") if seg)


def format_layout(layout: str, values: Mapping[str, Any]) -> str:
    """Fill a layout template.

    Args:
        layout: A template such as ``season={season}/date={date}``.
        values: The partition values.

    Returns:
        The partition path, e.g. ``season=2025/date=2024-12-01``.

    Raises:
        KeyError: If a template field has no value.
    """
    return _FIELD.sub(lambda m: str(values[m.group(1)]), layout)


def parse_partition_path(path: str) -> dict[str, str]:
    """Parse the ``key=value`` segments of a path, ignoring other segments.

    Args:
        path: e.g. ``silver/fct_plays/season=2025/date=2024-12-01/part-1.parquet``.

    Returns:
        The partition values in path order, e.g. ``{"season": "2025", "date": "2024-12-01"}``.
    """
    out: dict[str, str] = {}
    for seg in path.split("/"):
        if "=" in seg:
            k, v = seg.split("=", 1)
            out[k] = v
    return out


def is_data_object(key: str) -> bool:
    """Whether readers (Athena, DuckDB) count an object as table data.

    Args:
        key: The object key.

    Returns:
        True for ``*.parquet`` objects that are not hidden (a name starting ``.`` or ``_``).
    """
    name = posixpath.basename(key)
    return name.endswith(".parquet") and not name.startswith((".", "_"))


def partition_pairs(prefix: str, key: str) -> tuple[tuple[str, str], ...]:
    """The ``key=value`` directories between a table prefix and one of its objects.

    Args:
        prefix: The table prefix, ending with ``/`` (``silver/fct_plays/``).
        key: An object key under it.

    Returns:
        ``(key, value)`` pairs in path order (a segment starting with ``=`` is not one).
    """
    return _dir_pairs(posixpath.dirname(key[len(prefix) :]))


@lru_cache(maxsize=1 << 16)
def _dir_pairs(rel_dir: str) -> tuple[tuple[str, str], ...]:
    """:func:`partition_pairs` of a directory (a folder's many objects share it)."""
    return tuple(
        (seg.split("=", 1)[0], seg.split("=", 1)[1]) for seg in rel_dir.split("/") if "=" in seg and seg[0] != "="
    )


def raw_key(raw_dir: str, ingested_at: str, params: Mapping[str, Any]) -> str:
    """The raw object key of a call: ``raw/<raw_dir>/ingested_at=D/part-<hash8>.json.gz``.

    Args:
        raw_dir: e.g. ``plays/game``.
        ingested_at: The UTC ingest date ``YYYY-MM-DD``.
        params: The call parameters.

    Returns:
        The key.
    """
    return f"raw/{raw_dir}/ingested_at={ingested_at}/part-{hash8(params)}.json.gz"


def table_key(layer: str, table: str, partition: str, params: Mapping[str, Any]) -> str:
    """A bronze or silver object key: ``<layer>/<table>/<partition>/part-<hash8>.parquet``.

    Args:
        layer: ``bronze`` or ``silver``.
        table: The table (bronze: endpoint name; silver: table name).
        partition: The partition path (may be empty for root-level files).
        params: The call parameters.

    Returns:
        The key.
    """
    mid = f"{partition}/" if partition else ""
    return f"{layer}/{table}/{mid}part-{hash8(params)}.parquet"
