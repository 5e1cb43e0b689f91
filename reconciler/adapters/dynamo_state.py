"""The AWS state store: checkpoints, metadata and lease locks in the existing ``cbbd_checkpoints``.

The table belongs to the cbbd_etl pipeline (hash ``endpoint`` S, range ``parameter_hash`` S,
``payload`` a JSON string). Our items live in namespaces of our own, as the pipeline's gap fill
does with ``gap_fill:<endpoint>``; no other endpoint's item is ever read or written:

* ``endpoint = "reconcile:<target>"``, ``parameter_hash = sha256({"unit": unit})``: a unit
  (``unit`` attribute + JSON ``payload`` with the whole :class:`UnitRecord`).
* ``endpoint = "reconcile:meta"``, ``parameter_hash = sha256({"key": key})``: a metadata value.
* ``endpoint = "reconcile:lock"``, ``parameter_hash = sha256({"lock_id": id})``: a lease, its
  fields as top-level attributes (conditions need ``owner`` and ``expires_at``) plus a
  descriptive ``payload``.

The hash is :func:`reconciler.lake.layout.param_hash`, the pipeline's own recipe.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import boto3
from botocore.exceptions import ClientError

from reconciler.adapters._batching import DDB_BATCH_GET, DDB_BATCH_WRITE, chunked
from reconciler.adapters.aws_errors import translate_aws_errors
from reconciler.adapters.aws_session import make_client, region_of
from reconciler.adapters.dynamo_items import (
    LOCK_ENDPOINT,
    META_ENDPOINT,
    UNIT_ENDPOINT_PREFIX,
    lock_item,
    lock_of,
    num_attr,
    str_attr,
    unit_endpoint,
    unit_item,
    unit_record,
)
from reconciler.config import StateSettings
from reconciler.core.empties import EmptyDigest, digest_empties
from reconciler.errors import BackendError
from reconciler.lake.layout import param_hash
from reconciler.ports import LockInfo, UnitRecord

__all__ = ["LOCK_ENDPOINT", "META_ENDPOINT", "UNIT_ENDPOINT_PREFIX", "DynamoState"]

log = logging.getLogger(__name__)


class DynamoState:
    """:class:`~reconciler.ports.StateStore` on the pipeline's DynamoDB checkpoint table."""

    def __init__(
        self,
        table: str = "cbbd_checkpoints",
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
        max_batch_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Connect (no call is made until the first operation).

        Args:
            table: The checkpoint table.
            region: Its region.
            endpoint_url: A DynamoDB-compatible endpoint (moto); None for AWS.
            session: A boto3 session (default: a new one, honouring AWS_PROFILE).
            max_batch_attempts: BatchWriteItem attempts per chunk while items stay unprocessed.
            sleep: The sleep used between those attempts (injected by tests).
        """
        self.table = table
        self.region = region
        self.endpoint_url = endpoint_url
        self.max_batch_attempts = max_batch_attempts
        self._sleep = sleep
        self._what = f"DynamoDB table {table}"
        self.client: Any = make_client(session, "dynamodb", region=region, endpoint_url=endpoint_url, what=self._what)

    @classmethod
    def from_settings(cls, settings: StateSettings, *, session: boto3.session.Session | None = None) -> DynamoState:
        """Build from the profile's ``state`` section.

        Args:
            settings: State settings of kind ``dynamodb``.
            session: A boto3 session shared with the profile's other AWS adapters.

        Returns:
            The store.
        """
        region = region_of(settings, session)
        return cls(settings.table, region=region, endpoint_url=settings.endpoint_url, session=session)

    def check(self) -> None:
        """Check that the table exists with the pipeline's key schema (one DescribeTable).

        Raises:
            BackendError: If the table is missing, or is not keyed hash ``endpoint`` (S), range
                ``parameter_hash`` (S), naming the fix.
        """
        with translate_aws_errors(self._what):
            try:
                desc = self.client.describe_table(TableName=self.table)["Table"]
            except ClientError as exc:
                if self._code(exc) != "ResourceNotFoundException":
                    raise
                raise BackendError(
                    f"{self._what} does not exist"
                    + (f" at {self.endpoint_url}" if self.endpoint_url else f" in {self.region}")
                    + ": create it (hash key endpoint, range key parameter_hash, both strings), or fix "
                    "state.table, state.region or state.endpoint_url"
                ) from None
        types = {a["AttributeName"]: a["AttributeType"] for a in desc.get("AttributeDefinitions", [])}
        keys = {k["KeyType"]: k["AttributeName"] for k in desc.get("KeySchema", [])}
        if keys != {"HASH": "endpoint", "RANGE": "parameter_hash"} or {types.get(v) for v in keys.values()} != {"S"}:
            found = ", ".join(f"{t.lower()} {n} ({types.get(n, '?')})" for t, n in sorted(keys.items()))
            raise BackendError(
                f"{self._what} is keyed {found}; the checkpoint table must have hash key endpoint (S) and "
                "range key parameter_hash (S): point state.table at cbbd_checkpoints"
            )

    def _query(self, endpoint: str) -> Iterable[dict[str, Any]]:
        paginator = self.client.get_paginator("query")
        with translate_aws_errors(self._what):
            for page in paginator.paginate(
                TableName=self.table,
                KeyConditionExpression="endpoint = :e",
                ExpressionAttributeValues={":e": str_attr(endpoint)},
                ConsistentRead=True,
            ):
                yield from page.get("Items", [])

    def load_units(self, target: str) -> dict[str, UnitRecord]:
        """Every recorded unit of a target (Query on its partition, paginated).

        Args:
            target: The spec name.

        Returns:
            Unit key → record.

        Raises:
            BackendError: If an item of our namespace is malformed (it is named).
        """
        out: dict[str, UnitRecord] = {}
        for item in self._query(unit_endpoint(target)):
            rec = unit_record(target, item, self._what)
            out[rec.unit] = rec
        return out

    def empty_digests(self, target: str, young_since: float) -> dict[int, EmptyDigest]:
        """A target's ``empty`` records aggregated per season.

        Reads the target's partition (a paginated Query, as :meth:`load_units`): a record's
        status lives in its JSON payload, which a filter expression cannot see. That is one Query
        page per ~1 MB of records, where listing the same units would cost a BatchGetItem per
        100 of them.

        Args:
            target: The spec name.
            young_since: Records checked after this instant are fresh by age.

        Returns:
            Season → digest (:func:`reconciler.core.empties.digest_empties`).

        Raises:
            BackendError: If an item of our namespace is malformed (it is named).
        """
        rows = (
            (rec.unit, rec.season, rec.updated_at)
            for item in self._query(unit_endpoint(target))
            if (rec := unit_record(target, item, self._what)).status == "empty"
        )
        return digest_empties(rows, young_since)

    def load_units_for(self, target: str, units: Iterable[str]) -> dict[str, UnitRecord]:
        """The recorded units among some keys (BatchGetItem, 100 keys a call, consistent reads).

        Args:
            target: The spec name.
            units: Unit keys.

        Returns:
            Unit key → record, for the keys that have one.

        Raises:
            BackendError: If an item is malformed, or keys stay unprocessed after
                ``max_batch_attempts`` attempts with backoff.
        """
        endpoint = str_attr(unit_endpoint(target))
        keys = [{"endpoint": endpoint, "parameter_hash": str_attr(param_hash({"unit": u}))} for u in sorted(set(units))]
        out: dict[str, UnitRecord] = {}
        for chunk in chunked(keys, DDB_BATCH_GET):
            pending: list[dict[str, Any]] = list(chunk)
            for attempt in range(1, self.max_batch_attempts + 1):
                with translate_aws_errors(self._what):
                    resp = self.client.batch_get_item(
                        RequestItems={self.table: {"Keys": pending, "ConsistentRead": True}}
                    )
                for item in resp.get("Responses", {}).get(self.table, []):
                    rec = unit_record(target, item, self._what)
                    out[rec.unit] = rec
                pending = resp.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not pending:
                    break
                if attempt < self.max_batch_attempts:
                    self._sleep(random.uniform(0, min(2.0, 0.05 * 2**attempt)))
            if pending:
                raise BackendError(
                    f"{self._what}: {len(pending)} checkpoint read(s) still unprocessed after "
                    f"{self.max_batch_attempts} BatchGetItem attempts with backoff (throttled): the table's "
                    "read capacity is spent; wait a minute and run again"
                )
        return out

    def record_units(self, records: Iterable[UnitRecord]) -> None:
        """Write unit states with BatchWriteItem, 25 a call, retrying unprocessed items.

        Blocking (it sleeps between attempts): async callers run it in a worker thread. A call
        DynamoDB throttles outright (ProvisionedThroughputExceededException) is retried by
        botocore with backoff first; items it leaves unprocessed are retried here, with jitter.

        Args:
            records: The states; a later record of the same unit wins.

        Raises:
            BackendError: If items stay unprocessed after ``max_batch_attempts`` attempts.
        """
        latest = {(r.target, r.unit): r for r in records}  # one batch may not name a key twice
        items = [unit_item(r) for r in latest.values()]
        for chunk in chunked(items, DDB_BATCH_WRITE):
            pending: list[dict[str, Any]] = [{"PutRequest": {"Item": it}} for it in chunk]
            for attempt in range(1, self.max_batch_attempts + 1):
                with translate_aws_errors(self._what):
                    resp = self.client.batch_write_item(RequestItems={self.table: pending})
                pending = resp.get("UnprocessedItems", {}).get(self.table, [])
                if not pending:
                    break
                if attempt < self.max_batch_attempts:
                    # Full jitter: writers throttled together do not come back together.
                    delay = random.uniform(0, min(2.0, 0.05 * 2**attempt))
                    log.debug("%d item(s) unprocessed; retrying in %.2f s", len(pending), delay)
                    self._sleep(delay)
            if pending:
                raise BackendError(
                    f"{self._what}: {len(pending)} checkpoint(s) still unprocessed after "
                    f"{self.max_batch_attempts} BatchWriteItem attempts with backoff (throttled): the table's "
                    "write capacity is spent; wait a minute and run again (the apply resumes)"
                )

    def _meta_key(self, key: str) -> dict[str, Any]:
        return {"endpoint": str_attr(META_ENDPOINT), "parameter_hash": str_attr(param_hash({"key": key}))}

    def get_meta(self, key: str) -> str | None:
        """A metadata value.

        Args:
            key: The key.

        Returns:
            The value, or None.
        """
        with translate_aws_errors(self._what):
            item = self.client.get_item(TableName=self.table, Key=self._meta_key(key), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return str(json.loads(item["payload"]["S"])["value"])

    def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value.

        Args:
            key: The key.
            value: The value.
        """
        item = {
            **self._meta_key(key),
            "meta_key": str_attr(key),
            "payload": str_attr(json.dumps({"key": key, "value": value})),
        }
        with translate_aws_errors(self._what):
            self.client.put_item(TableName=self.table, Item=item)

    def _lock_key(self, lock_id: str) -> dict[str, Any]:
        return {"endpoint": str_attr(LOCK_ENDPOINT), "parameter_hash": str_attr(param_hash({"lock_id": lock_id}))}

    def _code(self, exc: ClientError) -> str:
        return str(exc.response.get("Error", {}).get("Code", ""))

    def acquire_lock(self, lock: LockInfo, now: float) -> LockInfo | None:
        """Take a lock with a conditional PutItem (free, expired, or already ours).

        Args:
            lock: The lock to take (its owner is us).
            now: The current time, epoch seconds.

        Returns:
            None if we hold the lock now; otherwise the current holder.
        """
        for _ in range(3):
            with translate_aws_errors(self._what):
                try:
                    self.client.put_item(
                        TableName=self.table,
                        Item=lock_item(lock),
                        ConditionExpression="attribute_not_exists(endpoint) OR expires_at < :now OR #o = :me",
                        ExpressionAttributeNames={"#o": "owner"},
                        ExpressionAttributeValues={":now": num_attr(now), ":me": str_attr(lock.owner)},
                    )
                    return None
                except ClientError as exc:
                    if self._code(exc) != "ConditionalCheckFailedException":
                        raise
                item = self.client.get_item(
                    TableName=self.table, Key=self._lock_key(lock.lock_id), ConsistentRead=True
                ).get("Item")
            if item is not None:
                return lock_of(item)
            # Released between our PutItem and GetItem: try again.
        raise BackendError(f"{self._what}: lock {lock.lock_id} keeps changing hands; retry")

    def renew_lock(self, lock_id: str, owner: str, expires_at: float) -> bool:
        """Extend our lease (UpdateItem conditional on ``owner = :me``).

        Args:
            lock_id: The lock.
            owner: Our owner id.
            expires_at: The new expiry, epoch seconds.

        Returns:
            False if we no longer hold the lock.
        """
        with translate_aws_errors(self._what):
            try:
                self.client.update_item(
                    TableName=self.table,
                    Key=self._lock_key(lock_id),
                    UpdateExpression="SET expires_at = :e",
                    ConditionExpression="#o = :me",
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={":e": num_attr(expires_at), ":me": str_attr(owner)},
                )
            except ClientError as exc:
                if self._code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def release_lock(self, lock_id: str, owner: str | None) -> bool:
        """Release a lock (DeleteItem, conditional on ``owner = :me`` unless forced).

        Args:
            lock_id: The lock.
            owner: Our owner id, or None to release whoever holds it.

        Returns:
            True if a lock was removed.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._lock_key(lock_id),
            "ReturnValues": "ALL_OLD",
        }
        if owner is not None:
            kwargs.update(
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": str_attr(owner)},
            )
        with translate_aws_errors(self._what):
            try:
                resp = self.client.delete_item(**kwargs)
            except ClientError as exc:
                if self._code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        return bool(resp.get("Attributes"))

    def list_locks(self) -> list[LockInfo]:
        """Every recorded lock, expired ones included, by lock id.

        Returns:
            The locks.
        """
        return sorted((lock_of(item) for item in self._query(LOCK_ENDPOINT)), key=lambda lk: lk.lock_id)

    def close(self) -> None:
        """Nothing to release (boto3 clients need no closing)."""
