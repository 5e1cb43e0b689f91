"""Whether the caller holds the permissions of :mod:`aws_permissions`: simulated where IAM allows it, else probed.

* :func:`identity` asks STS who the caller is (GetCallerIdentity needs no permission).
* :func:`simulate` asks IAM (``iam:SimulatePrincipalPolicy`` on the caller's own role or user)
  how it would decide every (action, resource) pair, ``dynamodb:LeadingKeys`` set to this tool's
  items. It sees every action, writes included, without making a single one. It returns None
  when the caller may not simulate (or the endpoint cannot), and the caller falls back to
* :func:`probe`: one harmless call per action (:mod:`aws_probes`). Reads are made for real;
  writes only where a call can be refused by IAM yet change nothing when allowed (a conditional
  write whose condition cannot hold, a delete of an item or partition that cannot exist). An
  action with no such call (``s3:DeleteObject``, ``athena:StartQueryExecution``) is reported
  as not checked, never guessed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from reconciler.adapters.aws_errors import error_code, translate_aws_errors
from reconciler.adapters.aws_permissions import OWN_ITEMS, Names, Permission, resource_arns

__all__ = ["Decision", "Identity", "Verdict", "identity", "principal_arn", "simulate"]

log = logging.getLogger(__name__)

Decision = Literal["allowed", "denied", "unchecked"]

_DENIED = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"})


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the caller is.

    Attributes:
        arn: As STS says (``arn:aws:sts::123456789012:assumed-role/cbbd-etl-role/etl``).
        account: The account id.
    """

    arn: str
    account: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """How one permission was found.

    Attributes:
        permission: The permission.
        decision: ``allowed``, ``denied`` or ``unchecked``.
        resource: The resource it was denied on (or checked against).
        detail: Why (a denied probe's error, or why it could not be checked).
    """

    permission: Permission
    decision: Decision
    resource: str = ""
    detail: str = ""


def identity(sts: Any) -> Identity:
    """The caller, from STS GetCallerIdentity (which every principal may call).

    Args:
        sts: An STS client.

    Returns:
        The identity.

    Raises:
        BackendError: For missing or rejected credentials (the one line of :mod:`aws_errors`).
    """
    with translate_aws_errors("your AWS identity (sts:GetCallerIdentity)"):
        got = sts.get_caller_identity()
    return Identity(arn=str(got["Arn"]), account=str(got["Account"]))


def principal_arn(arn: str) -> str | None:
    """The IAM role or user whose policies apply to a caller, for SimulatePrincipalPolicy.

    Args:
        arn: The caller's ARN from STS.

    Returns:
        ``arn:aws:iam::<account>:role/<name>`` for an assumed role (a role with a path is not
        found under this ARN: the simulation then fails and probes are used), the user's ARN
        for a user, None for the root user or a federated session.
    """
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    partition, account, rest = parts[1], parts[4], parts[5]
    if rest.startswith("assumed-role/"):
        role = rest.split("/")[1]
        return f"arn:{partition}:iam::{account}:role/{role}"
    if rest.startswith("user/"):
        return arn
    return None


def _concrete(kind: str, names: Names, tables: Sequence[tuple[str, str]]) -> list[str]:
    """The resources a simulation evaluates: real names where the policy has wildcards."""
    arns = resource_arns(kind, names)
    out: list[str] = []
    for arn in arns:
        if arn.endswith("/*") and ":s3:::" in arn:
            out.append(arn[:-1] + "_reconcile_doctor_probe")
        elif ":table/" in arn and arn.endswith("/*"):
            database = arn.rsplit("/", 2)[1]
            out.extend(arn[:-1] + t for d, t in tables if d == database)
        else:
            out.append(arn)
    return out


def _context(perm: Permission) -> list[dict[str, Any]]:
    if not perm.own_items:
        return []
    key = OWN_ITEMS.replace("*", "meta")
    return [{"ContextKeyName": "dynamodb:LeadingKeys", "ContextKeyValues": [key], "ContextKeyType": "stringList"}]


def simulate(
    iam: Any, principal: str, perms: Sequence[Permission], names: Names, tables: Sequence[tuple[str, str]]
) -> list[Verdict] | None:
    """Ask IAM how it decides each permission for the principal (SimulatePrincipalPolicy).

    Args:
        iam: An IAM client.
        principal: The role or user ARN (:func:`principal_arn`).
        perms: The permissions.
        names: The profile's resource names, the account filled in.
        tables: ``(database, table)`` pairs the Glue table ARNs stand for.

    Returns:
        One verdict per permission; None when the simulation cannot be run (the caller may not
        use it, the principal is not found, or the endpoint does not offer it).
    """
    groups: dict[tuple[str, bool], list[Permission]] = {}
    for perm in perms:
        groups.setdefault((perm.resource, perm.own_items), []).append(perm)
    verdicts: dict[tuple[str, str], Verdict] = {}
    for (kind, _), group in groups.items():
        resources = _concrete(kind, names, tables)
        args: dict[str, Any] = {
            "PolicySourceArn": principal,
            "ActionNames": sorted({p.action for p in group}),
            "ResourceArns": resources,
        }
        if _context(group[0]):
            args["ContextEntries"] = _context(group[0])
        try:
            results = _simulated(iam, args)
        except (ClientError, BotoCoreError, NotImplementedError) as exc:  # the last: moto, in process
            code = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
            log.info("iam:SimulatePrincipalPolicy unavailable (%s): probing instead", code)
            return None
        for perm in group:
            denied = [r for (a, r), d in results.items() if a == perm.action and d != "allowed"]
            verdicts[(perm.action, perm.resource)] = Verdict(
                perm, "denied" if denied else "allowed", resource=denied[0] if denied else resources[0]
            )
    return [verdicts[(p.action, p.resource)] for p in perms]


def _simulated(iam: Any, args: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(action, resource) → ``allowed`` / ``implicitDeny`` / ``explicitDeny``, over every page."""
    out: dict[tuple[str, str], str] = {}
    marker: str | None = None
    while True:
        page = iam.simulate_principal_policy(**args, **({"Marker": marker} if marker else {}))
        for result in page.get("EvaluationResults", []):
            action = str(result["EvalActionName"])
            specific = result.get("ResourceSpecificResults") or []
            if specific:
                for r in specific:
                    out[(action, str(r["EvalResourceName"]))] = str(r["EvalResourceDecision"])
            else:
                out[(action, str(result.get("EvalResourceName", "*")))] = str(result["EvalDecision"])
        if not page.get("IsTruncated"):
            return out
        marker = page.get("Marker")


def judge(call: Callable[[], Any], perm: Permission, resource: str) -> Verdict:
    """Run one probe and read IAM's decision from its outcome.

    Args:
        call: The probe (a read, or a write that changes nothing if allowed).
        perm: The permission it checks.
        resource: The resource it touches, for the report.

    Returns:
        ``denied`` for an access-denied answer; ``allowed`` for any other answer (the call got
        past IAM: a missing table or a failed condition says nothing against the permission).

    Raises:
        BackendError: For credentials problems (they are not a missing permission).
    """
    try:
        call()
    except ClientError as exc:
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(exc.response.get("Error", {}).get("Message") or "")
        if code in _DENIED or (status == 403 and code in ("403", "Forbidden")):
            return Verdict(perm, "denied", resource, " ".join(message.split())[:200] or code)
        if code in ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "InvalidAccessKeyId"):
            with translate_aws_errors(resource):
                raise
        return Verdict(perm, "allowed", resource, code)
    return Verdict(perm, "allowed", resource)
