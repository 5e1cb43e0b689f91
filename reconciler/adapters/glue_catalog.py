"""The AWS catalog: table definitions and partitions in the Glue Data Catalog.

Locations are ``s3://<bucket>/<key>`` in Glue and keys relative to the lake root here. Tables
are written as the pipeline's Terraform declares them (external Parquet, Hive SerDe), and
partitions copy their table's storage descriptor with their own location, as
``fix_glue_catalog.py`` does.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from reconciler.adapters._batching import GLUE_CREATE_BATCH, GLUE_DELETE_BATCH, chunked
from reconciler.adapters.aws_errors import BOTO_CONFIG, translate_aws_errors
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
        session = session or boto3.session.Session(region_name=region)
        self.client: Any = session.client("glue", region_name=region, endpoint_url=endpoint_url, config=BOTO_CONFIG)

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
        catalog = cls(bucket, region=settings.region, endpoint_url=settings.endpoint_url, session=session)
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

    def put_table(self, table: CatalogTable) -> None:
        """Create the table, or update it if it exists (CreateTable, then UpdateTable).

        Args:
            table: The definition.
        """
        table_input = self._table_input(table)
        with translate_aws_errors(f"Glue table {table.database}.{table.name}"):
            try:
                self.client.create_table(DatabaseName=table.database, TableInput=table_input)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "AlreadyExistsException":
                    raise
                self.client.update_table(DatabaseName=table.database, TableInput=table_input)

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

    def _raise_errors(self, table: CatalogTable, errors: list[dict[str, Any]], ignore: str, doing: str) -> None:
        real = [e for e in errors if e.get("ErrorDetail", {}).get("ErrorCode") != ignore]
        if not real:
            return
        first = real[0]
        detail = first.get("ErrorDetail", {})
        where = partition_name(table, first.get("PartitionValues", []))
        more = f" (and {len(real) - 1} more)" if len(real) > 1 else ""
        raise BackendError(
            f"{doing} {table.database}.{table.name} partition {where} failed: "
            f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}{more}"
        )

    def create_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Register partitions with BatchCreatePartition, at most 100 a call.

        Partitions that already exist are left as they are (not an error).

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
            with translate_aws_errors(f"Glue table {database}.{name}"):
                resp = self.client.batch_create_partition(
                    DatabaseName=database, TableName=name, PartitionInputList=entries
                )
            calls += 1
            self._raise_errors(table, resp.get("Errors", []), "AlreadyExistsException", "registering")
        return calls

    def delete_partitions(self, database: str, name: str, parts: Sequence[PartitionSpec]) -> int:
        """Unregister partitions (never data) with BatchDeletePartition, at most 25 a call.

        Partitions that are already absent are not an error.

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
            with translate_aws_errors(f"Glue table {database}.{name}"):
                resp = self.client.batch_delete_partition(
                    DatabaseName=database,
                    TableName=name,
                    PartitionsToDelete=[{"Values": list(p.values)} for p in chunk],
                )
            calls += 1
            self._raise_errors(table, resp.get("Errors", []), "EntityNotFoundException", "removing")
        return calls

    def close(self) -> None:
        """Nothing to release (boto3 clients need no closing)."""
