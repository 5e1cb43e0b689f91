"""Credentials that fail while the session or a client is built, and the region an adapter uses.

Through the CLI: one red line naming the cause and the fix, exit 1, no traceback. No AWS is
reached: each failure happens before the first request leaves.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml

from reconciler.adapters.aws_session import make_client, make_session, region_of
from reconciler.adapters.dynamo_state import DynamoState
from reconciler.adapters.s3_store import S3Store
from reconciler.config import StateSettings, StoreSettings
from reconciler.errors import BackendError
from tests.e2e_helpers import cli

SPECS = str(Path(__file__).parents[2] / "specs")
DEAD = "http://127.0.0.1:9"  # never reached: every failure here comes first


@pytest.fixture
def aws_files(tmp_path, monkeypatch):
    """An AWS config with a failing credential_process and an SSO profile never logged in."""
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile broken]\n"
        "region = eu-west-1\n"
        'credential_process = /bin/sh -c "echo token service unreachable >&2; exit 3"\n'
        "[profile sso]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\n"
        "sso_account_id = 123456789012\n"
        "sso_role_name = Reconciler\n"
        "region = us-east-1\n"
        "[profile paris]\n"
        "region = eu-west-3\n"
        "aws_access_key_id = AKIA\n"
        "aws_secret_access_key = secret\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("HOME", str(tmp_path))  # no SSO token cache of the machine's
    return config


def _config(tmp_path: Path) -> Path:
    sections = {
        "store": {"kind": "s3", "bucket": "hoops-edge", "endpoint_url": DEAD},
        "engine": {"kind": "duckdb"},
        "catalog": {"kind": "glue", "endpoint_url": DEAD},
        "state": {"kind": "dynamodb", "endpoint_url": DEAD},
    }
    path = tmp_path / "aws.yaml"
    path.write_text(yaml.safe_dump({"default_profile": "aws", "profiles": {"aws": {"specs_dir": SPECS, **sections}}}))
    return path


def _one_line(result) -> str:
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert lines[0].startswith("Error: "), out
    return lines[0][len("Error: ") :]


def test_unknown_aws_profile_when_the_session_is_built(tmp_path, aws_files, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "hoops")
    line = _one_line(cli(["plan", "--config", str(_config(tmp_path)), "--seasons", "2015"]))
    assert line == (
        "AWS profile 'hoops' (AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials: fix AWS_PROFILE, or create "
        "it (`aws configure --profile hoops` or `aws configure sso`)"
    )


def test_failing_credential_process_when_a_client_is_built(tmp_path, aws_files, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "broken")
    line = _one_line(cli(["plan", "--config", str(_config(tmp_path)), "--seasons", "2015"]))
    assert line == (
        "the credential_process of AWS profile broken failed (token service unreachable): run that command by hand "
        "to see why, fix it, and run again"
    )


def test_sso_profile_never_logged_in(tmp_path, aws_files, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "sso")
    line = _one_line(cli(["plan", "--config", str(_config(tmp_path)), "--seasons", "2015"]))
    assert line == (
        "the AWS SSO session for s3://hoops-edge has expired or was never started: run `aws sso login --profile sso` "
        "and run again"
    )


def test_no_credentials_at_all(tmp_path, aws_files):
    line = _one_line(cli(["plan", "--config", str(_config(tmp_path)), "--seasons", "2015"]))
    assert line == (
        "no AWS credentials for s3://hoops-edge: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or run where a role provides them)"
    )


def test_make_session_and_make_client_translate(aws_files, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nope")
    with pytest.raises(BackendError, match="AWS profile 'nope'"):
        make_session(None, "x")
    monkeypatch.setenv("AWS_PROFILE", "broken")
    with pytest.raises(BackendError, match="the credential_process of AWS profile broken failed"):
        make_client(None, "s3", region="us-east-1", endpoint_url=DEAD, what="s3://hoops-edge")


# The region: the profile's section, else AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's, us-east-1.


def test_a_region_in_the_profile_wins(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    assert region_of(StoreSettings(kind="s3", bucket="b", region="us-west-2")) == "us-west-2"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_REGION": "eu-west-2", "AWS_DEFAULT_REGION": "ap-south-1"}, "eu-west-2"),
        ({"AWS_DEFAULT_REGION": "ap-south-1"}, "ap-south-1"),
        ({}, "us-east-1"),
    ],
)
def test_the_environment_applies_when_the_profile_sets_no_region(monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = StoreSettings(kind="s3", bucket="b")
    assert region_of(settings) == expected
    session = boto3.session.Session(aws_access_key_id="a", aws_secret_access_key="b")
    store = S3Store.from_settings(settings, session=session)
    assert store.region == expected and store.client.meta.region_name == expected
    state = DynamoState.from_settings(StateSettings(kind="dynamodb"), session=session)
    assert state.client.meta.region_name == expected


def test_the_aws_profiles_region_applies_last(aws_files, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "paris")
    session = make_session(None)
    assert region_of(StoreSettings(kind="s3", bucket="b"), session) == "eu-west-3"


def test_a_failed_credential_refresh_logs_no_traceback_before_the_one_line(tmp_path, aws_files, monkeypatch):
    """botocore logs a failed refresh (SSO, assume-role, credential_process) with its traceback at WARNING.

    In a real process that log reaches stderr before our one line (CliRunner does not show it), so
    the command runs as a user runs it.
    """
    monkeypatch.setenv("AWS_PROFILE", "sso")
    cmd = [sys.executable, "-c", "from reconciler.cli.app import main; main()"]
    args = ["plan", "--config", str(_config(tmp_path)), "--seasons", "2015"]
    r = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 1, r.stderr
    lines = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("Error: the AWS SSO session for s3://hoops-edge has expired"), lines
    debug = subprocess.run([*cmd, *args, "--debug"], capture_output=True, text=True, timeout=120, check=False)
    assert "Refreshing temporary credentials failed" in debug.stderr  # --debug keeps botocore's own words
