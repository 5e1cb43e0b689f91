"""S3Store specifics (moto): conditional puts, DeleteObjects batching, prefixes, errors."""

from __future__ import annotations

import logging

import pyarrow.fs as pafs
import pytest
from botocore.exceptions import ClientError

from reconciler.adapters import s3_store
from reconciler.adapters.s3_store import S3Store
from reconciler.config import StoreSettings
from reconciler.errors import BackendError

pytestmark = pytest.mark.aws


@pytest.fixture
def s3(moto_url, boto_session):
    return S3Store("hoops-edge", endpoint_url=moto_url, session=boto_session)


def test_from_settings(moto_url):
    store = S3Store.from_settings(StoreSettings(kind="s3", bucket="hoops-edge", endpoint_url=moto_url))
    assert store.put("k", b"1")
    assert store.get("k") == b"1"


def test_if_absent_uses_a_conditional_put(s3, counter):
    calls = counter(s3.client)
    assert s3.put("k", b"1", if_absent=True)
    assert not s3.put("k", b"2", if_absent=True)
    assert calls["PutObject"] == 2
    assert calls["HeadObject"] == 0  # moto honours If-None-Match: no fallback needed


class _NoConditional:
    """A backend that rejects If-None-Match (as some S3-compatible stores do)."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def put_object(self, **kwargs):
        if "IfNoneMatch" in kwargs:
            raise ClientError(
                {"Error": {"Code": "NotImplemented", "Message": "If-None-Match"}, "ResponseMetadata": {}},
                "PutObject",
            )
        return self._client.put_object(**kwargs)


def test_if_absent_falls_back_to_head_then_put(s3, caplog):
    s3.client = _NoConditional(s3.client)
    with caplog.at_level(logging.WARNING):
        assert s3.put("k", b"1", if_absent=True)
    assert "not atomic" in caplog.text
    assert not s3.put("k", b"2", if_absent=True)
    assert s3.get("k") == b"1"


def test_delete_objects_in_chunks(s3, counter, monkeypatch):
    monkeypatch.setattr(s3_store, "S3_DELETE_BATCH", 10)
    keys = [f"silver/t/season=2025/part-{i:02d}.parquet" for i in range(25)]
    for k in keys:
        s3.put(k, b"x")
    calls = counter(s3.client)
    assert s3.delete([*keys, "silver/t/season=2025/absent.parquet"]) == 25
    assert calls["DeleteObjects"] == 3
    assert list(s3.list_objects("silver/")) == []


def test_delete_object_errors_name_the_key(s3):
    s3.put("a/b", b"x")

    class Failing:
        def __init__(self, client):
            self._client = client

        def __getattr__(self, name):
            return getattr(self._client, name)

        def delete_objects(self, **kwargs):
            return {"Errors": [{"Key": "a/b", "Code": "AccessDenied", "Message": "no"}]}

    s3.client = Failing(s3.client)
    with pytest.raises(BackendError, match=r"deleting s3://hoops-edge/a/b failed: AccessDenied"):
        s3.delete(["a/b"])


def test_a_key_prefix_roots_the_lake(moto_url, boto_session):
    store = S3Store("hoops-edge", endpoint_url=moto_url, prefix="/lakes/test/", session=boto_session)
    store.put("silver/x.parquet", b"1")
    assert store.uri("silver/x.parquet") == "s3://hoops-edge/lakes/test/silver/x.parquet"
    assert [o.key for o in store.list_objects("")] == ["silver/x.parquet"]
    assert store.list_prefixes("") == ["silver/"]
    fs, root = store.arrow()
    assert root == "hoops-edge/lakes/test"
    assert fs.get_file_info(f"{root}/silver/x.parquet").size == 1


def test_arrow_filesystem_points_at_the_endpoint(s3, moto_url):
    fs, root = s3.arrow()
    assert isinstance(fs, pafs.S3FileSystem)
    assert root == "hoops-edge"
    assert fs.region == "us-east-1"


def test_missing_bucket_says_what_to_fix(moto_url, boto_session):
    store = S3Store("no-such-bucket", endpoint_url=moto_url, session=boto_session)
    with pytest.raises(BackendError, match="S3 bucket no-such-bucket does not exist"):
        list(store.list_objects(""))
    with pytest.raises(BackendError, match="does not exist"):
        store.put("k", b"x")


class _Creds:
    """Credentials whose frozen snapshot changes when ``token`` does (a refresh)."""

    def __init__(self) -> None:
        self.token = "t1"

    def get_frozen_credentials(self):
        from botocore.credentials import ReadOnlyCredentials

        return ReadOnlyCredentials("AKIDEXAMPLE", "secret", self.token)


def test_one_filesystem_per_store_until_the_credentials_refresh(s3, monkeypatch):
    creds = _Creds()
    monkeypatch.setattr(s3._session, "get_credentials", lambda: creds)
    first, _ = s3.arrow()
    assert s3.arrow()[0] is first
    creds.token = "t2"  # boto3 refreshed temporary credentials
    second, _ = s3.arrow()
    assert second is not first
    assert s3.arrow()[0] is second


def test_footer_read_uses_the_listed_size(s3):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    from reconciler.lake.footers import read_footer

    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1, 2, 3]}), buf)
    s3.put("silver/t/x.parquet", buf.getvalue())
    (info,) = s3.list_objects("silver/t/")
    fs, root = s3.arrow()
    assert read_footer(fs, f"{root}/silver/t/x.parquet", info.size).num_rows == 3
    # The size is taken as given (no HEAD asks for it): a wrong one reads the wrong tail.
    with pytest.raises((OSError, pa.ArrowException)):
        read_footer(fs, f"{root}/silver/t/x.parquet", info.size - 4)


def _plain_listing(s3, prefix):
    """The listing as one sequential pagination would give it (the reference)."""
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket="hoops-edge", Prefix=prefix)
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    return sorted(k for k in keys if not k.rsplit("/", 1)[-1].startswith(".tmp-") and not k.endswith(".tmp"))


def test_a_long_listing_is_split_by_folder_and_listed_concurrently(s3, counter, monkeypatch):
    monkeypatch.setattr(s3_store, "_PAGE", 4)
    keys = [
        f"silver/t/season={s}/date=2015-01-0{d}/part-{i}.parquet"
        for s in (2015, 2016)
        for d in (1, 2)
        for i in range(3)
    ]
    keys += ["silver/t/loose-1.parquet", "silver/t/loose-2.parquet", "silver/t/.tmp-x.parquet", "silver/t/a.tmp"]
    keys += [f"silver/t/season=2017/part-{i}.parquet" for i in range(9)] + ["silver/u/other.parquet"]
    for k in keys:
        s3.put(k, b"x")
    calls = counter(s3.client)
    got = [o.key for o in s3.list_objects("silver/t/")]
    # One page (truncated), the folder level with a delimiter (7 entries: 2 pages), then each
    # season= folder on its own, concurrently (2, 2 and 3 pages).
    assert calls["ListObjectsV2"] == 1 + 2 + 7
    assert got == _plain_listing(s3, "silver/t/") and len(got) == 12 + 2 + 9
    # A prefix that fits one page is one call; a stem (no trailing /) lists what starts with it.
    calls.calls.clear()
    assert [o.key for o in s3.list_objects("silver/u/")] == ["silver/u/other.parquet"]
    assert calls["ListObjectsV2"] == 1
    assert [o.key for o in s3.list_objects("silver/t/season=201")] == _plain_listing(s3, "silver/t/season=201")
    assert [o.key for o in s3.list_objects("silver/t/lo")] == ["silver/t/loose-1.parquet", "silver/t/loose-2.parquet"]
