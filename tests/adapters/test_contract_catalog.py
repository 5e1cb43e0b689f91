"""The Catalog contract, asserted identically for LocalCatalog and GlueCatalog (moto)."""

from __future__ import annotations

import pytest

from reconciler.errors import BackendError
from reconciler.ports import CatalogTable, PartitionSpec

BUCKET = "hoops-edge"
REGION = "us-east-1"

PLAYS = CatalogTable(
    database="cbbd_silver",
    name="fct_plays",
    location="silver/fct_plays/",
    columns=(("id", "bigint"), ("gameId", "bigint"), ("playText", "string")),
    partition_keys=(("season", "string"), ("date", "string")),
)


@pytest.fixture(params=["local", pytest.param("glue", marks=pytest.mark.aws)])
def catalog_kind(request):
    return request.param


@pytest.fixture
def catalog(catalog_kind, tmp_path, request, counter):
    """(catalog, call counter or None)."""
    if catalog_kind == "local":
        from reconciler.adapters.local_catalog import LocalCatalog

        cat = LocalCatalog(tmp_path / "state" / "catalog.sqlite")
        yield cat, None
        cat.close()
        return
    url = request.getfixturevalue("moto_url")
    from reconciler.adapters.glue_catalog import GlueCatalog

    session = request.getfixturevalue("boto_session")
    cat = GlueCatalog(BUCKET, region=REGION, endpoint_url=url, session=session)
    yield cat, counter(cat.client)


def _parts(n, season="2025"):
    return [PartitionSpec(values=(season, f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}"), location="") for i in range(n)]


def _located(parts):
    return [PartitionSpec(p.values, f"silver/fct_plays/season={p.values[0]}/date={p.values[1]}/") for p in parts]


def test_missing_table_is_none(catalog):
    cat, _ = catalog
    assert cat.get_table("cbbd_silver", "nope") is None
    assert cat.get_table("no_such_db", "nope") is None


def test_table_round_trip_and_update(catalog):
    cat, _ = catalog
    cat.put_table(PLAYS)
    assert cat.get_table("cbbd_silver", "fct_plays") == PLAYS
    changed = CatalogTable(
        database="cbbd_silver",
        name="fct_plays",
        location="silver/fct_plays",  # a missing trailing slash is normalised
        columns=(("id", "bigint"),),
        partition_keys=(("season", "int"), ("asof", "string")),
    )
    cat.put_table(changed)
    got = cat.get_table("cbbd_silver", "fct_plays")
    assert got is not None
    assert got.location == "silver/fct_plays/"
    assert got.columns == (("id", "bigint"),)
    assert got.partition_keys == (("season", "int"), ("asof", "string"))


def test_partitions_round_trip_sorted_with_relative_locations(catalog):
    cat, _ = catalog
    cat.put_table(PLAYS)
    parts = _located(_parts(5, "2025") + _parts(3, "2024"))
    cat.create_partitions("cbbd_silver", "fct_plays", parts)
    got = cat.list_partitions("cbbd_silver", "fct_plays")
    assert got == sorted(parts, key=lambda p: p.values)
    assert got[0].location == "silver/fct_plays/season=2024/date=2024-01-01/"


def test_create_is_idempotent_and_keeps_existing(catalog):
    cat, _ = catalog
    cat.put_table(PLAYS)
    parts = _located(_parts(3))
    cat.create_partitions("cbbd_silver", "fct_plays", parts)
    moved = [PartitionSpec(p.values, "silver/elsewhere/") for p in parts[:1]]
    cat.create_partitions("cbbd_silver", "fct_plays", moved + _located(_parts(4))[3:])
    got = cat.list_partitions("cbbd_silver", "fct_plays")
    assert len(got) == 4
    assert got[0] == parts[0]  # AlreadyExists: left as it was, not an error


def test_create_chunks_by_100(catalog):
    cat, calls = catalog
    cat.put_table(PLAYS)
    assert cat.create_partitions("cbbd_silver", "fct_plays", _located(_parts(250))) == 3
    assert cat.create_partitions("cbbd_silver", "fct_plays", []) == 0
    assert len(cat.list_partitions("cbbd_silver", "fct_plays")) == 250
    if calls is not None:
        assert calls["BatchCreatePartition"] == 3
        assert calls["GetPartitions"] >= 1


def test_delete_chunks_by_25_and_ignores_absent(catalog):
    cat, calls = catalog
    cat.put_table(PLAYS)
    parts = _located(_parts(80))
    cat.create_partitions("cbbd_silver", "fct_plays", parts)
    gone = parts[:55] + _located(_parts(2, "1999"))  # two that were never registered
    assert cat.delete_partitions("cbbd_silver", "fct_plays", gone) == 3
    assert cat.list_partitions("cbbd_silver", "fct_plays") == sorted(parts[55:], key=lambda p: p.values)
    if calls is not None:
        assert calls["BatchDeletePartition"] == 3


def test_partition_arity_is_checked(catalog):
    cat, _ = catalog
    cat.put_table(PLAYS)
    with pytest.raises(BackendError, match=r"partition 2025 has 1 value\(s\) but the table has 2"):
        cat.create_partitions("cbbd_silver", "fct_plays", [PartitionSpec(("2025",), "silver/x/")])


def test_partitions_of_a_missing_table_are_an_error(catalog):
    cat, _ = catalog
    with pytest.raises(BackendError, match=r"cbbd_silver\.nope"):
        cat.list_partitions("cbbd_silver", "nope")
    with pytest.raises(BackendError, match=r"cbbd_silver\.nope"):
        cat.create_partitions("cbbd_silver", "nope", _located(_parts(1)))
    with pytest.raises(BackendError, match=r"cbbd_silver\.nope"):
        cat.delete_partitions("cbbd_silver", "nope", _located(_parts(1)))
