"""The ObjectStore contract, asserted identically for LocalStore and S3Store (moto)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconciler.errors import LakeError

KEYS = [
    "silver/fct_plays/season=2025/date=2024-12-01/part-b.parquet",
    "silver/fct_plays/season=2025/date=2024-12-01/part-a.parquet",
    "silver/fct_plays/season=2024/date=2023-11-30/part-c.parquet",
    "silver/fct_plays/season=2024/part-loose.parquet",
    "silver/fct_games/season=2024/part-g.parquet",
    "silver/.keep",
    "raw/plays/game/ingested_at=2026-02-23/part-e6c78d31.json.gz",
]


@pytest.fixture
def filled(store):
    for k in KEYS:
        assert store.put(k, k.encode())
    return store


def test_list_objects_is_recursive_and_in_key_order(filled):
    keys = [o.key for o in filled.list_objects("silver/fct_plays/")]
    assert keys == sorted(k for k in KEYS if k.startswith("silver/fct_plays/"))
    assert [o.key for o in filled.list_objects("")] == sorted(KEYS)


def test_list_objects_reports_size_and_mtime(filled):
    objs = {o.key: o for o in filled.list_objects("silver/")}
    assert objs["silver/.keep"].size == len(b"silver/.keep")
    assert all(o.mtime > 1_600_000_000 for o in objs.values())


def test_list_objects_partial_name_prefix(filled):
    keys = [o.key for o in filled.list_objects("silver/fct_g")]
    assert keys == ["silver/fct_games/season=2024/part-g.parquet"]


def test_list_objects_skips_temporary_objects(store):
    store.put("tmp/run1/plays_game-e6c78d31.tmp", b"")
    store.put("silver/t/part-1.parquet", b"x")
    assert [o.key for o in store.list_objects("")] == ["silver/t/part-1.parquet"]


def test_list_objects_of_missing_prefix_is_empty(store):
    assert list(store.list_objects("nothing/here/")) == []


def test_list_prefixes(filled):
    assert filled.list_prefixes("") == ["raw/", "silver/"]
    assert filled.list_prefixes("silver/") == ["silver/fct_games/", "silver/fct_plays/"]
    assert filled.list_prefixes("silver/fct_plays/") == [
        "silver/fct_plays/season=2024/",
        "silver/fct_plays/season=2025/",
    ]
    # a missing trailing slash is added, not glued onto the child name
    assert filled.list_prefixes("silver/fct_plays/season=2024") == ["silver/fct_plays/season=2024/date=2023-11-30/"]
    assert filled.list_prefixes("nothing/") == []


def test_get_put_exists(store):
    assert not store.exists("meta/a.json")
    assert store.put("meta/a.json", b"1")
    assert store.exists("meta/a.json")
    assert store.get("meta/a.json") == b"1"
    assert store.put("meta/a.json", b"2")
    assert store.get("meta/a.json") == b"2"


def test_get_missing_is_a_lake_error(store):
    with pytest.raises(LakeError, match=r"meta/missing\.json"):
        store.get("meta/missing.json")


def test_put_if_absent_never_overwrites(store):
    assert store.put("silver/t/part-1.parquet", b"first", if_absent=True) is True
    assert store.put("silver/t/part-1.parquet", b"second", if_absent=True) is False
    assert store.get("silver/t/part-1.parquet") == b"first"


@pytest.mark.parametrize("key", ["/abs/key", "a/../b", "../up"])
def test_invalid_keys_are_refused(store, key):
    with pytest.raises(LakeError, match=r"invalid object key"):
        store.put(key, b"x")


def test_delete_counts_only_existing_objects(filled):
    victims = [*KEYS[:3], "silver/fct_plays/season=2025/date=2024-12-01/part-zzz.parquet", "nope/x"]
    assert filled.delete(victims) == 3
    left = [o.key for o in filled.list_objects("")]
    assert left == sorted(KEYS[3:])
    assert filled.delete(victims) == 0
    assert filled.delete([]) == 0


def test_arrow_filesystem_reads_and_writes_parquet_at_keys(store):
    fs, root = store.arrow()
    table = pa.table({"gameId": [1, 2], "season": pa.array([2025, 2025], pa.int32())})
    key = "silver/fct_games/season=2025/part-x.parquet"
    fs.create_dir(f"{root}/silver/fct_games/season=2025", recursive=True)  # a no-op on S3
    with fs.open_output_stream(f"{root}/{key}") as out:
        pq.write_table(table, out)
    assert store.exists(key)
    with fs.open_input_file(f"{root}/{key}") as fh:
        assert pq.read_table(fh).equals(table)


def test_uri_names_the_location(store, store_kind):
    uri = store.uri("silver/x.parquet")
    assert uri.endswith("silver/x.parquet")
    assert uri.startswith("s3://hoops-edge/" if store_kind == "s3" else "/")
