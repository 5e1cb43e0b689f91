"""Footer schemas are worked out once per distinct schema, and each object still gets its own.

The Arrow type of a column depends on the Parquet schema and on the Arrow schema pyarrow stores
beside it (``large_string`` and ``string`` share a Parquet schema), so objects read together must
each be described as if read alone.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.adapters.local_store import LocalStore
from reconciler.core.layout_observed import FileObs
from reconciler.observe.layout_files import read_footers

#: Column types a pipeline's per-batch inference can give one column (same Parquet schema for some).
TYPES = {
    "int64": pa.int64(),
    "int32": pa.int32(),
    "double": pa.float64(),
    "string": pa.string(),
    "large_string": pa.large_string(),
    "ts": pa.timestamp("us"),
    "ts_utc": pa.timestamp("us", tz="UTC"),
    "null": pa.null(),
}

files_strategy = st.lists(
    st.tuples(
        st.lists(st.sampled_from(sorted(TYPES)), min_size=1, max_size=3),  # the columns' types
        st.booleans(),  # whether the Arrow schema is stored in the footer
        st.integers(0, 3),  # rows
    ),
    min_size=1,
    max_size=8,
)


def _write(lake: Path, i: int, types: list[str], stored: bool, rows: int) -> None:
    cols = {f"c{j}": pa.array([None] * rows, TYPES[t]) for j, t in enumerate(types)}
    cols["season"] = pa.array([2015] * rows, pa.int64())
    path = lake / "silver" / "t" / f"part-{i}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(cols), path, store_schema=stored)


@settings(max_examples=60, deadline=None, print_blob=True)
@given(files_strategy)
def test_objects_read_together_are_described_as_if_read_alone(spec: list[tuple[list[str], bool, int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lake = Path(tmp)
        for i, (types, stored, rows) in enumerate(spec):
            _write(lake, i, types, stored, rows)
        store = LocalStore(lake)
        objs = [FileObs(o.key, o.size, o.mtime, ()) for o in store.list_objects("silver/t/")]
        together = read_footers(store, objs)
        alone = [read_footers(store, [o])[0] for o in objs]
        assert together == alone
        for f in together:  # and each as pyarrow reads it
            schema = pq.read_schema(lake / f.key)
            assert f.columns == tuple((fld.name, str(fld.type)) for fld in schema)
