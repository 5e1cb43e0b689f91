"""The observation cache's shared tier on S3 (moto): entries round-trip, a missing one is a plain miss."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from reconciler.adapters.obs_cache import CachedFooter, ObservationCache
from reconciler.adapters.s3_store import S3Store
from reconciler.adapters.shared_cache import SharedCache

pytestmark = pytest.mark.aws

PREFIX = "meta/cbbd-reconciler/cache/"


def test_results_and_footers_round_trip_through_s3(moto_url: str, boto_session: Any, tmp_path: Any) -> None:
    store = S3Store("hoops-edge", endpoint_url=moto_url, session=boto_session)
    lake = store.uri("")
    writer = ObservationCache(tmp_path / "a", shared=SharedCache(store, PREFIX))
    table = pa.table({"season": pa.array([2015, 2016], pa.int64()), "n": pa.array([3, 4], pa.int64())})
    writer.put_result("d1", table)
    one = ("silver/fct_plays/season=2015/part-1.parquet", 100, 1.5, "etag-1")
    footer = CachedFooter(7, (("gameId", "int64"), ("season", "int64")), ranges=(("season", "2015", "2015"),))
    assert writer.footers(lake, [one], "silver/fct_plays/") == {}  # a miss: this machine reads it
    writer.share_footers(lake, "silver/fct_plays/", [(one, footer)], [one[0]])
    keys = sorted(o.key for o in store.list_objects(PREFIX))
    assert len(keys) == 2 and all(k.startswith(PREFIX) and k.endswith(".arrow") for k in keys)
    assert not list(store.list_objects("silver/")), "nothing is written under a table"
    # Another machine, its local cache empty, asks S3.
    shared = SharedCache(store, PREFIX)
    reader = ObservationCache(tmp_path / "b", shared=shared)
    assert reader.result("d1") == table
    assert reader.footers(lake, [one], "silver/fct_plays/") == {one[0]: footer}
    # A missing entry is a miss and leaves the tier on; the hits were copied to the local tier.
    assert reader.result("never-written") is None
    assert reader.footers(lake, [(one[0], 100, 1.5, "etag-2")], "silver/fct_plays/") == {}
    assert shared.reads == 3 and reader.result("d1") == table and shared.reads == 3
