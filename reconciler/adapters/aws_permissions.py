"""The IAM permissions this tool needs, per command, each with why: one list for the policy and the checks.

``docs/iam-policy.json``, ``.md`` and ``.tf`` are generated from :data:`PERMISSIONS` (by
:mod:`reconciler.adapters.aws_policy_docs`; a test keeps them in step), ``reconcile
doctor`` checks every entry a profile uses, ``reconcile apply`` checks the entries its plan's
actions use before the first write, and an AccessDenied names the command that needs the action.

Uses, from least to most:

* ``plan``: read the lake, the catalog and this tool's checkpoints (``plan``, ``audit``, ``locks
  list``, and the planning half of ``apply``);
* ``athena``: the same through Athena (profiles with ``engine: athena``);
* ``apply``: write objects, register partitions, checkpoint units, hold the apply lock;
* ``msck``: ``catalog.partition_registration: msck``;
* ``delete``: ``apply --allow-delete`` (remove superseded originals, objects with no columns; move
  an object that is not readable Parquet to ``quarantine/<its key>``, its bytes kept);
* ``cache``: the observation cache's shared tier (``cache.shared``): plan and apply read and write
  their cache entries there, and nothing else.

DynamoDB access is limited to this tool's items (``endpoint`` = ``reconcile:*``) with the
``dynamodb:LeadingKeys`` condition: the pipeline's checkpoints are never read or written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMANDS",
    "PERMISSIONS",
    "USES",
    "Names",
    "Permission",
    "needed_by",
    "permissions_for",
    "policy_document",
    "resource_arns",
]

#: Every use, in the order the policy lists them.
USES = ("plan", "athena", "apply", "msck", "delete", "cache")

#: The command line each use stands for, as the user types it.
COMMANDS = {
    "plan": "reconcile plan",
    "athena": "reconcile plan (engine: athena)",
    "apply": "reconcile apply",
    "msck": "reconcile apply (partition_registration: msck)",
    "delete": "reconcile apply --allow-delete",
    "cache": "reconcile plan (cache.shared)",
}

#: The partition-key prefix of every DynamoDB item this tool reads or writes.
OWN_ITEMS = "reconcile:*"


@dataclass(frozen=True, slots=True)
class Names:
    """The names a profile gives the AWS resources (the defaults are the real lake's).

    Attributes:
        bucket: The lake bucket.
        region: The region of Glue, DynamoDB and Athena.
        account: The account id (``*`` when unknown: the shipped policy).
        bronze_database: The bronze Glue database.
        silver_database: The silver Glue database.
        table: The checkpoint table.
        workgroup: The Athena workgroup.
        results_prefix: The key prefix of Athena's results in the bucket.
        partition: The AWS partition (``aws``).
        shared_prefix: The key prefix of the observation cache's shared tier (``cache.shared``).
    """

    bucket: str = "hoops-edge"
    region: str = "us-east-1"
    account: str = "*"
    bronze_database: str = "cbbd_bronze"
    silver_database: str = "cbbd_silver"
    table: str = "cbbd_checkpoints"
    workgroup: str = "cbbd"
    results_prefix: str = "athena/"
    partition: str = "aws"
    shared_prefix: str = "meta/cbbd-reconciler/cache/"


@dataclass(frozen=True, slots=True)
class Permission:
    """One IAM action on one kind of resource, for one use.

    Attributes:
        action: ``service:Action``.
        resource: The kind of resource (a key of :func:`resource_arns`).
        use: One of :data:`USES`.
        why: What the tool does with it, in a few words.
        own_items: DynamoDB calls limited to this tool's items (``dynamodb:LeadingKeys``).
    """

    action: str
    resource: str
    use: str
    why: str
    own_items: bool = False


PERMISSIONS: tuple[Permission, ...] = (
    # plan: read only.
    Permission("s3:ListBucket", "bucket", "plan", "preflight (HeadBucket) and listing each table's objects"),
    Permission("s3:GetObject", "lake-objects", "plan", "reading Parquet footers and rows, raw bodies and bronze"),
    Permission("glue:GetDatabase", "glue-databases", "plan", "preflight: both Glue databases exist"),
    Permission("glue:GetTable", "glue-tables", "plan", "each table's columns, partition keys and location"),
    Permission("glue:GetPartitions", "glue-tables", "plan", "the registered partitions, to plan what to register"),
    Permission("dynamodb:DescribeTable", "checkpoints", "plan", "preflight: the checkpoint table and its key schema"),
    Permission(
        "dynamodb:Query", "checkpoints", "plan", "this tool's unit checkpoints and rewrite records", own_items=True
    ),
    Permission(
        "dynamodb:BatchGetItem", "checkpoints", "plan", "the checkpoints of the units a plan finds lacking", True
    ),
    Permission("dynamodb:GetItem", "checkpoints", "plan", "the remaining API quota noted by the last apply", True),
    Permission("s3:GetObject", "locks", "plan", "reading the apply locks (`locks list`; apply, before taking one)"),
    # athena: the engine, when the profile chooses it.
    Permission("athena:GetWorkGroup", "workgroup", "athena", "preflight: the workgroup exists"),
    Permission("athena:StartQueryExecution", "workgroup", "athena", "running the coverage and duplicate queries"),
    Permission("athena:GetQueryExecution", "workgroup", "athena", "polling a query to its end"),
    Permission("athena:GetQueryResults", "workgroup", "athena", "reading a query's rows"),
    Permission("athena:StopQueryExecution", "workgroup", "athena", "cancelling a query that outlives its timeout"),
    Permission("s3:GetBucketLocation", "bucket", "athena", "Athena checks the result and data bucket's region"),
    Permission("s3:PutObject", "results", "athena", "Athena writes query results under the result location"),
    Permission("s3:GetObject", "results", "athena", "Athena reads query results back"),
    Permission("glue:BatchGetPartition", "glue-tables", "athena", "Athena reads the partitions a query prunes to"),
    # apply: writes.
    Permission("s3:PutObject", "lake-objects", "apply", "writing raw, bronze and silver objects (conditional PUTs)"),
    Permission("glue:BatchCreatePartition", "glue-tables", "apply", "registering the partitions it finds or writes"),
    Permission("glue:UpdateTable", "glue-tables", "apply", "a partition-key change (columns and data untouched)"),
    Permission("glue:BatchDeletePartition", "glue-tables", "apply", "a key change moves or drops old-shape partitions"),
    Permission("dynamodb:BatchWriteItem", "checkpoints", "apply", "checkpointing units, 25 a call", own_items=True),
    Permission(
        "dynamodb:PutItem", "checkpoints", "apply", "notes: the remaining quota, fetch windows in progress", True
    ),
    Permission("s3:PutObject", "locks", "apply", "taking and renewing the apply lock (a conditional create)"),
    Permission("s3:DeleteObject", "locks", "apply", "releasing the apply lock (also force-unlock)"),
    # msck: partition registration by MSCK REPAIR TABLE through Athena.
    Permission("athena:StartQueryExecution", "workgroup", "msck", "running MSCK REPAIR TABLE"),
    Permission("athena:GetQueryExecution", "workgroup", "msck", "polling MSCK to its end"),
    Permission("athena:StopQueryExecution", "workgroup", "msck", "stopping an MSCK that outlives its timeout"),
    Permission("s3:GetBucketLocation", "bucket", "msck", "Athena checks the bucket's region"),
    Permission("s3:PutObject", "results", "msck", "Athena writes MSCK's result file"),
    # delete: only with --allow-delete (after confirmation).
    Permission("s3:DeleteObject", "table-objects", "delete", "removing an original once its rewrite is written"),
    Permission("glue:BatchDeletePartition", "glue-tables", "delete", "removing orphan and misplaced partitions"),
    Permission(
        "s3:PutObject", "quarantine", "delete", "moving an unreadable object to quarantine/<its key>, its bytes kept"
    ),
    Permission("s3:GetObject", "quarantine", "delete", "comparing a quarantine copy already there with the object"),
    # cache: the observation cache's shared tier, when the profile sets cache.shared.
    Permission("s3:GetObject", "shared-cache", "cache", "reading the cache entries another machine's plan shared"),
    Permission("s3:PutObject", "shared-cache", "cache", "sharing this plan's cache entries (results, footers)"),
)


def resource_arns(kind: str, names: Names) -> list[str]:
    """The ARNs of one kind of resource.

    Args:
        kind: ``bucket``, ``lake-objects``, ``table-objects``, ``results``, ``locks``, ``quarantine``,
            ``shared-cache``, ``glue-databases``, ``glue-tables``, ``checkpoints`` or ``workgroup``.
        names: The profile's names.

    Returns:
        The ARNs (Glue needs the catalog and the database beside a table).
    """
    p, r, a, b = names.partition, names.region, names.account, names.bucket
    glue = f"arn:{p}:glue:{r}:{a}"
    dbs = (names.bronze_database, names.silver_database)
    results = names.results_prefix.strip("/")
    arns = {
        "bucket": [f"arn:{p}:s3:::{b}"],
        "lake-objects": [f"arn:{p}:s3:::{b}/{layer}/*" for layer in ("raw", "bronze", "silver")],
        "table-objects": [f"arn:{p}:s3:::{b}/{layer}/*" for layer in ("bronze", "silver")],
        "results": [f"arn:{p}:s3:::{b}/{results}/*"],
        "locks": [f"arn:{p}:s3:::{b}/_reconcile/locks/*"],
        "quarantine": [f"arn:{p}:s3:::{b}/quarantine/*"],
        "shared-cache": [f"arn:{p}:s3:::{b}/{names.shared_prefix.strip('/')}/*"],
        "glue-databases": [f"{glue}:catalog", *(f"{glue}:database/{d}" for d in dbs)],
        "glue-tables": [
            f"{glue}:catalog",
            *(f"{glue}:database/{d}" for d in dbs),
            *(f"{glue}:table/{d}/*" for d in dbs),
        ],
        "checkpoints": [f"arn:{p}:dynamodb:{r}:{a}:table/{names.table}"],
        "workgroup": [f"arn:{p}:athena:{r}:{a}:workgroup/{names.workgroup}"],
    }
    return arns[kind]


def permissions_for(uses: Iterable[str]) -> list[Permission]:
    """The permissions of some uses, each (action, resource) once, in catalogue order.

    Args:
        uses: Uses from :data:`USES`.

    Returns:
        The permissions.
    """
    wanted = set(uses)
    unknown = wanted - set(USES)
    if unknown:
        raise ValueError(f"unknown use(s): {', '.join(sorted(unknown))}")
    seen: set[tuple[str, str]] = set()
    out = []
    for perm in PERMISSIONS:
        if perm.use in wanted and (perm.action, perm.resource) not in seen:
            seen.add((perm.action, perm.resource))
            out.append(perm)
    return out


def needed_by(action: str, where: str = "") -> str:
    """The command that needs an IAM action, for error messages.

    Args:
        action: ``service:Action``.
        where: The resource it was refused on (``s3://hoops-edge/_reconcile/locks/lake/...``), to
            tell the apply lock's ``s3:DeleteObject`` from ``--allow-delete``'s.

    Returns:
        e.g. ``reconcile plan`` or ``reconcile apply --allow-delete``; ``""`` when not ours.
    """
    perms = [p for p in PERMISSIONS if p.action == action]
    if not perms:
        return ""
    if "/_reconcile/locks/" in where:
        perms = [p for p in perms if p.resource == "locks"] or perms
    elif "/quarantine/" in where:
        perms = [p for p in perms if p.resource == "quarantine"] or perms
    elif where.endswith(".arrow"):  # the shared cache tier's entries (no lake object is Arrow IPC)
        perms = [p for p in perms if p.resource == "shared-cache"] or perms
    elif where.startswith("s3://"):
        perms = [p for p in perms if p.resource != "locks"] or perms
    return COMMANDS[perms[0].use]


def _sid(use: str, service: str) -> str:
    if use == service:
        return use.capitalize() + "Queries"
    return use.capitalize() + {"s3": "S3", "glue": "Glue", "dynamodb": "DynamoDB", "athena": "Athena"}[service]


def policy_document(names: Names | None = None, uses: Sequence[str] = USES) -> dict[str, Any]:
    """The least-privilege identity policy for some uses.

    One statement per use and service (``PlanS3``, ``ApplyDynamoDB``, ``DeleteS3`` ...), so a
    role that only plans gets the ``Plan*`` statements alone.

    Args:
        names: The resources (default: the real lake's, any account).
        uses: The uses to grant.

    Returns:
        The policy, ready for ``json.dumps``.
    """
    names = names or Names()
    statements: list[dict[str, Any]] = []
    for use in [u for u in USES if u in uses]:
        groups: dict[tuple[str, bool], list[Permission]] = {}
        for perm in PERMISSIONS:
            if perm.use == use:
                groups.setdefault((perm.action.split(":", 1)[0], perm.own_items), []).append(perm)
        for (service, own), perms in groups.items():
            resources: list[str] = []
            for perm in perms:
                resources.extend(a for a in resource_arns(perm.resource, names) if a not in resources)
            actions = sorted({p.action for p in perms})
            sid = _sid(use, service) + ("OwnItems" if own else "")
            if service == "s3":
                # One statement per resource kind: s3 object and bucket actions apply to different ARNs.
                by_kind: dict[str, list[str]] = {}
                for perm in perms:
                    by_kind.setdefault(perm.resource, []).append(perm.action)
                for kind, acts in by_kind.items():
                    statements.append(
                        {
                            "Sid": sid + kind.title().replace("-", ""),
                            "Effect": "Allow",
                            "Action": sorted(set(acts)),
                            "Resource": resource_arns(kind, names),
                        }
                    )
                continue
            statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
            if own:
                statement["Condition"] = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [OWN_ITEMS]}}
            statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}
