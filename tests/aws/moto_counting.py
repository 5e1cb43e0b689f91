"""A loopback moto server that counts every request it serves, by ``service.Operation``.

botocore event hooks count what our adapters call; this counts what the server saw, including
the ranged GETs pyarrow's own S3 client makes when DuckDB reads Parquet over S3. Requests are
classified from the SigV4 credential scope (the service) and the ``X-Amz-Target`` header (JSON
APIs: Glue, DynamoDB) or the method, path and query (S3's REST API).
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

REGION = "us-east-1"
BUCKET = "hoops-edge"
TABLE = "cbbd_checkpoints"
DATABASES = ("cbbd_bronze", "cbbd_silver")


def _s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str:
    parts = [p for p in path.split("/") if p]
    on_key = len(parts) > 1
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method == "DELETE":
        return "DeleteObject" if on_key else "DeleteBucket"
    if method == "HEAD":
        return "HeadObject" if on_key else "HeadBucket"
    if method == "PUT":
        return "PutObject" if on_key else "CreateBucket"
    if method == "GET":
        if on_key:
            return "GetObject"
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    return f"{method}?"


def classify(environ: dict[str, Any]) -> str:
    """``service.Operation`` of one request to the moto server.

    Args:
        environ: The WSGI environ.

    Returns:
        e.g. ``s3.GetObject``, ``glue.GetPartitions``, ``dynamodb.Query``, or ``moto.<path>``.
    """
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return "moto." + path
    auth = environ.get("HTTP_AUTHORIZATION", "")
    service = "?"
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        service = scope[3] if len(scope) > 3 else "?"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return f"{service}.{target.rsplit('.', 1)[-1]}"
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if service == "s3":
        return "s3." + _s3_operation(environ.get("REQUEST_METHOD", ""), path, query)
    action = query.get("Action", ["?"])[0]
    return f"{service}.{action}"


class CountingMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` on a free loopback port whose requests are tallied in :attr:`seen`."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.seen: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)

        def counted(environ: dict[str, Any], start_response: Any) -> Any:
            op = classify(environ)
            with self._count_lock:
                self.seen[op] += 1
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, counted, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def counts(self) -> dict[str, int]:
        """Requests so far by operation (moto's own API excluded)."""
        with self._count_lock:
            return {k: v for k, v in sorted(self.seen.items()) if not k.startswith("moto.")}

    def reset_counts(self) -> None:
        with self._count_lock:
            self.seen.clear()

    def reset(self) -> None:
        """Forget every resource (moto's reset API) and every count."""
        req = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200
        self.reset_counts()


def create_lake_resources(url: str, session: boto3.session.Session | None = None) -> None:
    """The resources the pipeline's Terraform creates: bucket, Glue databases, checkpoint table.

    Args:
        url: The moto endpoint.
        session: A boto3 session to make the clients from (default: a new one).
    """
    session = session or boto3.session.Session(region_name=REGION)
    create_lake_resources_with(
        *(session.client(name, region_name=REGION, endpoint_url=url) for name in ("s3", "glue", "dynamodb"))
    )


def create_lake_resources_with(s3: Any, glue: Any, ddb: Any) -> None:
    """:func:`create_lake_resources` through clients already made (making one is slow).

    Args:
        s3: An S3 client.
        glue: A Glue client.
        ddb: A DynamoDB client.
    """
    s3.create_bucket(Bucket=BUCKET)
    for db in DATABASES:
        glue.create_database(DatabaseInput={"Name": db})
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "endpoint", "AttributeType": "S"},
            {"AttributeName": "parameter_hash", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "endpoint", "KeyType": "HASH"},
            {"AttributeName": "parameter_hash", "KeyType": "RANGE"},
        ],
    )


def quiet() -> None:
    """Silence werkzeug's per-request log lines."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
