"""Recorded AWS responses, replayed through botocore's real parser and retry handler.

``replay(client_or_session, "s3.HeadObject", RECORDED["s3.head_400"])`` answers that operation
with the recorded HTTP status, headers and body (a ``before-send`` hook: botocore builds and
signs the request, then parses this response exactly as it would parse AWS's, retries included).
The bodies are the shapes AWS documents and sends: S3's XML errors (none at all for a HEAD),
the ``__type`` JSON errors of DynamoDB and Glue. A second replay of the same operation on the
same client does not replace the first (botocore takes the first answer): use a new client.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse

__all__ = ["RECORDED", "Recorded", "no_backoff", "replay"]

ROLE = "arn:aws:sts::123456789012:assumed-role/cbbd-etl-role/etl-task"


@dataclass(frozen=True)
class Recorded:
    """One HTTP response as AWS sent it."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _s3_error(status: int, code: str, message: str, **extra: str) -> Recorded:
    more = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>{more}'
        "<RequestId>4442587FB7D0A2F9</RequestId><HostId>Zm9vYmFy</HostId></Error>"
    ).encode()
    return Recorded(status, body, {"content-type": "application/xml", "server": "AmazonS3"})


def _json_error(status: int, type_: str, message: str, key: str = "message") -> Recorded:
    body = json.dumps({"__type": type_, key: message}).encode()
    return Recorded(status, body, {"content-type": "application/x-amz-json-1.0"})


def _head(status: int) -> Recorded:
    # A HEAD response never has a body: S3 sends the status, its request ids and the bucket's region.
    return Recorded(
        status, b"", {"x-amz-request-id": "4442587FB7D0A2F9", "x-amz-bucket-region": "us-east-1", "server": "AmazonS3"}
    )


RECORDED: dict[str, Recorded] = {
    "s3.head_400": _head(400),
    "s3.head_403": _head(403),
    "s3.expired_token": _s3_error(
        400, "ExpiredToken", "The provided token has expired.", **{"Token-0": "FwoGZXIvYXdzEXAMPLE"}
    ),
    "s3.access_denied": _s3_error(
        403,
        "AccessDenied",
        f"User: {ROLE} is not authorized to perform: s3:ListBucket on resource: "
        '"arn:aws:s3:::hoops-edge" because no identity-based policy allows the s3:ListBucket action',
    ),
    "s3.too_skewed": _s3_error(
        403,
        "RequestTimeTooSkewed",
        "The difference between the request time and the current time is too large.",
        RequestTime="20261203T114000Z",
        ServerTime="2026-12-03T12:00:00Z",
        MaxAllowedSkewMilliseconds="900000",
    ),
    "s3.precondition_failed": _s3_error(
        412,
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        Condition="If-None-Match",
    ),
    "s3.conditional_conflict": _s3_error(
        409,
        "ConditionalRequestConflict",
        "A conflicting conditional operation is currently in progress against this resource. Please try again.",
    ),
    "s3.slow_down": _s3_error(503, "SlowDown", "Please reduce your request rate."),
    "ddb.throughput_exceeded": _json_error(
        400,
        "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your "
        "provisioning level with the UpdateTable API.",
    ),
    "ddb.throttling": _json_error(
        400, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "Throughput exceeds the current capacity."
    ),
    "ddb.expired_token": _json_error(
        400, "com.amazon.coral.service#ExpiredTokenException", "The security token included in the request is expired"
    ),
    "ddb.access_denied": _json_error(
        400,
        "com.amazon.coral.service#AccessDeniedException",
        f"User: {ROLE} is not authorized to perform: dynamodb:Query on resource: "
        "arn:aws:dynamodb:us-east-1:123456789012:table/cbbd_checkpoints because no identity-based policy allows "
        "the dynamodb:Query action",
        key="Message",
    ),
    "ddb.signature_expired": _json_error(
        400,
        "com.amazon.coral.service#InvalidSignatureException",
        "Signature expired: 20261203T114000Z is now earlier than 20261203T115500Z (20261203T120000Z - 5 min.)",
    ),
    "glue.throttling": _json_error(400, "ThrottlingException", "Rate exceeded", key="Message"),
}


class _Raw:
    """The raw body botocore reads a response from (``stream()`` for parsing, ``read()`` for streams)."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._read = False

    def stream(self, **_: Any) -> Iterator[bytes]:
        if self._body:
            yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        data, self._read = (b"" if self._read else self._body), True
        return data


@dataclass
class _Replayer:
    responses: list[Recorded]
    sent: list[Any] = field(default_factory=list)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.sent.append(request)
        rec = self.responses[0] if len(self.responses) == 1 else self.responses.pop(0)
        # Sent now, as AWS would (a fixed Date would read as clock skew).
        headers = {"content-length": str(len(rec.body)), "date": formatdate(usegmt=True), **rec.headers}
        return AWSResponse(request.url, rec.status, headers, _Raw(rec.body))


def replay(target: Any, operation: str, responses: Recorded | Sequence[Recorded]) -> _Replayer:
    """Answer every call of one operation with recorded responses (the last one repeats).

    Args:
        target: A botocore client, or a boto3 session (clients made from it afterwards).
        operation: ``service.Operation`` as botocore's events name it (``s3.HeadObject``,
            ``dynamodb.BatchWriteItem``, ``glue.BatchCreatePartition``).
        responses: One response, or a sequence answered in turn.

    Returns:
        The replayer (``.sent`` holds the requests botocore sent).
    """
    seq = [responses] if isinstance(responses, Recorded) else list(responses)
    handler = _Replayer(seq)
    events = target.meta.events if hasattr(target, "meta") else target.events
    events.register(f"before-send.{operation}", handler)
    return handler


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries without their sleeps (the attempts still happen, and are counted)."""
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.0)
