from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from reconciler.lake.layout import parse_partition_path


def files(root: Path, prefix: str, suffix: str = "") -> list[Path]:
    base = root / prefix
    return sorted(p for p in base.rglob("*") if p.is_file() and p.name.endswith(suffix)) if base.exists() else []


def read_all(root: Path, prefix: str) -> pa.Table | None:
    paths = files(root, prefix, ".parquet")
    if not paths:
        return None
    return pa.concat_tables([pq.read_table(p) for p in paths])


def partition(path: Path, root: Path) -> dict[str, str]:
    return parse_partition_path(path.relative_to(root).as_posix())
