"""Translate botocore failures into one-line :class:`BackendError` messages that say what to fix.

Every AWS adapter method runs its calls inside :func:`translate_aws_errors`, so a raw botocore
exception never reaches the user. The message names the resource (``what``), the problem, and
the fix: the credential to set, the IAM action the role lacks, the resource to create.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from reconciler.errors import BackendError

__all__ = ["BOTO_CONFIG", "iam_action", "translate_aws_errors"]

log = logging.getLogger(__name__)

#: Client config for every adapter: botocore's standard retry mode with more patience than the
#: default (throttling is retried with backoff before :func:`translate_aws_errors` sees it).
BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=60)

_ACCESS_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"})
_BAD_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "SlowDown",
        "TooManyRequestsException",
    }
)
_NOT_FOUND = frozenset({"ResourceNotFoundException", "EntityNotFoundException", "NoSuchBucket"})

# Operations whose IAM action is not simply "<service>:<operation>".
_IAM_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "DeleteObject": "s3:DeleteObject",
    "HeadBucket": "s3:ListBucket",
}
_SERVICE_OF = {
    "GetTable": "glue",
    "CreateTable": "glue",
    "UpdateTable": "glue",
    "GetPartitions": "glue",
    "BatchCreatePartition": "glue",
    "BatchDeletePartition": "glue",
    "GetDatabase": "glue",
    "Query": "dynamodb",
    "GetItem": "dynamodb",
    "PutItem": "dynamodb",
    "UpdateItem": "dynamodb",
    "DeleteItem": "dynamodb",
    "BatchWriteItem": "dynamodb",
    "DescribeTable": "dynamodb",
    "StartQueryExecution": "athena",
    "GetQueryExecution": "athena",
    "GetQueryResults": "athena",
    "StopQueryExecution": "athena",
    "GetWorkGroup": "athena",
}


def iam_action(operation: str) -> str:
    """The IAM action an API operation needs (``ListObjectsV2`` → ``s3:ListBucket``).

    Args:
        operation: The botocore operation name.

    Returns:
        ``service:Action``, or the operation name when the service is unknown.
    """
    if operation in _IAM_ACTIONS:
        return _IAM_ACTIONS[operation]
    service = _SERVICE_OF.get(operation)
    return f"{service}:{operation}" if service else operation


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _client_error(what: str, exc: ClientError) -> str:
    err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(err.get("Code") or "")
    message = _one_line(err.get("Message") or "")
    op = exc.operation_name or "?"
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    detail = f"{code}: {message}" if message else code
    if code in _ACCESS_DENIED or (status == 403 and code not in _BAD_CREDENTIALS):
        return f"access denied to {what}: the role needs {iam_action(op)} ({detail})"
    if code in _BAD_CREDENTIALS:
        return (
            f"AWS rejected the credentials for {what} ({code}): refresh them "
            "(aws sso login, or new AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN)"
        )
    if code == "NoSuchBucket":
        bucket = err.get("BucketName") or what
        return f"S3 bucket {bucket} does not exist: check store.bucket, store.region and store.endpoint_url"
    if code == "ResourceNotFoundException":
        return f"{what} not found ({detail}): create it or check the table name, region and endpoint_url"
    if code == "EntityNotFoundException":
        return (
            f"{what} not found in the Glue catalog ({message or code}): create the database/table "
            "(terraform) or check catalog.bronze_database/silver_database and region"
        )
    if code in _THROTTLED:
        return (
            f"AWS throttled {op} on {what} ({code}) and it still failed after botocore's retries: "
            "wait and re-run (the run resumes), or lower concurrency"
        )
    return f"{op} on {what} failed: {detail or 'HTTP ' + str(status)}"


@contextmanager
def translate_aws_errors(what: str) -> Iterator[None]:
    """Run AWS calls; turn any botocore failure into a one-line :class:`BackendError`.

    Args:
        what: The resource being accessed, as the user knows it
            (``s3://hoops-edge/silver/fct_plays/``, ``DynamoDB table cbbd_checkpoints``).

    Yields:
        Nothing; use as ``with translate_aws_errors("..."):``.

    Raises:
        BackendError: With a message that names the resource and the fix.
    """
    try:
        yield
    except ClientError as exc:
        raise BackendError(_client_error(what, exc)) from exc
    except (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError) as exc:
        raise BackendError(
            f"no AWS credentials for {what}: set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            f"AWS_SECRET_ACCESS_KEY ({_one_line(exc)})"
        ) from exc
    except NoRegionError as exc:
        raise BackendError(f"no AWS region for {what}: set region in the profile or AWS_REGION") from exc
    except (EndpointConnectionError, ReadTimeoutError, ConnectionError) as exc:
        raise BackendError(
            f"cannot reach AWS for {what} ({_one_line(exc)}): check the network, the region "
            "and any endpoint_url in the profile"
        ) from exc
    except BotoCoreError as exc:
        raise BackendError(f"AWS call for {what} failed: {type(exc).__name__}: {_one_line(exc)}") from exc
