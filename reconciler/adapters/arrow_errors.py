"""Tell a store's read failure from a broken file in pyarrow's errors, and say the store's in one line.

pyarrow reports both as ``OSError``: an S3 failure as ``AWS Error ACCESS_DENIED during HeadObject
operation: No response body.`` (or ``AWS Error UNKNOWN (HTTP status 400) ...``), a local one
with an ``errno``, a damaged Parquet file as ``Couldn't deserialize thrift`` or ``Parquet magic
bytes not found``. Only the last is a fact about the lake (an unreadable object, noted and left
alone); a store failure is an error (after pyarrow's own retries of throttling and 5xx), so an
object never silently drops out of a plan because a read was refused.
"""

from __future__ import annotations

import errno
import re

from reconciler import hints
from reconciler.adapters.aws_permissions import needed_by
from reconciler.errors import BackendError, LakeError, ReconcilerError

__all__ = ["store_read_error"]

_AWS = re.compile(r"AWS Error (?P<kind>[A-Z_]+)(?: \(HTTP status (?P<status>\d+)\))? during (?P<op>\w+) operation")
_EXCEPTION_NAME = re.compile(r"ExceptionName: (\w+)")

_TRANSIENT = frozenset(
    {"SLOW_DOWN", "THROTTLING", "SERVICE_UNAVAILABLE", "INTERNAL_FAILURE", "NETWORK_CONNECTION", "REQUEST_TIMEOUT"}
)
_CREDENTIALS = frozenset(
    {
        "INVALID_ACCESS_KEY_ID",
        "SIGNATURE_DOES_NOT_MATCH",
        "INVALID_CLIENT_TOKEN_ID",
        "UNRECOGNIZED_CLIENT",
        "MISSING_AUTHENTICATION_TOKEN",
        "EXPIRED_TOKEN",
    }
)
_SKEW = frozenset({"REQUEST_TIME_TOO_SKEWED", "REQUEST_EXPIRED"})
_GONE = frozenset({"NO_SUCH_KEY", "RESOURCE_NOT_FOUND", "NO_SUCH_BUCKET"})


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def store_read_error(exc: BaseException, uri: str) -> ReconcilerError | None:
    """The error to raise for a failed read of an object, or None when the object itself is broken.

    Args:
        exc: What pyarrow raised while reading ``uri``.
        uri: The object (``s3://hoops-edge/silver/...``, or a path).

    Returns:
        A :class:`BackendError` (S3 refused or failed the read: credentials, permission, clock,
        throttling that outlasted the retries, the network), a :class:`LakeError` (the object
        vanished since it was listed), or None (the bytes are not readable Parquet: a note).
    """
    if not isinstance(exc, OSError):
        return None
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return LakeError(f"{uri}: gone since it was listed (another writer is at work?): plan again")
    if exc.errno is not None:
        return BackendError(f"{uri}: cannot read it ({exc.strerror or _first_line(exc)})")
    text = str(exc)
    match = _AWS.search(text)
    if match is None:
        return None
    kind, op = match.group("kind"), match.group("op")
    status = int(match.group("status") or 0)
    named = _EXCEPTION_NAME.search(text)
    code = named.group(1) if named else ""
    if kind in _GONE or status == 404:
        return LakeError(f"{uri}: gone since it was listed (another writer is at work?): plan again")
    if kind == "ACCESS_DENIED" or (status == 403 and kind == "UNKNOWN" and not code):
        return BackendError(
            f"access denied reading {uri} ({op}): the role lacks s3:GetObject, which `{needed_by('s3:GetObject')}` "
            f"needs (or the credentials are expired: `{hints.command('doctor')}` tells which)"
        )
    if kind in _SKEW or code == "RequestTimeTooSkewed":
        return BackendError(
            f"AWS refused reading {uri}: this machine's clock is more than 5 min off AWS's: sync the clock "
            "(enable NTP) and run again"
        )
    if kind in _CREDENTIALS or code in ("ExpiredToken", "InvalidToken", "InvalidAccessKeyId") or status == 400:
        return BackendError(
            f"S3 refused the credentials reading {uri} ({code or kind}{f', HTTP {status}' if status else ''}): "
            "they are expired or wrong: refresh them (`aws sso login`, or a new AWS_SESSION_TOKEN) and run again"
        )
    if kind in _TRANSIENT or status >= 500:
        return BackendError(
            f"S3 kept failing reading {uri} ({kind}{f', HTTP {status}' if status else ''}) through its retries: "
            "wait a minute and run again"
        )
    return BackendError(f"reading {uri} failed: {_first_line(exc)}")
