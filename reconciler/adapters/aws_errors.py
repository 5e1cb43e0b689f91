"""Translate botocore failures into one-line :class:`BackendError` messages that name the cause and the fix.

Every AWS adapter runs its calls, and the building of its session and clients, inside
:func:`translate_aws_errors`, so a raw botocore exception never reaches the user. The line
names the resource (``what``), the cause and the fix:

* credentials: none found, incomplete, expired (a session token, an SSO session), a failing
  ``credential_process``, an unknown ``AWS_PROFILE``: what to run or set;
* clock skew (a signature AWS thinks is too old or too new): by how much, and to sync the clock;
* a HEAD answered without a body (S3 gives only the status): the likely causes, clock skew when
  the response's ``Date`` says so (:class:`~reconciler.adapters.s3_store.S3Store` re-asks with a
  GET to learn the real code before it gets here);
* AccessDenied: the IAM action, and the command that needs it (:mod:`aws_permissions`);
* throttling that outlasted botocore's retries: how many attempts, and that a re-run resumes.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

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
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
)

from reconciler import hints
from reconciler.adapters.aws_permissions import needed_by
from reconciler.errors import BackendError

__all__ = ["BOTO_CONFIG", "MAX_ATTEMPTS", "error_code", "iam_action", "skew_seconds", "translate_aws_errors"]

log = logging.getLogger(__name__)

#: botocore's retries per call (so 9 attempts in all) before an error reaches us.
MAX_ATTEMPTS = 8

#: Client config for every adapter: botocore's standard retry mode with more patience than the
#: default (throttling and 5xx are retried with jittered backoff before we see them).
#: Pooled connections per client: the S3 listing runs 16 sub-prefix listings for each of up to 4
#: tables at once (``reconciler/adapters/s3_store.py``, ``reconciler/observe/layout.py``).
MAX_POOL_CONNECTIONS = 64
BOTO_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    connect_timeout=10,
    read_timeout=60,
    max_pool_connections=MAX_POOL_CONNECTIONS,
)

#: AWS refuses a signature more than five minutes off its own clock.
SKEW_LIMIT_SECONDS = 300.0

_ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError", "Forbidden"}
)
_EXPIRED = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired"})
_UNKNOWN_KEY = frozenset(
    {"InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException", "InvalidToken", "InvalidSecurity"}
)
_SKEW = frozenset({"RequestTimeTooSkewed", "RequestInTheFuture"})
_BAD_SIGNATURE = frozenset({"SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature"})
_THROTTLED = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "ProvisionedThroughputExceededException",
        "ProvisionedThroughputExceeded",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "TooManyRequestsException",
        "BandwidthLimitExceeded",
    }
)

# Operations whose IAM action is not simply "<service>:<operation>".
_IAM_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "DeleteObject": "s3:DeleteObject",
    "GetBucketLocation": "s3:GetBucketLocation",
}
_SERVICE_OF = {
    **dict.fromkeys(
        (
            "GetTable",
            "CreateTable",
            "UpdateTable",
            "GetPartitions",
            "BatchGetPartition",
            "BatchCreatePartition",
            "BatchDeletePartition",
            "GetDatabase",
        ),
        "glue",
    ),
    **dict.fromkeys(
        ("Query", "GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "BatchGetItem", "DescribeTable"),
        "dynamodb",
    ),
    **dict.fromkeys(
        (
            "StartQueryExecution",
            "GetQueryExecution",
            "GetQueryResults",
            "StopQueryExecution",
            "GetWorkGroup",
        ),
        "athena",
    ),
    "GetCallerIdentity": "sts",
    "SimulatePrincipalPolicy": "iam",
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


def _from_xml(message: str) -> tuple[str, str]:
    """Code and message from an XML error body a JSON service's client could not parse."""
    code = re.search(r"<Code>([^<]*)</Code>", message)
    text = re.search(r"<Message>([^<]*)</Message>", message)
    return (code.group(1) if code else ""), (text.group(1) if text else "")


def error_code(exc: ClientError) -> str:
    """The error code of a ClientError (``AccessDenied``; ``400`` for a HEAD without a body).

    Args:
        exc: The error.

    Returns:
        The code, recovered from an XML body left in the message where a client could not parse it.
    """
    err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(err.get("Code") or "")
    message = str(err.get("Message") or "")
    if message.lstrip().startswith("<"):
        code = _from_xml(message)[0] or code
    return code


def _headers(exc: ClientError) -> Mapping[str, Any]:
    meta = exc.response.get("ResponseMetadata", {}) if isinstance(exc.response, dict) else {}
    headers = meta.get("HTTPHeaders") or {}
    return {str(k).lower(): v for k, v in headers.items()}


_SIGNATURE_TIMES = re.compile(
    r"(\d{8}T\d{6}Z) is (?:now|still) (?:earlier|later) than \S+ \((\d{8}T\d{6}Z) [-+] 5 min\.\)"
)


def _when(text: object) -> datetime | None:
    """A time as AWS writes it: ISO 8601 (``2026-12-03T12:20:00Z``), compact (``20261203T120000Z``) or HTTP."""
    value = str(text or "").strip()
    for parse in (
        lambda v: datetime.fromisoformat(v.replace("Z", "+00:00")),
        lambda v: datetime.strptime(v, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
        parsedate_to_datetime,
    ):
        try:
            got = parse(value)
        except (TypeError, ValueError, IndexError):
            continue
        return got if got.tzinfo else got.replace(tzinfo=UTC)
    return None


def skew_seconds(exc: ClientError, now: datetime | None = None) -> float | None:
    """How far our clock is from AWS's, from the error (its server time, or the response's Date).

    Args:
        exc: The error.
        now: Our time (default: now).

    Returns:
        Seconds, positive when our clock is ahead; None when the response does not tell.
    """
    err = exc.response.get("Error", {})
    message = str(err.get("Message") or "")
    # DynamoDB, Glue, Athena, STS: "Signature expired: 20260101T000000Z is now earlier than
    # 20260101T001000Z (20260101T001500Z - 5 min.)": the first time is ours, the bracketed one AWS's.
    stamp = re.search(_SIGNATURE_TIMES, message)
    if stamp:
        ours, theirs = _when(stamp.group(1)), _when(stamp.group(2))
        if ours and theirs:
            return (ours - theirs).total_seconds()
    server = _when(err.get("ServerTime")) if err.get("ServerTime") else None
    if server is None and _headers(exc).get("date"):
        server = _when(_headers(exc)["date"])
    if server is None:
        return None
    sent = _when(err.get("RequestTime")) if err.get("RequestTime") else None
    return ((sent or now or datetime.now(UTC)) - server).total_seconds()


def _skew_line(what: str, seconds: float) -> str:
    way = "ahead of" if seconds > 0 else "behind"
    return (
        f"AWS refused the request for {what}: this machine's clock is {abs(seconds) / 60:.0f} min {way} AWS's "
        "(signatures more than 5 min off are rejected): sync the clock (enable NTP, e.g. "
        "`sudo timedatectl set-ntp true`) and run again"
    )


def _refresh_hint() -> str:
    profile = os.environ.get("AWS_PROFILE")
    if profile:
        return f"refresh them (`aws sso login --profile {profile}`, or renew the profile's keys) and run again"
    return (
        "refresh them (`aws sso login`, or export a new AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
        "AWS_SESSION_TOKEN) and run again"
    )


def _denied(what: str, op: str, message: str) -> str:
    action = iam_action(op)
    # AWS names the action it evaluated ("... is not authorized to perform: glue:GetPartitions on ...").
    named = re.search(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)", message)
    if named:
        action = named.group(1)
    who = re.search(r"User: (\S+) is not authorized", message)
    role = f"the role ({who.group(1)})" if who else "the role"
    explicit = (
        " (an explicit deny: a service control policy or permission boundary refuses it)"
        if "explicit deny" in message
        else ""
    )
    command = needed_by(action, what)
    need = f" for `{command}`" if command else ""
    return (
        f"access denied to {what}: {role} needs {action}{need}{explicit}: add it to the role's policy "
        f"(docs/iam-policy.json; `{hints.command('doctor')}` lists every missing permission)"
    )


def _bodiless(what: str, op: str, status: int, exc: ClientError) -> str:
    skew = skew_seconds(exc)
    if skew is not None and abs(skew) > SKEW_LIMIT_SECONDS:
        return _skew_line(what, skew)
    if status == 400:
        return (
            f"S3 answered {op} on {what} with 400 and no body: most often expired credentials (a session token "
            f"past its expiry): {_refresh_hint()}; otherwise check store.region"
        )
    if status == 403:
        return (
            f"S3 answered {op} on {what} with 403 and no body: either the role lacks {iam_action(op)} (which "
            f"`{needed_by(iam_action(op)) or 'reconcile plan'}` needs) or the credentials are expired or "
            f"wrong: `{hints.command('doctor')}` tells which"
        )
    return f"S3 answered {op} on {what} with HTTP {status} and no body"


def _client_error(what: str, exc: ClientError) -> str:
    err = exc.response.get("Error", {}) if isinstance(exc.response, dict) else {}
    code = str(err.get("Code") or "")
    message = _one_line(err.get("Message") or "")
    if message.startswith("<"):
        code, message = _from_xml(message)
        code = code or str(err.get("Code") or "")
    op = exc.operation_name or "?"
    meta = exc.response.get("ResponseMetadata", {})
    status = int(meta.get("HTTPStatusCode") or 0)
    attempts = int(meta.get("RetryAttempts") or 0) + 1
    detail = f"{code}: {message}" if message else code
    if code.isdigit() or (op.startswith("Head") and message in ("", "Bad Request", "Forbidden", "Not Found")):
        return _bodiless(what, op, status or int(code or 0), exc)
    if (
        code in _SKEW
        or (code in _BAD_SIGNATURE and "Signature expired" in message)
        or ("Signature not yet current" in message)
    ):
        skew = skew_seconds(exc)
        return _skew_line(what, skew if skew is not None else SKEW_LIMIT_SECONDS)
    if code in _EXPIRED:
        return f"the AWS credentials used for {what} have expired ({code}): {_refresh_hint()}"
    if code in _UNKNOWN_KEY:
        return (
            f"AWS does not recognise the access key used for {what} ({code}): check AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SESSION_TOKEN (a session token must go with its own key)"
        )
    if code in _BAD_SIGNATURE:
        return (
            f"AWS rejected the signature of the request for {what} ({code}): the secret key does not match the "
            "access key: check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key"
        )
    if code in _ACCESS_DENIED or status == 403:
        return _denied(what, op, message)
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
    if code in _THROTTLED or status == 429:
        return (
            f"AWS throttled {op} on {what} ({code or status}) through {attempts} attempt(s) with backoff: wait a "
            "minute and run again (an apply resumes where it stopped)"
        )
    return f"{op} on {what} failed: {detail or 'HTTP ' + str(status)}"


def _credentials_line(what: str, exc: BotoCoreError) -> str:
    profile = os.environ.get("AWS_PROFILE")
    named = f"AWS profile {profile}" if profile else "the AWS profile"
    if isinstance(exc, ProfileNotFound):
        name = exc.kwargs.get("profile") or profile
        return (
            f"AWS profile {name!r} (AWS_PROFILE) is not in ~/.aws/config or ~/.aws/credentials: fix AWS_PROFILE, "
            f"or create it (`aws configure --profile {name}` or `aws configure sso`)"
        )
    if isinstance(exc, SSOError) or (isinstance(exc, TokenRetrievalError) and "sso" in str(exc.kwargs).lower()):
        login = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return f"the AWS SSO session for {what} has expired or was never started: run `{login}` and run again"
    if isinstance(exc, CredentialRetrievalError):
        provider = str(exc.kwargs.get("provider", ""))
        reason = _one_line(exc.kwargs.get("error_msg", "")) or "no reason given"
        if provider == "custom-process":
            return (
                f"the credential_process of {named} failed ({reason}): run that command by hand to see why, "
                "fix it, and run again"
            )
        return f"AWS credentials for {what} could not be obtained from {provider or 'the provider'} ({reason})"
    if isinstance(exc, PartialCredentialsError):
        var = exc.kwargs.get("cred_var", "a value")
        return (
            f"incomplete AWS credentials in {exc.kwargs.get('provider', 'the environment')} for {what}: {var} is "
            "missing: set it, or unset the others and use AWS_PROFILE"
        )
    return (
        f"no AWS credentials for {what}: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or run where a role provides them)"
    )


_CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)


@contextmanager
def translate_aws_errors(what: str) -> Iterator[None]:
    """Run AWS calls (or build a session or client); turn any botocore failure into one line.

    Args:
        what: The resource being accessed, as the user knows it
            (``s3://hoops-edge/silver/fct_plays/``, ``DynamoDB table cbbd_checkpoints``).

    Yields:
        Nothing; use as ``with translate_aws_errors("..."):``.

    Raises:
        BackendError: With a message that names the resource, the cause and the fix.
    """
    try:
        yield
    except ClientError as exc:
        raise BackendError(_client_error(what, exc)) from exc
    except _CREDENTIAL_ERRORS as exc:
        raise BackendError(_credentials_line(what, exc)) from exc
    except NoRegionError as exc:
        raise BackendError(
            f"no AWS region for {what}: set region in the profile's section, or AWS_REGION / AWS_DEFAULT_REGION"
        ) from exc
    except (EndpointConnectionError, ReadTimeoutError, ConnectionError) as exc:
        raise BackendError(
            f"cannot reach AWS for {what} ({_one_line(exc)}): check the network, the region "
            "and any endpoint_url in the profile"
        ) from exc
    except BotoCoreError as exc:
        raise BackendError(f"AWS call for {what} failed: {type(exc).__name__}: {_one_line(exc)}") from exc
