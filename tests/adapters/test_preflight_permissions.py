"""Plan and apply preflight only the permissions they will use, by IAM's simulation (recorded answers)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from reconciler.config import Profile
from reconciler.core.plan import Action
from reconciler.errors import BackendError
from reconciler.preflight import apply_permissions, check_permissions, plan_permissions

ROLE = "arn:aws:sts::123456789012:assumed-role/cbbd-reconciler/run-1"


def _profile(**engine: Any) -> Profile:
    return Profile(
        name="aws",
        store={"kind": "s3", "bucket": "hoops-edge"},
        engine={"kind": "duckdb", **engine},
        catalog={"kind": "glue"},
        state={"kind": "dynamodb"},
    )


def _action(type_: str, **details: Any) -> Action:
    return Action(type=type_, address=f"x.{type_}[{len(details)}]", target="plays", details=details)


def _pairs(perms) -> set[tuple[str, str]]:
    return {(p.action, p.resource) for p in perms}


def test_plan_uses_reads_only_and_athenas_with_athena():
    reads = {p.action for p in plan_permissions(_profile())}
    assert reads == {
        "s3:ListBucket", "s3:GetObject", "glue:GetDatabase", "glue:GetTable", "glue:GetPartitions",
        "dynamodb:DescribeTable", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem",
    }  # fmt: skip
    athena = {p.action for p in plan_permissions(_profile(kind="athena"))} - reads
    assert "athena:StartQueryExecution" in athena and "athena:StopQueryExecution" in athena


def test_apply_uses_what_its_actions_write():
    profile = _profile()
    fetch = _pairs(apply_permissions(profile, [_action("fetch")], allow_delete=False))
    assert fetch == {
        ("s3:PutObject", "lake-objects"), ("dynamodb:BatchWriteItem", "checkpoints"),
        ("dynamodb:PutItem", "checkpoints"), ("glue:BatchCreatePartition", "glue-tables"),
        ("s3:PutObject", "locks"), ("s3:DeleteObject", "locks"),
    }  # fmt: skip
    rekey = _pairs(apply_permissions(profile, [_action("register", op="table")], allow_delete=False))
    assert ("glue:UpdateTable", "glue-tables") in rekey and ("s3:PutObject", "lake-objects") not in rekey
    # Rewrites and deletions run only with --allow-delete: without it, their permissions are not asked.
    rewrites = [_action("relayout"), _action("delete", op="object")]
    assert ("s3:DeleteObject", "table-objects") not in _pairs(apply_permissions(profile, rewrites, False))
    assert ("s3:DeleteObject", "table-objects") in _pairs(apply_permissions(profile, rewrites, True))


def test_a_quarantine_writes_under_quarantine_with_allow_delete():
    """Moving an unreadable object writes ``quarantine/<its key>`` (and reads it back), then deletes it."""
    profile = _profile()
    move = [_action("delete", op="object", quarantine="quarantine/silver/fct_plays/season=2016/x.parquet")]
    pairs = _pairs(apply_permissions(profile, move, True))
    assert {
        ("s3:PutObject", "quarantine"),
        ("s3:GetObject", "quarantine"),
        ("s3:DeleteObject", "table-objects"),
    } <= pairs
    assert ("s3:PutObject", "quarantine") not in _pairs(apply_permissions(profile, move, False))


class _Backends(SimpleNamespace):
    pass


@pytest.fixture
def clients():
    session = boto3.session.Session(region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    sts, iam = session.client("sts"), session.client("iam")
    with Stubber(sts) as s, Stubber(iam) as i:
        s.add_response("get_caller_identity", {"Arn": ROLE, "Account": "123456789012", "UserId": "AROA:run-1"})
        yield SimpleNamespace(sts=sts, iam=iam, iam_stub=i, session=session)


def _answer(actions: list[str], denied: set[str]) -> dict[str, Any]:
    results = [
        {"EvalActionName": a, "EvalResourceName": "arn", "EvalDecision": "implicitDeny" if a in denied else "allowed"}
        for a in actions
    ]
    return {"EvaluationResults": results, "IsTruncated": False}


def test_a_missing_write_is_one_line_before_anything_starts(clients):
    profile = _profile()
    needs = apply_permissions(profile, [_action("register", op="table")], allow_delete=False)
    groups: dict[tuple[str, bool], list[str]] = {}
    for p in needs:
        groups.setdefault((p.resource, p.own_items), []).append(p.action)
    for actions in groups.values():
        clients.iam_stub.add_response("simulate_principal_policy", _answer(sorted(set(actions)), {"glue:UpdateTable"}))
    with pytest.raises(BackendError) as info:
        check_permissions(profile, _Backends(session=clients.session), needs, "reconcile apply",
                          iam=clients.iam, sts=clients.sts)  # fmt: skip
    assert str(info.value) == (
        "arn:aws:iam::123456789012:role/cbbd-reconciler lacks 1 permission(s) `reconcile apply` will use: "
        "glue:UpdateTable on arn for a partition-key change (columns and data untouched). Add them to its policy "
        "(docs/iam-policy.json; `reconcile doctor` checks them all); nothing was started"
    )


def test_no_simulation_allowed_checks_nothing(clients):
    profile = _profile()
    clients.iam_stub.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized", 403)
    check_permissions(profile, _Backends(session=clients.session), plan_permissions(profile), "reconcile plan",
                      iam=clients.iam, sts=clients.sts)  # fmt: skip


def test_an_aws_compatible_endpoint_is_not_asked():
    profile = Profile(
        name="moto",
        store={"kind": "s3", "bucket": "hoops-edge", "endpoint_url": "http://127.0.0.1:5000"},
        state={"kind": "dynamodb", "endpoint_url": "http://127.0.0.1:5000"},
    )
    # No STS or IAM client is made: the injected ones would fail if called.
    check_permissions(profile, _Backends(session=object()), plan_permissions(profile), "reconcile plan",
                      iam=object(), sts=object())  # fmt: skip
