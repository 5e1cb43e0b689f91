"""AWS errors as AWS sends them (recorded responses through botocore's parser and retries): the one line each gives.

Each test checks the whole line the CLI prints after ``Error:`` (the BackendError's text).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import boto3
import pytest

from reconciler import hints
from reconciler.adapters.dynamo_state import DynamoState
from reconciler.adapters.glue_catalog import GlueCatalog
from reconciler.adapters.s3_store import S3Store
from reconciler.errors import BackendError
from reconciler.ports import UnitRecord
from tests.aws_recorded import RECORDED, ROLE, Recorded, no_backoff, replay
from tests.e2e_helpers import cli

__all__ = ["no_backoff"]  # the fixture, imported for pytest

REFRESH = (
    "refresh them (`aws sso login`, or export a new AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN) "
    "and run again"
)


@pytest.fixture
def session():
    return boto3.session.Session(region_name="us-east-1", aws_access_key_id="AKIA", aws_secret_access_key="secret")


@pytest.fixture
def store(session):
    s = S3Store("hoops-edge", session=session)
    s._sleep = lambda _: None
    return s


def _line(call) -> str:
    with pytest.raises(BackendError) as info:
        call()
    text = str(info.value)
    assert "\n" not in text
    return text


# HEAD answers carry no body: the store asks again with a GET, whose error names the cause.


def test_head_400_without_a_body_is_named_by_the_get_that_follows(store):
    replay(store.client, "s3.HeadObject", RECORDED["s3.head_400"])  # botocore tries the bucket's region once more
    get = replay(store.client, "s3.GetObject", RECORDED["s3.expired_token"])
    assert _line(lambda: store.exists("silver/fct_plays/x.parquet")) == (
        "the AWS credentials used for s3://hoops-edge/silver/fct_plays/x.parquet have expired (ExpiredToken): "
        + REFRESH
    )
    assert get.sent[0].headers["Range"] == b"bytes=0-0"  # one byte: the GET only learns the cause


def test_head_bucket_403_without_a_body_is_named_by_a_listing(store):
    replay(store.client, "s3.HeadBucket", RECORDED["s3.head_403"])
    replay(store.client, "s3.ListObjectsV2", RECORDED["s3.access_denied"])
    assert _line(store.check) == (
        f"access denied to s3://hoops-edge: the role ({ROLE}) needs s3:ListBucket for `reconcile plan`: add it to "
        "the role's policy (docs/iam-policy.json; `reconcile doctor` lists every missing permission)"
    )


def test_head_400_when_the_get_succeeds_keeps_the_likely_causes(store):
    replay(store.client, "s3.HeadBucket", RECORDED["s3.head_400"])
    replay(store.client, "s3.ListObjectsV2", Recorded(200, b'<?xml version="1.0"?><ListBucketResult/>'))
    assert _line(store.check) == (
        "S3 answered HeadBucket on s3://hoops-edge with 400 and no body: most often expired credentials (a session "
        f"token past its expiry): {REFRESH}; otherwise check store.region"
    )


def test_head_403_with_a_skewed_date_is_clock_skew(store):
    late = datetime.now(UTC) + timedelta(minutes=42)
    head = Recorded(403, b"", {"date": format_datetime(late, usegmt=True), "server": "AmazonS3"})
    replay(store.client, "s3.HeadBucket", head)
    replay(store.client, "s3.ListObjectsV2", Recorded(200, b'<?xml version="1.0"?><ListBucketResult/>'))
    assert _line(store.check) == (
        "AWS refused the request for s3://hoops-edge: this machine's clock is 42 min behind AWS's (signatures more "
        "than 5 min off are rejected): sync the clock (enable NTP, e.g. `sudo timedatectl set-ntp true`) and run again"
    )


def test_request_time_too_skewed(store):
    replay(store.client, "s3.GetObject", RECORDED["s3.too_skewed"])
    assert "this machine's clock is 20 min behind AWS's" in _line(lambda: store.get("raw/x.json"))


# Conditional PUTs: 412 means the object exists; 409 means another conditional write was in flight.


def test_412_on_a_conditional_put_is_already_there(store):
    replay(store.client, "s3.PutObject", RECORDED["s3.precondition_failed"])
    assert store.put("silver/x.parquet", b"x", if_absent=True) is False


def test_409_on_a_conditional_put_is_asked_again(store, session):
    put = replay(
        store.client, "s3.PutObject", [RECORDED["s3.conditional_conflict"], RECORDED["s3.precondition_failed"]]
    )
    assert store.put("silver/x.parquet", b"x", if_absent=True) is False  # the other write won
    assert len(put.sent) == 2
    other = S3Store("hoops-edge", session=session)
    other._sleep = lambda _: None
    replay(other.client, "s3.PutObject", [RECORDED["s3.conditional_conflict"], Recorded(200, b"", {"ETag": '"e"'})])
    assert other.put("silver/y.parquet", b"y", if_absent=True) is True  # the other write failed: ours goes in


def test_409_that_lasts_is_one_line(store):
    replay(store.client, "s3.PutObject", RECORDED["s3.conditional_conflict"])
    assert _line(lambda: store.put("silver/x.parquet", b"x", if_absent=True)) == (
        "s3://hoops-edge/silver/x.parquet: another writer kept writing this key at the same time (5 conditional PUTs "
        "answered 409 ConditionalRequestConflict): is a second apply or the pipeline running? run again once it is done"
    )


# Throttling that outlasts botocore's retries (9 attempts, backoff skipped here).


def test_provisioned_throughput_exceeded_through_every_attempt(session, no_backoff):
    state = DynamoState(session=session, sleep=lambda _: None)
    batch = replay(state.client, "dynamodb.BatchWriteItem", RECORDED["ddb.throughput_exceeded"])
    assert _line(lambda: state.record_units([UnitRecord("plays", "1", "done")])) == (
        "AWS throttled BatchWriteItem on DynamoDB table cbbd_checkpoints (ProvisionedThroughputExceededException) "
        "through 9 attempt(s) with backoff: wait a minute and run again (an apply resumes where it stopped)"
    )
    assert len(batch.sent) == 9


def test_throttling_exception_then_success_is_not_an_error(session, no_backoff):
    state = DynamoState(session=session, sleep=lambda _: None)
    replay(state.client, "dynamodb.BatchWriteItem", [RECORDED["ddb.throttling"], Recorded(200, b"{}")])
    state.record_units([UnitRecord("plays", "1", "done")])


def test_glue_throttling_through_every_attempt(session, no_backoff):
    catalog = GlueCatalog("hoops-edge", session=session)
    replay(catalog.client, "glue.GetPartitions", RECORDED["glue.throttling"])
    assert _line(lambda: catalog.list_partitions("cbbd_silver", "fct_plays")) == (
        "AWS throttled GetPartitions on Glue table cbbd_silver.fct_plays (ThrottlingException) through 9 attempt(s) "
        "with backoff: wait a minute and run again (an apply resumes where it stopped)"
    )


# Credentials and permissions as DynamoDB words them.


def test_expired_token(session):
    state = DynamoState(session=session)
    replay(state.client, "dynamodb.Query", RECORDED["ddb.expired_token"])
    assert _line(lambda: state.load_units("plays")) == (
        f"the AWS credentials used for DynamoDB table cbbd_checkpoints have expired (ExpiredTokenException): {REFRESH}"
    )


def test_expired_token_names_the_aws_profile_to_log_in_again(session, monkeypatch):
    state = DynamoState(session=session)
    replay(state.client, "dynamodb.Query", RECORDED["ddb.expired_token"])
    monkeypatch.setenv("AWS_PROFILE", "hoops")
    assert "refresh them (`aws sso login --profile hoops`, or renew the profile's keys)" in _line(
        lambda: state.load_units("plays")
    )


def test_access_denied_names_the_action_the_principal_and_the_command(session):
    state = DynamoState(session=session)
    replay(state.client, "dynamodb.Query", RECORDED["ddb.access_denied"])
    assert _line(lambda: state.load_units("plays")) == (
        f"access denied to DynamoDB table cbbd_checkpoints: the role ({ROLE}) needs dynamodb:Query for "
        "`reconcile plan`: add it to the role's policy (docs/iam-policy.json; `reconcile doctor` lists every "
        "missing permission)"
    )


def test_signature_expired_is_clock_skew(session):
    state = DynamoState(session=session)
    replay(state.client, "dynamodb.GetItem", RECORDED["ddb.signature_expired"])
    assert _line(lambda: state.get_meta("quota")).startswith(
        "AWS refused the request for DynamoDB table cbbd_checkpoints: this machine's clock is 20 min behind AWS's"
    )


def test_the_doctor_hint_carries_the_running_commands_config(session):
    """Pasted, the hint checks the profile that failed, not the default one (issue 18: hints that paste)."""
    state = DynamoState(session=session)
    replay(state.client, "dynamodb.Query", RECORDED["ddb.access_denied"])
    hints.set_command_args(("--config", "aws.yaml", "--profile", "aws"))
    try:
        line = _line(lambda: state.load_units("plays"))
    finally:
        hints.set_command_args(())
    assert line.endswith(
        "(docs/iam-policy.json; `reconcile doctor --config aws.yaml --profile aws` lists every missing permission)"
    ), line


def test_a_command_sets_the_hint_options_and_clears_them(tmp_path, monkeypatch):
    from reconciler.cli import common

    seen = []
    real = common.load_profile

    def spy(config, profile):
        seen.append(hints.command("doctor"))
        return real(config, profile)

    monkeypatch.setattr(common, "load_profile", spy)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("default_profile: p\nprofiles:\n  p:\n    specs_dir: specs\n")
    cli(["locks", "list", "--config", str(cfg), "--profile", "p"])
    assert seen == [f"reconcile doctor --config {cfg} --profile p"]
    assert hints.command("doctor") == "reconcile doctor"
