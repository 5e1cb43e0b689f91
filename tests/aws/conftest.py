"""Fixtures for the end-to-end AWS tests: one counting moto server for the session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from tests.aws.moto_counting import REGION, CountingMotoServer, create_lake_resources, quiet


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[CountingMotoServer]:
    quiet()
    server = CountingMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials, and no shared config or instance metadata to stumble on."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def moto(_moto_server: CountingMotoServer, aws_env: None, boto_session: boto3.session.Session) -> CountingMotoServer:
    """The moto server, reset, holding the bucket, the Glue databases and the checkpoint table."""
    _moto_server.reset()
    create_lake_resources(_moto_server.url, boto_session)
    _moto_server.reset_counts()
    return _moto_server


def write_aws_config(path: Path, url: str, **override: dict[str, Any]) -> Path:
    """A config whose profile ``aws`` is S3 + Glue + DynamoDB at ``url``, with DuckDB as the engine."""
    sections: dict[str, dict[str, Any]] = {
        "store": {"kind": "s3", "bucket": "hoops-edge", "endpoint_url": url},
        "engine": {"kind": "duckdb"},
        "catalog": {"kind": "glue", "endpoint_url": url},
        "state": {"kind": "dynamodb", "table": "cbbd_checkpoints", "endpoint_url": url},
    }
    for key, value in override.items():
        sections[key] = {**sections[key], **value}
    path.write_text(yaml.safe_dump({"default_profile": "aws", "profiles": {"aws": sections}}))
    return path
