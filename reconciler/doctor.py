"""``reconcile doctor``: does this profile's AWS identity hold what each command needs, and do its resources exist?

It finds who the caller is (STS), the permissions the profile uses (:mod:`aws_permissions`:
only the services it is on; Athena's and MSCK's only when chosen), and decides each one with
IAM's own simulation where the caller may run it, else with harmless probes. Then it runs the
resource checks every command's preflight runs (bucket, Glue databases, checkpoint table,
workgroup), each on its own line. Nothing is written: probes change nothing (see
:mod:`aws_probes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from reconciler.adapters.aws_access import Identity, Verdict, identity, principal_arn, simulate
from reconciler.adapters.aws_permissions import COMMANDS, Names, Permission, permissions_for, policy_document
from reconciler.adapters.aws_probes import Clients, probe
from reconciler.adapters.aws_session import make_client, region_of
from reconciler.config import Profile
from reconciler.errors import ReconcilerError
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES

__all__ = [
    "DoctorReport",
    "lake_table_names",
    "profile_names",
    "profile_permissions",
    "profile_policy",
    "profile_uses",
    "run_doctor",
]

_SERVICE_OF_KIND = {
    "bucket": "s3",
    "lake-objects": "s3",
    "table-objects": "s3",
    "results": "s3",
    "locks": "s3",
    "quarantine": "s3",
    "shared-cache": "s3",
    "glue-databases": "glue",
    "glue-tables": "glue",
    "checkpoints": "dynamodb",
    "workgroup": "athena",
}


def profile_uses(profile: Profile) -> list[str]:
    """The uses of :data:`~reconciler.adapters.aws_permissions.USES` a profile's commands make.

    Args:
        profile: The profile.

    Returns:
        ``plan``, ``apply`` and ``delete`` always; ``athena`` with the Athena engine; ``msck``
        with MSCK registration on Glue behind Athena; ``cache`` with a shared cache tier.
    """
    uses = ["plan", "apply", "delete"]
    if profile.engine.kind == "athena":
        uses.insert(1, "athena")
        if profile.catalog.kind == "glue" and profile.catalog.partition_registration == "msck":
            uses.insert(3, "msck")
    if profile.cache.enabled and profile.cache.shared:
        uses.append("cache")
    return uses


def profile_permissions(profile: Profile, uses: list[str] | None = None) -> list[Permission]:
    """The permissions a profile needs: those of its uses, on the services it is on.

    Args:
        profile: The profile.
        uses: Restrict to these uses (default: :func:`profile_uses`).

    Returns:
        The permissions.
    """
    on = {
        "s3": profile.store.kind == "s3",
        "glue": profile.catalog.kind == "glue",
        "dynamodb": profile.state.kind == "dynamodb",
        "athena": profile.engine.kind == "athena",
    }
    return [p for p in permissions_for(uses or profile_uses(profile)) if on[_SERVICE_OF_KIND[p.resource]]]


def profile_names(profile: Profile, account: str = "*") -> Names:
    """The resource names of a profile, for ARNs.

    Args:
        profile: The profile.
        account: The account id (``*``: any).

    Returns:
        The names (the region is the catalog's, else the state's, else the store's).
    """
    output = profile.engine.output_location or ""
    parts = urlsplit(output)
    results = parts.path.lstrip("/") if parts.netloc == profile.store.bucket and parts.path.strip("/") else "athena/"
    section = profile.catalog if profile.catalog.kind == "glue" else profile.state
    return Names(
        bucket=profile.store.bucket or "hoops-edge",
        region=region_of(section) if section.kind in ("glue", "dynamodb") else region_of(profile.store),
        account=account,
        bronze_database=profile.catalog.bronze_database,
        silver_database=profile.catalog.silver_database,
        table=profile.state.table,
        workgroup=profile.engine.workgroup,
        results_prefix=results,
        shared_prefix=profile.cache.shared or Names().shared_prefix,
    )


def profile_policy(profile: Profile, account: str = "*") -> dict[str, Any]:
    """The least-privilege policy for a profile (``reconcile doctor --policy``).

    Args:
        profile: The profile.
        account: The account id.

    Returns:
        The policy document.
    """
    return policy_document(profile_names(profile, account), profile_uses(profile))


def lake_table_names(names: Names) -> list[tuple[str, str]]:
    """Every table of the lake, as ``(database, table)``: what Glue's ``table/<db>/*`` stands for.

    Args:
        names: The profile's names.

    Returns:
        The pairs.
    """
    return [(names.bronze_database, t) for t in sorted(BRONZE_TABLES)] + [
        (names.silver_database, t) for t in sorted(SILVER_TABLES)
    ]


@dataclass
class DoctorReport:
    """What ``reconcile doctor`` found.

    Attributes:
        who: The caller.
        method: ``iam:SimulatePrincipalPolicy`` or ``probes``.
        verdicts: One per permission.
        problems: Resource problems (a missing bucket, database, table or workgroup), one line each.
    """

    who: Identity
    method: str
    verdicts: list[Verdict]
    problems: list[str] = field(default_factory=list)

    @property
    def missing(self) -> list[Verdict]:
        """The permissions denied."""
        return [v for v in self.verdicts if v.decision == "denied"]

    @property
    def unchecked(self) -> list[Verdict]:
        """The permissions that could not be checked."""
        return [v for v in self.verdicts if v.decision == "unchecked"]

    def lines(self) -> Iterator[tuple[str, str]]:
        """The report, one ``(style, text)`` line at a time: a line per missing permission.

        Yields:
            ``("missing" | "unchecked" | "problem" | "info", text)``.
        """
        yield "info", f"Identity: {self.who.arn} (account {self.who.account})"
        yield "info", f"Checked {len(self.verdicts)} permission(s) by {self.method}."
        for v in self.missing:
            p = v.permission
            yield "missing", f"missing {p.action} on {v.resource}: `{COMMANDS[p.use]}` needs it for {p.why}"
        for v in self.unchecked:
            p = v.permission
            yield "unchecked", f"not checked {p.action}: {v.detail}; `{COMMANDS[p.use]}` needs it for {p.why}"
        for problem in self.problems:
            yield "problem", problem


def run_doctor(profile: Profile, backends: Any) -> DoctorReport:
    """Check a profile's permissions and resources.

    Args:
        profile: The profile (some port on AWS).
        backends: Its open backends (their clients and shared session are used).

    Returns:
        The report.

    Raises:
        BackendError: When the caller's credentials fail (one line, before any check).
    """
    session = backends.session
    region = profile_names(profile).region
    # One endpoint serves every service in a test (moto); on AWS there is none.
    endpoint = profile.store.endpoint_url or profile.catalog.endpoint_url or profile.state.endpoint_url
    sts = make_client(session, "sts", region=region, endpoint_url=endpoint, what="STS")
    who = identity(sts)
    names = profile_names(profile, who.account)
    perms = profile_permissions(profile)
    tables = lake_table_names(names)
    verdicts: list[Verdict] | None = None
    method = "probes (iam:SimulatePrincipalPolicy is not allowed for this identity)"
    principal = principal_arn(who.arn)
    if principal is not None:
        iam = make_client(session, "iam", region=region, endpoint_url=endpoint, what="IAM")
        verdicts = simulate(iam, principal, perms, names, tables)
        if verdicts is not None:
            method = f"iam:SimulatePrincipalPolicy on {principal}"
    if verdicts is None:
        clients = Clients(
            s3=getattr(backends.store, "client", None),
            glue=getattr(backends.catalog, "client", None),
            dynamodb=getattr(backends.state, "client", None),
            athena=_athena_client(profile, session),
        )
        verdicts = probe(perms, clients, names, (names.silver_database, "fct_plays"))
    problems = []
    for part in (backends.store, backends.catalog, backends.state, backends.engine):
        check = getattr(part, "check", None)
        if check is None:
            continue
        try:
            check()
        except ReconcilerError as exc:
            line = " ".join(str(exc).split())
            if "access denied" not in line:  # a missing permission is already on its own line
                problems.append(line)
    return DoctorReport(who, method, verdicts, problems)


def _athena_client(profile: Profile, session: Any) -> Any:
    if profile.engine.kind != "athena":
        return None
    what = f"Athena workgroup {profile.engine.workgroup}"
    return make_client(session, "athena", region=region_of(profile.engine, session), endpoint_url=None, what=what)
