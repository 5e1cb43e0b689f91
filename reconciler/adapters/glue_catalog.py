"""The AWS catalog: table definitions and partitions in the Glue Data Catalog.

Locations are ``s3://<bucket>/<key>`` in Glue and keys relative to the lake root here. Tables
are written as the pipeline's Terraform declares them (external Parquet, Hive SerDe), and
partitions copy their table's storage descriptor with their own location, as
``fix_glue_catalog.py`` does.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from reconciler.adapters._batching import GLUE_CREATE_BATCH, GLUE_DELETE_BATCH, chunked
from reconciler.adapters.aws_errors import translate_aws_errors
from reconciler.adapters.aws_session import make_client, region_of
from reconciler.adapters.local_catalog import check_partition_values, partition_name
from reconciler.config import CatalogSettings
from reconciler.errors import BackendError
from reconciler.ports import CatalogTable, PartitionSpec

__all__ = ["GlueCatalog"]

log = logging.getLogger(__name__)

_PARQUET_SD: dict[str, Any] = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "Parameters": {"serialization.format": "1"},
    },
}


#: Per-entry error codes of Glue's batch calls that a later attempt may not get.
_TRANSIENT_ITEM = frozenset(
    {
        "ThrottlingException",
        "InternalServiceException",
        "OperationTimeoutException",
        "ConcurrentModificationException",
        "ResourceNotReadyException",
    }
)


class GlueCatalog:
    """:class:`~reconciler.ports.Catalog` on AWS Glue.

    Attributes:
        bucket: The lake bucket, for translating locations.
        databases: The databases :meth:`check` requires (the profile's bronze and silver).
        client: The boto3 Glue client (exposed so tests can count calls with event hooks).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        session: boto3.session.Session | None = None,
    ) -> None:
        """Connect to Glue (no call is made until the first operation).

        Args:
            bucket: The lake bucket: relative locations are keys in it.
            prefix: The lake's key prefix in the bucket, as for the S3 store.
            region: The Glue region.
            endpoint_url: A Glue-compatible endpoint (moto); None for AWS.
            session: A boto3 session (default: a new one, honouring AWS_PROFILE).
        """
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.region = region
        self.endpoint_url = endpoint_url
        self.databases: tuple[str, ...] = ("cbbd_bronze", "cbbd_silver")
        self.item_attempts = 5
        self.max_backoff = 4.0
        self._sleep: Callable[[float], None] = time.sleep
        what = "the Glue catalog"
        self.client: Any = make_client(session, "glue", region=region, endpoint_url=endpoint_url, what=what)

    @classmethod
    def from_settings(
        cls, settings: CatalogSettings, bucket: str, *, session: boto3.session.Session | None = None
    ) -> GlueCatalog:
        """Build from the profile's ``catalog`` section.

        Args:
            settings: Catalog settings of kind ``glue``.
            bucket: The lake bucket (from the ``store`` section).
            session: A boto3 session shared with the profile's other AWS adapters.

        Returns:
            The catalog.
        """
        region = region_of(settings, session)
        catalog = cls(bucket, region=region, endpoint_url=settings.endpoint_url, session=session)
        catalog.databases = (settings.bronze_database, settings.silver_database)
        return catalog

    def check(self) -> None:
        """Check that the lake's Glue databases exist (one GetDatabase each).

        Raises:
            BackendError: Naming the missing database and the fix.
        """
        for database in self.databases:
            with translate_aws_errors(f"Glue database {database}"):
                try:
                    self.client.get_database(Name=database)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "EntityNotFoundException":
                        raise
                    raise BackendError(
                        f"Glue database {database} does not exist"
                        + (f" at {self.endpoint_url}" if self.endpoint_url else f" in {self.region}")
                        + ": create it (the pipeline's terraform does), or fix catalog.bronze_database, "
                        "catalog.silver_database, catalog.region or catalog.endpoint_url"
                    ) from None

    def _s3(self, location: str) -> str:
        if location.startswith("s3://"):
            return location
        loc = location if location.endswith("/") or not location else location + "/"
        return f"s3://{self.bucket}/{self.prefix}{loc}"

    def _relative(self, uri: str) -> str:
        root = f"s3://{self.bucket}/{self.prefix}"
        rel = uri[len(root) :] if uri.startswith(root) else uri
        if rel == uri and uri:
            log.warning("Glue location %s is outside the lake %s; kept as is", uri, root)
        return rel if not rel or rel.endswith("/") else rel + "/"

    def _raw_table(self, database: str, name: str) -> dict[str, Any] | None:
        with translate_aws_errors(f"Glue table {database}.{name}"):
            try:
                table: dict[str, Any] = self.client.get_table(DatabaseName=database, Name=name)["Table"]
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "EntityNotFoundException":
                    return None
                raise
        return table

    def _parse(self, database: str, name: str, t: dict[str, Any]) -> CatalogTable:
        sd = t.get("StorageDescriptor", {})
        return CatalogTable(
            database=database,
            name=name,
            location=self._relative(sd.get("Location", "")),
            columns=tuple((c["Name"], c.get("Type", "string")) for c in sd.get("Columns", [])),
            partition_keys=tuple((c["Name"], c.get("Type", "string")) for c in t.get("PartitionKeys", [])),
        )

    def get_table(self, database: str, name: str) -> CatalogTable | None:
        """The table, or None when it (or its database) does not exist.

        Args:
            database: Database name.
            name: Table name.

        Returns:
            The definition.
        """
        raw = self._raw_table(database, name)
        return None if raw is None else self._parse(database, name, raw)

    def _table_input(self, table: CatalogTable) -> dict[str, Any]:
        return {
            "Name": table.name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
            "StorageDescriptor": {
                **_PARQUET_SD,
                "Columns": [{"Name": c, "Type": t} for c, t in table.columns],
                "Location": self._s3(table.location),
            },
            "PartitionKeys": [{"Name": c, "Type": t} for c, t in table.partition_keys],
        }

    def _members(self, shape: str) -> frozenset[str]:
        return frozenset(self.client.meta.service_model.shape_for(shape).members)

    def _merged_input(self, existing: dict[str, Any], table: CatalogTable) -> dict[str, Any]:
        """The existing table as a TableInput, with only its columns, keys and location replaced.

        Parameters, SerDe, formats, compression, owner, description and every other setting are
        kept; a column or key that keeps its name keeps its comment and parameters. Read-only
        fields (CreateTime, DatabaseName, VersionId ...) are left out, as UpdateTable requires.
        """
        keep = self._members("TableInput")
        merged = {k: v for k, v in existing.items() if k in keep}
        merged["Name"] = table.name
        sd_keep = self._members("StorageDescriptor")
        sd = {k: v for k, v in existing.get("StorageDescriptor", {}).items() if k in sd_keep}

        def columns(new: Sequence[tuple[str, str]], old: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
            by_name = {str(c.get("Name", "")).lower(): c for c in old}
            return [{**by_name.get(n.lower(), {}), "Name": n, "Type": t} for n, t in new]

        sd["Columns"] = columns(table.columns, sd.get("Columns", []))
        if table.location:
            sd["Location"] = self._s3(table.location)
        merged["StorageDescriptor"] = sd
        merged["PartitionKeys"] = columns(table.partition_keys, existing.get("PartitionKeys", []))
        return merged

    def put_table(self, table: CatalogTable) -> None:
        """Create the table, or update the one there (GetTable, then CreateTable or UpdateTable).

        An existing table is updated in place: its columns, partition keys and location are
        replaced, everything else it holds (Parameters, SerDe, storage formats) is kept.

        Args:
            table: The definition.
        """
        what = f"Glue table {table.database}.{table.name}"
        existing = self._raw_table(table.database, table.name)
        with translate_aws_errors(what):
            if existing is None:
                try:
                    self.client.create_table(DatabaseName=table.database, TableInput=self._table_input(table))
                    return
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                        raise
                existing = self._raw_table(table.database, table.name)  # created meanwhile: update it
                if existing is None:
                    raise BackendError(f"{what} was created and removed while it was written; run again")
            self.client.update_table(DatabaseName=table.database, TableInput=self._merged_input(existing, table))

    def _require(self, database: str, name: str) -> tuple[CatalogTable, dict[str, Any]]:
        raw = self._raw_table(database, name)
        if raw is None:
            raise BackendError(f"Glue table {database}.{name} not found: create it first (terraform or put_table)")
        return self._parse(database, name, raw), raw

    def list_partitions(self, database: str, name: str) -> list[PartitionSpec]:
        """All registered partitions (GetPartitions, paginated), sorted by values.

        Args:
            database: Database name.
            name: Table name.

        Returns:
            The partitions.
        """
        out: list[PartitionSpec] = []
        paginator = self.client.get_paginator("get_partitions")
        with translate_aws_errors(f"Glue table {database}.{name}"):
            for page in paginator.paginate(DatabaseName=database, TableName=name):
                for p in page.get("Partitions", []):
                    loc = p.get("StorageDescriptor", {}).get("Location", "")
                    out.append(PartitionSpec(values=tuple(p["Values"]), location=self._relative(loc)))
        return sorted(out, key=lambda p: p.values)

    def _batch(
        self,
        table: CatalogTable,
        entries: list[dict[str, Any]],
        call: Callable[[list[dict[str, Any]]], dict[str, Any]],
        ignore: str,
        doing: str,
    ) -> int:
        """One batch call; its entries that fail for a passing reason are sent again, with backoff.

        Glue answers a batch call with per-entry errors (HTTP 200): botocore's retries never see
        them. Throttling, internal errors, timeouts and concurrent modifications are retried up
        to :attr:`item_attempts` times with jittered exponential backoff; ``ignore`` (the entry
        already is as wanted) is not an error; anything else fails at once, named.

        Returns:
            Calls made.
        """
        calls = 0
        pending = entries
        for attempt in range(1, self.item_attempts + 1):
            with translate_aws_errors(f"Glue table {table.database}.{table.name}"):
                resp = call(pending)
            calls += 1
            errors = [e for e in resp.get("Errors", []) if e.get("ErrorDetail", {}).get("ErrorCode") != ignore]
            passing = [e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") in _TRANSIENT_ITEM]
            if not errors:
                return calls
            if len(passing) < len(errors) or attempt == self.item_attempts:
                lasting = [e for e in errors if e not in passing] or errors
                self._raise_errors(table, lasting, doing, attempt)
            failed = {tuple(e.get("PartitionValues", [])) for e in passing}
            pending = [e for e in pending if tuple(e["Values"]) in failed]
            delay = random.uniform(0, min(self.max_backoff, 0.2 * 2**attempt))
            log.debug("%d %s entr(ies) failed for a passing reason; again in %.2f s", len(pending), doing, delay)
            self._sleep(delay)
        return calls  # pragma: no cover - the loop returns or raises

    def _raise_errors(self, table: CatalogTable, errors: list[dict[str, Any]], doing: str, attempts: int) -> None:
        first = errors[0]
        detail = first.get("ErrorDetail", {})
        where = partition_name(table, first.get("PartitionValues", []))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        code = str(detail.get("ErrorCode"))
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        fix = ": wait a minute and run again (the apply resumes)" if code in _TRANSIENT_ITEM else ""
        raise BackendError(
            f"{doing} {table.database}.{table.name} partition {where} failed{tries}: "
            f"{code}: {' '.join(str(detail.get('ErrorMessage')).split())}{more}{fix}"
        )

    def create_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Register partitions with BatchCreatePartition, at most 100 a call.

        Partitions that already exist are left as they are (not an error); entries Glue fails
        for a passing reason (throttling, internal errors) are sent again, with backoff.

        Args:
            database: Database name.
            name: Table name.
            parts: The partitions.

        Returns:
            The number of BatchCreatePartition calls (the GetTable that reads the storage
            descriptor to copy is not counted).

        Raises:
            BackendError: If the table is missing, or Glue rejects a partition (named).
        """
        table, raw = self._require(database, name)
        check_partition_values(table, parts)
        sd = raw.get("StorageDescriptor", {})
        base = {k: v for k, v in sd.items() if k in ("Columns", "InputFormat", "OutputFormat", "SerdeInfo")}
        calls = 0
        for chunk in chunked(list(parts), GLUE_CREATE_BATCH):
            entries = [
                {"Values": list(p.values), "StorageDescriptor": {**base, "Location": self._s3(p.location)}}
                for p in chunk
            ]
            calls += self._batch(
                table,
                entries,
                lambda todo: self.client.batch_create_partition(
                    DatabaseName=database, TableName=name, PartitionInputList=todo
                ),
                "AlreadyExistsException",
                "registering",
            )
        return calls

    def delete_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Unregister partitions (never data) with BatchDeletePartition, at most 25 a call.

        Partitions that are already absent are not an error; passing failures are retried.

        Args:
            database: Database name.
            name: Table name.
            parts: The partitions.

        Returns:
            The number of BatchDeletePartition calls.

        Raises:
            BackendError: If the table is missing, or Glue refuses a partition (named).
        """
        table, _ = self._require(database, name)
        calls = 0
        for chunk in chunked(list(parts), GLUE_DELETE_BATCH):
            calls += self._batch(
                table,
                [{"Values": list(p.values)} for p in chunk],
                lambda todo: self.client.batch_delete_partition(
                    DatabaseName=database, TableName=name, PartitionsToDelete=todo
                ),
                "EntityNotFoundException",
                "removing",
            )
        return calls

    def close(self) -> None:
        """Nothing to release (boto3 clients need no closing)."""
