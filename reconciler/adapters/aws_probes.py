"""One harmless call per IAM action, for ``reconcile doctor`` where IAM's simulation is not allowed.

Every probe is a read, or a write that IAM refuses when the permission is missing but that
changes nothing when it is granted:

* S3 ``PutObject`` with ``If-Match`` on a key that does not exist (S3 answers 404, writes nothing);
* DynamoDB ``PutItem`` conditional on an item that never exists (``reconcile:doctor``),
  ``BatchWriteItem`` deleting that same absent item;
* Glue ``BatchDeletePartition`` of a partition no table can hold (``__reconcile_doctor__``),
  ``UpdateTable`` and ``BatchCreatePartition`` on a table that does not exist;
* Athena ``GetQueryExecution``/``GetQueryResults``/``StopQueryExecution`` on a query id that
  does not exist.

``s3:DeleteObject`` and ``athena:StartQueryExecution`` have no such call: they are reported as
not checked. Glue's write probes name a table that does not exist (``reconcile_doctor_probe``):
a policy that lists exact tables instead of ``table/<database>/*`` reads as denied there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.adapters.aws_access import Verdict, judge
from reconciler.adapters.aws_permissions import Names, Permission, resource_arns

__all__ = ["Clients", "probe"]

PROBE_KEY = "_reconcile_doctor_probe"
PROBE_TABLE = "reconcile_doctor_probe"
PROBE_ITEM = {"endpoint": {"S": "reconcile:doctor"}, "parameter_hash": {"S": "probe"}}
NO_QUERY = "00000000-0000-0000-0000-000000000000"


@dataclass(frozen=True, slots=True)
class Clients:
    """The clients the probes use (None for a service the profile does not use)."""

    s3: Any = None
    glue: Any = None
    dynamodb: Any = None
    athena: Any = None


def _prefix(perm: Permission, names: Names) -> str:
    if perm.resource == "locks":
        return "_reconcile/locks/"
    if perm.resource == "quarantine":
        return "quarantine/"
    if perm.resource == "shared-cache":
        return names.shared_prefix.rstrip("/") + "/"
    return "silver/" if perm.resource in ("lake-objects", "table-objects") else names.results_prefix.rstrip("/") + "/"


def _s3_get(clients: Clients, names: Names, prefix: str) -> Callable[[], Any]:
    def call() -> Any:
        listed = clients.s3.list_objects_v2(Bucket=names.bucket, Prefix=prefix, MaxKeys=1).get("Contents", [])
        key = listed[0]["Key"] if listed else prefix + PROBE_KEY
        return clients.s3.get_object(Bucket=names.bucket, Key=key, Range="bytes=0-0")["Body"].close()

    return call


def _calls(perm: Permission, clients: Clients, names: Names, table: tuple[str, str]) -> Callable[[], Any] | None:
    s3, glue, ddb, athena = clients.s3, clients.glue, clients.dynamodb, clients.athena
    b, (db, name), prefix = names.bucket, table, _prefix(perm, names)
    wg, tbl = names.workgroup, names.table
    never = {"ConditionExpression": "attribute_exists(endpoint)"}
    calls: dict[str, Callable[[], Any]] = {
        "s3:ListBucket": lambda: s3.list_objects_v2(Bucket=b, Prefix="silver/", MaxKeys=1),
        "s3:GetBucketLocation": lambda: s3.get_bucket_location(Bucket=b),
        "s3:GetObject": _s3_get(clients, names, prefix),
        "s3:PutObject": lambda: s3.put_object(Bucket=b, Key=prefix + PROBE_KEY, Body=b"", IfMatch='"reconcile-doctor"'),
        "glue:GetDatabase": lambda: [glue.get_database(Name=d) for d in (names.bronze_database, names.silver_database)],
        "glue:GetTable": lambda: glue.get_table(DatabaseName=db, Name=name),
        "glue:GetPartitions": lambda: glue.get_partitions(DatabaseName=db, TableName=name, MaxResults=1),
        "glue:BatchGetPartition": lambda: glue.batch_get_partition(
            DatabaseName=db, TableName=name, PartitionsToGet=[{"Values": ["__reconcile_doctor__"]}]
        ),
        "glue:BatchDeletePartition": lambda: glue.batch_delete_partition(
            DatabaseName=db, TableName=name, PartitionsToDelete=[{"Values": ["__reconcile_doctor__"]}]
        ),
        "glue:BatchCreatePartition": lambda: glue.batch_create_partition(
            DatabaseName=db, TableName=PROBE_TABLE, PartitionInputList=[{"Values": ["__reconcile_doctor__"]}]
        ),
        "glue:UpdateTable": lambda: glue.update_table(DatabaseName=db, TableInput={"Name": PROBE_TABLE}),
        "dynamodb:DescribeTable": lambda: ddb.describe_table(TableName=tbl),
        "dynamodb:Query": lambda: ddb.query(
            TableName=tbl,
            KeyConditionExpression="endpoint = :e",
            ExpressionAttributeValues={":e": {"S": "reconcile:meta"}},
            Limit=1,
        ),
        "dynamodb:GetItem": lambda: ddb.get_item(TableName=tbl, Key=PROBE_ITEM),
        "dynamodb:BatchGetItem": lambda: ddb.batch_get_item(RequestItems={tbl: {"Keys": [PROBE_ITEM]}}),
        "dynamodb:PutItem": lambda: ddb.put_item(TableName=tbl, Item=PROBE_ITEM, **never),
        "dynamodb:BatchWriteItem": lambda: ddb.batch_write_item(
            RequestItems={tbl: [{"DeleteRequest": {"Key": PROBE_ITEM}}]}
        ),
        "athena:GetWorkGroup": lambda: athena.get_work_group(WorkGroup=wg),
        "athena:GetQueryExecution": lambda: athena.get_query_execution(QueryExecutionId=NO_QUERY),
        "athena:GetQueryResults": lambda: athena.get_query_results(QueryExecutionId=NO_QUERY),
        "athena:StopQueryExecution": lambda: athena.stop_query_execution(QueryExecutionId=NO_QUERY),
    }
    return calls.get(perm.action)


def probe(perms: Sequence[Permission], clients: Clients, names: Names, table: tuple[str, str]) -> list[Verdict]:
    """Probe each permission once (shared probes run once: ``s3:PutObject`` per prefix).

    Args:
        perms: The permissions.
        clients: The profile's clients.
        names: The profile's resource names.
        table: A table of the lake to probe Glue with (``("cbbd_silver", "fct_plays")``).

    Returns:
        One verdict per permission.

    Raises:
        BackendError: For credentials problems.
    """
    out: list[Verdict] = []
    listing: Verdict | None = None
    for perm in perms:
        call = _calls(perm, clients, names, table)
        resource = resource_arns(perm.resource, names)[-1]
        if call is None:
            detail = "no probe can check it without acting (let the role simulate: iam:SimulatePrincipalPolicy)"
            out.append(Verdict(perm, "unchecked", resource, detail))
            continue
        verdict = judge(call, perm, resource)
        if perm.action == "s3:ListBucket":
            listing = verdict
        if perm.action == "s3:GetObject" and verdict.decision == "denied" and listing and listing.decision == "denied":
            # Without s3:ListBucket, S3 answers 403 for an absent key whatever the role may read.
            verdict = Verdict(perm, "unchecked", resource, "S3 hides absent keys from a role without s3:ListBucket")
        out.append(verdict)
    return out
