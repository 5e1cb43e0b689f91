"""The permission preflight of ``plan`` and ``apply``: only what the command will use, before it starts.

``plan`` (and every command that observes) needs the read permissions of the services its
profile is on; ``apply`` needs, besides, the writes its plan's actions make: objects and
checkpoints for fetches and rebuilds, partition registration, a key change's UpdateTable and
BatchDeletePartition, the lake lock, and the deletions of ``--allow-delete`` only when it is
given and the plan has rewrites or deletions. They are asked of IAM's own simulation
(``iam:SimulatePrincipalPolicy``, on the caller's role): one line names every missing permission
before the first write, instead of an AccessDenied halfway through an apply.

Best effort: where the identity may not simulate, or the profile points at an AWS-compatible
endpoint (moto, MinIO: there is no IAM to ask), nothing is checked here and each call's own
AccessDenied stays a one-line error. ``reconcile doctor`` probes instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from reconciler import hints
from reconciler.adapters.aws_access import identity, principal_arn, simulate
from reconciler.adapters.aws_permissions import Permission
from reconciler.adapters.aws_session import make_client
from reconciler.config import Profile
from reconciler.core.plan import Action
from reconciler.doctor import lake_table_names, profile_names, profile_permissions
from reconciler.errors import BackendError, ReconcilerError

__all__ = ["apply_permissions", "check_permissions", "plan_permissions"]

log = logging.getLogger(__name__)

_DATA = frozenset({"fetch", "refetch", "rebuild"})
_REWRITES = frozenset({"relayout", "dedupe"})


def plan_permissions(profile: Profile) -> list[Permission]:
    """What observing the lake uses: the reads (and Athena's, with the Athena engine).

    Args:
        profile: The profile.

    Returns:
        The permissions.
    """
    uses = ["plan", "athena"] if profile.engine.kind == "athena" else ["plan"]
    return profile_permissions(profile, uses)


def _wanted(actions: Iterable[Action], allow_delete: bool, msck: bool) -> set[tuple[str, str]]:
    wanted = {("s3:PutObject", "locks"), ("s3:DeleteObject", "locks")}  # the apply lock, in the lake
    register = ("athena:StartQueryExecution", "workgroup") if msck else ("glue:BatchCreatePartition", "glue-tables")
    for a in actions:
        if a.type in _DATA:
            wanted |= {("s3:PutObject", "lake-objects"), ("dynamodb:BatchWriteItem", "checkpoints"), register}
            if a.type != "rebuild":
                wanted.add(("dynamodb:PutItem", "checkpoints"))  # the quota note, fetch windows
        elif a.type == "register" and a.details.get("op") == "table":
            wanted |= {("glue:UpdateTable", "glue-tables"), ("glue:BatchDeletePartition", "glue-tables")}
            wanted.add(("glue:BatchCreatePartition", "glue-tables"))
        elif a.type == "register":
            wanted.add(register)
        elif allow_delete and a.type in _REWRITES:
            wanted |= {("s3:PutObject", "lake-objects"), ("s3:DeleteObject", "table-objects")}
            wanted |= {("dynamodb:BatchWriteItem", "checkpoints"), register}
        elif allow_delete and a.type == "delete":
            if a.details.get("op") == "partition":
                wanted.add(("glue:BatchDeletePartition", "glue-tables"))
                if a.details.get("reregister"):
                    wanted.add(("glue:BatchCreatePartition", "glue-tables"))
            else:
                wanted.add(("s3:DeleteObject", "table-objects"))
                if a.details.get("quarantine"):  # its bytes go to quarantine/<its key> first
                    wanted |= {("s3:PutObject", "quarantine"), ("s3:GetObject", "quarantine")}
    return wanted


def apply_permissions(profile: Profile, actions: Iterable[Action], allow_delete: bool) -> list[Permission]:
    """What an apply of these actions uses beyond the reads (checked when its session opened): its writes.

    Args:
        profile: The profile.
        actions: The plan's actions.
        allow_delete: ``--allow-delete`` (rewrites and deletions run only with it).

    Returns:
        The permissions.
    """
    msck = profile.catalog.partition_registration == "msck" and profile.engine.kind == "athena"
    wanted = _wanted(actions, allow_delete, msck)
    return [p for p in profile_permissions(profile) if (p.action, p.resource) in wanted and p.use != "plan"]


def _endpoint(profile: Profile) -> str | None:
    return profile.store.endpoint_url or profile.catalog.endpoint_url or profile.state.endpoint_url


def check_permissions(
    profile: Profile, backends: Any, perms: list[Permission], command: str, *, iam: Any = None, sts: Any = None
) -> None:
    """Ask IAM whether the caller holds every permission a command will use; one line if not.

    Args:
        profile: The profile.
        backends: Its open backends (their shared session).
        perms: What the command will use (:func:`plan_permissions`, :func:`apply_permissions`).
        command: The command, for the message (``reconcile apply``).
        iam: An IAM client (tests inject one; default: from the session).
        sts: An STS client (likewise).

    Raises:
        BackendError: Naming every missing permission, before the command starts work.
    """
    if not perms or _endpoint(profile) is not None or getattr(backends, "session", None) is None:
        return
    region = profile_names(profile).region
    try:
        sts = sts or make_client(backends.session, "sts", region=region, endpoint_url=None, what="STS")
        who = identity(sts)
    except ReconcilerError as exc:
        log.debug("permission preflight skipped: %s", exc)  # the first real call will say why, in one line
        return
    principal = principal_arn(who.arn)
    if principal is None:
        return
    iam = iam or make_client(backends.session, "iam", region=region, endpoint_url=None, what="IAM")
    names = profile_names(profile, who.account)
    verdicts = simulate(iam, principal, perms, names, lake_table_names(names))
    if verdicts is None:
        return
    denied = [v for v in verdicts if v.decision == "denied"]
    if not denied:
        return
    listed = "; ".join(f"{v.permission.action} on {v.resource} for {v.permission.why}" for v in denied)
    raise BackendError(
        f"{principal} lacks {len(denied)} permission(s) `{command}` will use: {listed}. Add them to its policy "
        f"(docs/iam-policy.json; `{hints.command('doctor')}` checks them all); nothing was started"
    )
