from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from reconciler.lake.layout import parse_partition_path


def files(root: Path, prefix: str, suffix: str = "") -> list[Path]:
    base = root / prefix
    return sorted(p for p in base.rglob("*") if p.is_file() and p.name.endswith(suffix)) if base.exists() else []


def drift_keys(drift: Mapping[str, Any]) -> set[str]:
    """Object keys the drift injection wrote (tests of the gap layout look past them)."""
    out: set[str] = set()
    for rec in drift.values():
        out.update(rec.get("keys", []))
        if "key" in rec:
            out.add(rec["key"])
    return out


def read_all(root: Path, prefix: str, exclude: set[str] | frozenset[str] = frozenset()) -> pa.Table | None:
    paths = [p for p in files(root, prefix, ".parquet") if p.relative_to(root).as_posix() not in exclude]
    if not paths:
        return None
    return pa.concat_tables([pq.read_table(p) for p in paths])


def partition(path: Path, root: Path) -> dict[str, str]:
    return parse_partition_path(path.relative_to(root).as_posix())
