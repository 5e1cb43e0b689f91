"""Fixtures for the adapter tests: a loopback moto server and each port's two adapters.

The moto server (``moto.server.ThreadedMotoServer``) runs once per session on a free loopback
port and is reset before every test that uses it; a real endpoint is needed because pyarrow's
S3 filesystem (used by the DuckDB engine over S3) cannot be patched in-process.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

BUCKET = "hoops-edge"
REGION = "us-east-1"
TABLE = "cbbd_checkpoints"


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session for the adapters under test: service models load once, not per test."""
    return boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region (the autouse fixture has cleared AWS_*)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(scope="session")
def _setup_clients(_moto_server: str, boto_session: boto3.session.Session) -> tuple[Any, Any, Any]:
    """Clients for creating the fixtures' resources (made once: client creation is slow)."""
    return tuple(  # type: ignore[return-value]
        boto_session.client(name, region_name=REGION, endpoint_url=_moto_server) for name in ("s3", "glue", "dynamodb")
    )


@pytest.fixture
def moto_url(_moto_server: str, aws_env: None, _setup_clients: tuple[Any, Any, Any]) -> str:
    """The moto endpoint, freshly reset, with the lake bucket, databases and checkpoint table."""
    req = urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST")
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
    from tests.aws.moto_counting import create_lake_resources_with

    create_lake_resources_with(*_setup_clients)
    return _moto_server


class CallCounter:
    """Counts botocore API calls by operation name, through the client's event hooks."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def attach(self, client: Any) -> CallCounter:
        client.meta.events.register("before-call.*.*", self._seen)
        return self

    def _seen(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def __getitem__(self, op: str) -> int:
        return self.calls.get(op, 0)


@pytest.fixture
def counter() -> Callable[[Any], CallCounter]:
    """Attach a :class:`CallCounter` to a boto3 client."""
    return lambda client: CallCounter().attach(client)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.aws)])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_store(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """A factory of stores of the parametrised kind over one lake (each call: a new instance)."""
    if store_kind == "local":
        from reconciler.adapters.local_store import LocalStore

        root = tmp_path / "lake"
        root.mkdir()
        return lambda: LocalStore(root)
    url = request.getfixturevalue("moto_url")
    session = request.getfixturevalue("boto_session")
    from reconciler.adapters.s3_store import S3Store

    return lambda: S3Store(BUCKET, region=REGION, endpoint_url=url, session=session)


@pytest.fixture
def store(make_store: Callable[[], Any]) -> Any:
    return make_store()
