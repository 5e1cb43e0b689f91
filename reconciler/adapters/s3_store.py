"""The AWS object store: the lake in an S3 bucket (``hoops-edge``), keys relative to the bucket.

Behaves like :class:`~reconciler.adapters.local_store.LocalStore` (the contract suite runs both):
listings in key order without temporary objects, ``put(if_absent=True)`` as a conditional write,
``delete`` counting only objects that existed.
"""

from __future__ import annotations

import logging
import posixpath
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import boto3
import pyarrow.fs as pafs
from botocore.exceptions import ClientError

from reconciler.adapters._batching import S3_DELETE_BATCH, chunked
from reconciler.adapters.arrow_errors import store_read_error
from reconciler.adapters.aws_errors import MAX_ATTEMPTS, error_code, translate_aws_errors
from reconciler.adapters.aws_session import make_client, make_session, region_of
from reconciler.config import StoreSettings
from reconciler.errors import BackendError, LakeError, ReconcilerError
from reconciler.ports import ObjectInfo

__all__ = ["S3Store"]

log = logging.getLogger(__name__)

_IGNORED_SUFFIXES = (".tmp",)
#: Keys per ListObjectsV2 page (S3's maximum).
_PAGE = 1000
#: Sub-prefixes of one listing listed at once.
_LISTERS = 16
_UNSUPPORTED_CONDITIONAL = frozenset({"NotImplemented", "InvalidArgument", "InvalidRequest"})
#: The object exists: a conditional PUT (``If-None-Match: *``) lost to it.
_EXISTS = frozenset({"PreconditionFailed", "412"})
#: Another conditional write to the same key was in flight: S3 asks for a retry.
_CONFLICT = frozenset({"ConditionalRequestConflict", "409"})
#: Conditional PUT attempts while S3 answers 409.
CONFLICT_ATTEMPTS = 5


def _code(exc: ClientError) -> str:
    return error_code(exc)


def _explain_head(exc: ClientError, ask: Callable[[], Any]) -> ClientError:
    """A HEAD's error has only a status (``400``, ``403``): re-ask with a GET, whose error has a body.

    The GET's error (``ExpiredToken``, ``AccessDenied``, ``RequestTimeTooSkewed``) names the cause
    the HEAD could not; when the GET succeeds, the HEAD's own error stands.
    """
    if not _code(exc).isdigit() or _code(exc) == "404":
        return exc
    try:
        ask()
    except ClientError as told:
        return told
    return exc


class S3Store:
    """A lake in an S3 bucket, optionally under a key prefix.

    Attributes:
        bucket: The bucket name.
        prefix: The key prefix of the lake inside the bucket (``""`` or ending with ``/``).
        client: The boto3 S3 client (exposed so tests can count calls with event hooks).
    """

    def __init__(
        self,
        bucket: str,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        prefix: str = "",
        session: boto3.session.Session | None = None,
    ) -> None:
        """Open a bucket (no call is made until the first operation).

        Args:
            bucket: The bucket (``hoops-edge``).
            region: Its region.
            endpoint_url: An S3-compatible endpoint (moto, MinIO); None for AWS.
            prefix: A key prefix under which the lake lives; keys are relative to it.
            session: A boto3 session (default: a new one, honouring AWS_PROFILE).
        """
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.region = region
        self.endpoint_url = endpoint_url
        what = f"s3://{bucket}"
        self._session = session or make_session(region, what)
        self.client: Any = make_client(self._session, "s3", region=region, endpoint_url=endpoint_url, what=what)
        self._conditional_put = True
        self._sleep: Callable[[float], None] = time.sleep
        # One pyarrow filesystem for the store, kept while the credentials it holds are current.
        self._fs: tuple[tuple[str, str, str | None], pafs.S3FileSystem] | None = None
        self._fs_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: StoreSettings, *, session: boto3.session.Session | None = None) -> S3Store:
        """Build from the profile's ``store`` section.

        Args:
            settings: Store settings of kind ``s3``.
            session: A boto3 session shared with the profile's other AWS adapters.

        Returns:
            The store.
        """
        if not settings.bucket:
            raise BackendError("store.bucket is required for an s3 store")
        region = region_of(settings, session)
        return cls(settings.bucket, region=region, endpoint_url=settings.endpoint_url, session=session)

    def check(self) -> None:
        """Check that the bucket exists and we may list it (one HeadBucket).

        Raises:
            BackendError: Naming the bucket and the fix (create it, fix the name, region or
                endpoint, grant s3:ListBucket, or provide credentials).
        """
        with translate_aws_errors(f"s3://{self.bucket}"):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                    raise BackendError(
                        f"S3 bucket {self.bucket} does not exist"
                        + (f" at {self.endpoint_url}" if self.endpoint_url else f" in {self.region}")
                        + ": create it, or fix store.bucket, store.region or store.endpoint_url"
                    ) from None
                raise _explain_head(exc, lambda: self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)) from None

    def _full(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise LakeError(f"{key}: invalid object key")
        return self.prefix + key

    def _rel(self, full_key: str) -> str:
        return full_key[len(self.prefix) :]

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, recursively, in key order (ListObjectsV2, paginated).

        A listing longer than one page is split at the next ``/`` below ``prefix`` and the parts
        (a table's ``season=`` folders) are listed concurrently: a table of 120k objects is
        otherwise 120 pages one after another.

        Args:
            prefix: A key prefix; a trailing ``/`` names a directory.

        Yields:
            One :class:`ObjectInfo` per object (folder markers and temporary objects skipped).
        """
        with translate_aws_errors(self.uri(prefix)):
            first = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self._full(prefix), MaxKeys=_PAGE)
            found = first.get("Contents", []) if not first.get("IsTruncated") else self._split_listing(prefix)
        out = []
        for obj in found:
            key = self._rel(obj["Key"])
            name = posixpath.basename(key)
            if not name or name.startswith(".tmp-") or name.endswith(_IGNORED_SUFFIXES):
                continue
            out.append(
                ObjectInfo(
                    key=key,
                    size=int(obj["Size"]),
                    mtime=obj["LastModified"].timestamp(),
                    etag=str(obj.get("ETag", "")).strip('"'),
                )
            )
        out.sort(key=lambda o: o.key)
        yield from out

    def _pages(self, full_prefix: str, delimiter: str = "") -> Iterator[dict[str, Any]]:
        extra = {"Delimiter": delimiter} if delimiter else {}
        paginator = self.client.get_paginator("list_objects_v2")
        yield from paginator.paginate(
            Bucket=self.bucket, Prefix=full_prefix, PaginationConfig={"PageSize": _PAGE}, **extra
        )

    def _split_listing(self, prefix: str) -> list[dict[str, Any]]:
        """The raw entries under ``prefix``: its own level with a delimiter, each sub-prefix in parallel."""
        full = self._full(prefix)
        here: list[dict[str, Any]] = []
        parts: list[str] = []
        for page in self._pages(full, "/"):
            here.extend(page.get("Contents", []))
            parts.extend(cp["Prefix"] for cp in page.get("CommonPrefixes", []))
        if not parts:
            return here

        def listed(part: str) -> list[dict[str, Any]]:
            return [obj for page in self._pages(part) for obj in page.get("Contents", [])]

        with ThreadPoolExecutor(max_workers=min(_LISTERS, len(parts))) as pool:
            for got in pool.map(listed, parts):
                here.extend(got)
        return here

    def list_prefixes(self, prefix: str) -> list[str]:
        """The immediate "directories" under ``prefix`` (ListObjectsV2 with ``Delimiter='/'``).

        Args:
            prefix: A directory key (a missing trailing ``/`` is added), or ``""`` for the root.

        Returns:
            Sorted child prefixes, each ending with ``/``.
        """
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        out: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        with translate_aws_errors(self.uri(prefix)):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self._full(prefix), Delimiter="/"):
                out.extend(self._rel(cp["Prefix"]) for cp in page.get("CommonPrefixes", []))
        return sorted(out)

    def get(self, key: str) -> bytes:
        """Read one object.

        Args:
            key: The object key.

        Returns:
            Its bytes.

        Raises:
            LakeError: If it does not exist.
        """
        full = self._full(key)
        with translate_aws_errors(self.uri(key)):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
            except ClientError as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    raise LakeError(f"{key}: no such object in s3://{self.bucket}/{self.prefix}") from None
                raise
            with body:
                data: bytes = body.read()
        return data

    def put(self, key: str, data: bytes, *, if_absent: bool = False) -> bool:
        """Write an object (a single PUT is atomic in S3).

        With ``if_absent`` the PUT carries ``If-None-Match: *``, so S3 itself refuses to
        overwrite. A backend that rejects that header gets a HEAD then a PUT instead; that
        fallback is racy (two writers may both see "absent"), which is logged once.

        Args:
            key: The object key.
            data: The bytes.
            if_absent: Refuse (return False) if the object already exists.

        Returns:
            True if written.
        """
        full = self._full(key)
        with translate_aws_errors(self.uri(key)):
            if not if_absent:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
                return True
            if self._conditional_put:
                written = self._put_if_absent(key, full, data)
                if written is not None:
                    return written
            if self._exists_full(full):
                return False
            self.client.put_object(Bucket=self.bucket, Key=full, Body=data)
            return True

    def _put_if_absent(self, key: str, full: str, data: bytes) -> bool | None:
        """A PUT with ``If-None-Match: *``; None when the endpoint does not support it.

        412 (the object exists) is False. 409 (another conditional write of the key was in
        flight) is retried after a jittered pause, as S3 asks: the other write may fail.
        """
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=data, IfNoneMatch="*")
                return True
            except ClientError as exc:
                code = _code(exc)
                if code in _EXISTS:
                    return False
                if code in _CONFLICT:
                    if attempt == CONFLICT_ATTEMPTS:
                        raise BackendError(
                            f"{self.uri(key)}: another writer kept writing this key at the same time "
                            f"({CONFLICT_ATTEMPTS} conditional PUTs answered 409 ConditionalRequestConflict): "
                            "is a second apply or the pipeline running? run again once it is done"
                        ) from None
                    self._sleep(random.uniform(0, min(2.0, 0.1 * 2**attempt)))
                    continue
                if code not in _UNSUPPORTED_CONDITIONAL:
                    raise
                log.warning(
                    "%s rejects conditional PUT (%s); falling back to HEAD-then-PUT, which is "
                    "not atomic between concurrent writers",
                    self.endpoint_url or "S3",
                    code,
                )
                self._conditional_put = False
                return None
        return None  # pragma: no cover - the loop returns or raises

    def _exists_full(self, full: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=full)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            better = _explain_head(
                exc, lambda: self.client.get_object(Bucket=self.bucket, Key=full, Range="bytes=0-0")["Body"].close()
            )
            if _code(better) in ("NoSuchKey", "404"):
                return False
            raise better from None
        return True

    def exists(self, key: str) -> bool:
        """Whether the object exists (HeadObject).

        Args:
            key: The object key.

        Returns:
            True if it exists.
        """
        full = self._full(key)
        with translate_aws_errors(self.uri(key)):
            return self._exists_full(full)

    def _existing(self, full_keys: Sequence[str]) -> list[str]:
        """The subset of keys that exist, found by listing each parent "directory" once."""
        wanted = set(full_keys)
        parents = sorted({posixpath.dirname(k) for k in wanted})
        found: set[str] = set()
        paginator = self.client.get_paginator("list_objects_v2")
        for parent in parents:
            pfx = parent + "/" if parent else ""
            for page in paginator.paginate(Bucket=self.bucket, Prefix=pfx, Delimiter="/"):
                found.update(o["Key"] for o in page.get("Contents", []) if o["Key"] in wanted)
        return sorted(found)

    def delete(self, keys: Sequence[str]) -> int:
        """Delete objects with DeleteObjects, 1,000 keys a call.

        Only the executor calls this, after ``--allow-delete`` and confirmation.

        Args:
            keys: Object keys.

        Returns:
            How many objects existed and were deleted (absent keys are not counted).

        Raises:
            BackendError: If S3 reports a per-key failure (the first is named).
        """
        full_keys = [self._full(k) for k in dict.fromkeys(keys)]
        if not full_keys:
            return 0
        deleted = 0
        with translate_aws_errors(self.uri(posixpath.commonprefix([self._rel(k) for k in full_keys]))):
            existing = self._existing(full_keys)
            for chunk in chunked(existing, S3_DELETE_BATCH):
                resp = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
                )
                errors = resp.get("Errors", [])
                if errors:
                    first = errors[0]
                    raise BackendError(
                        f"deleting {self.uri(self._rel(first.get('Key', '?')))} failed: "
                        f"{first.get('Code')}: {first.get('Message')} ({len(errors)} key(s) not deleted)"
                    )
                deleted += len(chunk)
        return deleted

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        """The store's pyarrow S3 filesystem and the root under which keys live.

        Credentials are resolved by boto3 (profiles, SSO, roles) and handed to pyarrow, so both
        see the same identity. Temporary credentials are a snapshot: boto3 refreshes them before
        they expire, and a refresh makes a new filesystem; until then the one filesystem (its
        connection pool) is shared by every read of the store.

        Returns:
            ``(S3FileSystem, "bucket[/prefix]")``.

        Raises:
            BackendError: If no credentials can be found.
        """
        with translate_aws_errors(f"s3://{self.bucket}"):
            creds = self._session.get_credentials()
            if creds is None:
                raise BackendError(
                    f"no AWS credentials for s3://{self.bucket}: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
                    "and AWS_SECRET_ACCESS_KEY"
                )
            frozen = creds.get_frozen_credentials()
        root = f"{self.bucket}/{self.prefix}".rstrip("/")
        ident = (frozen.access_key, frozen.secret_key, frozen.token)
        with self._fs_lock:
            if self._fs is None or self._fs[0] != ident:
                self._fs = (ident, self._filesystem(frozen))
            return self._fs[1], root

    def _filesystem(self, frozen: Any) -> pafs.S3FileSystem:
        """A new pyarrow filesystem holding one set of frozen credentials."""
        kwargs: dict[str, Any] = {
            "region": self.region,
            "access_key": frozen.access_key,
            "secret_key": frozen.secret_key,
            "session_token": frozen.token,
            # Throttling (503 SlowDown), 5xx and resets are retried with backoff before a read fails.
            "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=MAX_ATTEMPTS),
        }
        if self.endpoint_url:
            parts = urlsplit(self.endpoint_url)
            kwargs["endpoint_override"] = parts.netloc or parts.path
            kwargs["scheme"] = parts.scheme or "https"
        return pafs.S3FileSystem(**kwargs)

    def read_error(self, exc: BaseException, uri: str) -> ReconcilerError | None:
        """The error a failed read of one of this store's objects is, when the store failed it.

        Args:
            exc: What pyarrow raised reading the object.
            uri: The object's location, for the message.

        Returns:
            The store's failure as an error, or None when the bytes themselves are bad (a note).
        """
        return store_read_error(exc, uri)

    def uri(self, key: str) -> str:
        """The ``s3://`` URI of a key.

        Args:
            key: The object key.

        Returns:
            ``s3://bucket/[prefix/]key``.
        """
        return f"s3://{self.bucket}/{self.prefix}{key}"
