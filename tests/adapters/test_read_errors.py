"""Reads that fail: S3 errors during observation are errors, never notes; pyathena's own traceback stays hidden."""

from __future__ import annotations

import logging

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reconciler.adapters.arrow_errors import store_read_error
from reconciler.adapters.athena_engine import AthenaEngine
from reconciler.adapters.local_store import LocalStore
from reconciler.core.layout_observed import FileObs
from reconciler.errors import BackendError, LakeError, QueryError
from reconciler.observe.layout_files import read_footers, read_object
from tests.aws_recorded import ROLE, replay
from tests.aws_recorded import _json_error as json_error

URI = "s3://hoops-edge/silver/fct_plays/season=2025/date=2024-12-21/part-x.parquet"

# pyarrow's own words (pyarrow 26 against S3; the first recorded from a moto server refusing the read).
DENIED = (
    "When reading information for key 'silver/fct_plays/part-x.parquet' in bucket 'hoops-edge': AWS Error "
    "ACCESS_DENIED during HeadObject operation: No response body."
)
EXPIRED_HEAD = (
    "When reading information for key 'silver/fct_plays/part-x.parquet' in bucket 'hoops-edge': AWS Error UNKNOWN "
    "(HTTP status 400) during HeadObject operation: No response body."
)
EXPIRED_GET = (
    "AWS Error UNKNOWN (HTTP status 400) during GetObject operation: Unable to parse ExceptionName: ExpiredToken "
    "Message: The provided token has expired."
)
SLOW = "AWS Error SLOW_DOWN during GetObject operation: Please reduce your request rate."
NETWORK = (
    "When reading information for key 'k' in bucket 'hoops-edge': AWS Error NETWORK_CONNECTION during HeadObject "
    "operation: curlCode: 7, Could not connect to server"
)
GONE = "AWS Error NO_SUCH_KEY during GetObject operation: The specified key does not exist."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            DENIED,
            f"access denied reading {URI} (HeadObject): the role lacks s3:GetObject, which `reconcile plan` needs "
            "(or the credentials are expired: `reconcile doctor` tells which)",
        ),
        (
            EXPIRED_HEAD,
            f"S3 refused the credentials reading {URI} (UNKNOWN, HTTP 400): they are expired or wrong: refresh them "
            "(`aws sso login`, or a new AWS_SESSION_TOKEN) and run again",
        ),
        (EXPIRED_GET, f"S3 refused the credentials reading {URI} (ExpiredToken, HTTP 400)"),
        (SLOW, f"S3 kept failing reading {URI} (SLOW_DOWN) through its retries: wait a minute and run again"),
        (NETWORK, f"S3 kept failing reading {URI} (NETWORK_CONNECTION) through its retries"),
    ],
)
def test_s3_failures_are_backend_errors(text, expected):
    err = store_read_error(OSError(text), URI)
    assert isinstance(err, BackendError)
    assert str(err).startswith(expected)


def test_a_vanished_object_and_a_broken_file():
    assert isinstance(store_read_error(OSError(GONE), URI), LakeError)
    assert isinstance(store_read_error(FileNotFoundError(2, "No such file", "/x"), URI), LakeError)
    assert store_read_error(OSError("Couldn't deserialize thrift: TProtocolException: Invalid data"), URI) is None
    assert store_read_error(pa.ArrowInvalid("Parquet magic bytes not found in footer"), URI) is None


class _RefusingFs:
    def __init__(self, text: str) -> None:
        self.text = text

    def open_input_file(self, path: str):
        raise OSError(self.text)


class _RefusingStore(LocalStore):
    """A lake whose object reads S3 refuses (the listing worked)."""

    text = DENIED

    def arrow(self):
        return _RefusingFs(self.text), "hoops-edge"

    def uri(self, key: str) -> str:
        return f"s3://hoops-edge/{key}"


def _obs(key: str) -> FileObs:
    return FileObs(key=key, size=1, mtime=0.0, partition=())


def test_observation_raises_on_a_refused_read_instead_of_a_note(tmp_path):
    store = _RefusingStore(tmp_path)
    with pytest.raises(BackendError) as info:
        read_footers(store, [_obs("silver/fct_plays/part-x.parquet")])
    assert str(info.value).startswith("access denied reading s3://hoops-edge/silver/fct_plays/part-x.parquet")
    with pytest.raises(BackendError):
        read_object(store, "silver/fct_plays/part-x.parquet")


def test_a_broken_parquet_file_is_still_a_note(tmp_path):
    (tmp_path / "silver/t").mkdir(parents=True)
    (tmp_path / "silver/t/bad.parquet").write_bytes(b"not parquet at all")
    pq.write_table(pa.table({"a": [1]}), tmp_path / "silver/t/good.parquet")
    bad, good = read_footers(LocalStore(tmp_path), [_obs("silver/t/bad.parquet"), _obs("silver/t/good.parquet")])
    assert bad.unreadable and "magic bytes" in bad.unreadable
    assert good.rows == 1 and not good.unreadable


def test_pyathena_logs_no_traceback_unless_debugging(caplog, capsys):
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    denied = json_error(
        400,
        "AccessDeniedException",
        f"User: {ROLE} is not authorized to perform: athena:StartQueryExecution on resource: "
        "arn:aws:athena:us-east-1:123456789012:workgroup/cbbd because no identity-based policy allows the "
        "athena:StartQueryExecution action",
        key="Message",
    )
    replay(session, "athena.StartQueryExecution", denied)
    root = logging.getLogger()
    was = root.level
    root.setLevel(logging.WARNING)
    try:
        engine = AthenaEngine(output_location="s3://hoops-edge/athena/", session=session)
        with caplog.at_level(logging.WARNING), pytest.raises(QueryError) as info:
            engine.query("SELECT 1 AS x")
    finally:
        root.setLevel(was)
    assert str(info.value) == (
        f"access denied to Athena workgroup cbbd: the role ({ROLE}) needs athena:StartQueryExecution for "
        "`reconcile plan (engine: athena)`: add it to the role's policy (docs/iam-policy.json; `reconcile doctor` "
        "lists every missing permission)"
    )
    assert not [r for r in caplog.records if r.name.startswith("pyathena")]
    assert "Traceback" not in capsys.readouterr().err

    root.setLevel(logging.DEBUG)  # --debug: pyathena's own account comes back
    try:
        engine = AthenaEngine(output_location="s3://hoops-edge/athena/", session=session)
        with caplog.at_level(logging.DEBUG), pytest.raises(QueryError):
            engine.query("SELECT 1 AS x")
    finally:
        root.setLevel(was)
        logging.getLogger("pyathena").setLevel(logging.NOTSET)
    assert [r for r in caplog.records if r.name.startswith("pyathena") and r.exc_info]


def test_the_engines_file_diagnosis_raises_on_a_refused_read(tmp_path):
    """A query failing on a file S3 would not let us read: an error, not a file left out of every query."""
    from reconciler.adapters.duckdb_bad_files import BadFiles
    from reconciler.adapters.duckdb_sources import LakeFile
    from reconciler.sql import TableRef

    store = _RefusingStore(tmp_path)
    f = LakeFile(key="silver/fct_plays/part-x.parquet", size=1, mtime=0.0, partitions=())
    bad = BadFiles()
    with pytest.raises(BackendError, match=r"access denied reading s3://hoops-edge/silver/fct_plays/part-x\.parquet"):
        bad.diagnose(store, "IO Error: corrupt footer in 'x.parquet'", {TableRef("cbbd_silver", "fct_plays"): [f]}, {})
    assert bad.unreadable == {}
