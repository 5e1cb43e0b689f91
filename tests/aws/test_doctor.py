"""``reconcile doctor`` against moto with IAM enforced: a restricted policy's missing permissions, one line each.

moto enforces IAM for access keys it issued once its auth is on (``enable_iam_authentication``,
the in-process form of ``INITIAL_NO_AUTH_ACTION_COUNT=0``). It does not implement
``iam:SimulatePrincipalPolicy``, so here the doctor falls back to its probes, as it does for an
identity that may not simulate; the simulation path is tested with a recorded IAM answer.
moto checks S3 actions against object ARNs, other services' against ``*``: the restricted
policy below is the shipped one with ``*`` resources outside S3, minus what it must report.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber
from moto import mock_aws, settings
from moto.core.authorization import enable_iam_authentication

from reconciler.adapters.aws_access import principal_arn, simulate
from reconciler.adapters.aws_permissions import Names, permissions_for, policy_document
from tests.aws.moto_counting import REGION, create_lake_resources
from tests.e2e_helpers import cli

pytestmark = pytest.mark.aws

SPECS = str(Path(__file__).parents[2] / "specs")
REMOVED = {
    "dynamodb:Query",
    "dynamodb:BatchWriteItem",
    "glue:GetPartitions",
    "glue:BatchDeletePartition",
    "glue:UpdateTable",
    "s3:PutObject",
}


def _restricted_policy() -> dict[str, Any]:
    statements = []
    for st in policy_document(Names(), ["plan", "apply", "delete"])["Statement"]:
        actions = [a for a in st["Action"] if a not in REMOVED]
        if not actions:
            continue
        s3 = all(a.startswith("s3:") for a in actions)
        statements.append({"Effect": "Allow", "Action": actions, "Resource": st["Resource"] if s3 else "*"})
    # moto authorises HeadBucket as s3:HeadBucket (AWS: s3:ListBucket), the preflight's call.
    statements.append({"Effect": "Allow", "Action": ["s3:HeadBucket"], "Resource": "arn:aws:s3:::hoops-edge"})
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.fixture
def restricted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with mock_aws():
        session = boto3.session.Session(region_name=REGION)
        create_lake_resources(None, session)  # type: ignore[arg-type]
        iam = session.client("iam")
        iam.create_user(UserName="reconciler")
        iam.put_user_policy(UserName="reconciler", PolicyName="p", PolicyDocument=json.dumps(_restricted_policy()))
        key = iam.create_access_key(UserName="reconciler")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        cfg = tmp_path / "aws.yaml"
        profile = {
            "specs_dir": SPECS,
            "store": {"kind": "s3", "bucket": "hoops-edge"},
            "engine": {"kind": "duckdb"},
            "catalog": {"kind": "glue"},
            "state": {"kind": "dynamodb"},
        }
        cfg.write_text(yaml.safe_dump({"default_profile": "aws", "profiles": {"aws": profile}}))
        with enable_iam_authentication():
            yield cfg, session


def test_doctor_names_each_missing_permission_and_the_command_that_needs_it(restricted):
    cfg, _ = restricted
    r = cli(["doctor", "--config", str(cfg)])
    assert r.exit_code == 1, r.output
    lines = [" ".join(ln.split()) for ln in r.output.strip().splitlines()]
    assert lines[0] == "Identity: arn:aws:iam::123456789012:user/reconciler (account 123456789012)"
    assert lines[1].startswith("Checked 21 permission(s) by probes (iam:SimulatePrincipalPolicy is not allowed")
    missing = [ln for ln in lines if ln.startswith("missing ")]
    assert [ln.split()[1] for ln in missing] == [
        "glue:GetPartitions",
        "dynamodb:Query",
        "s3:PutObject",
        "glue:UpdateTable",
        "glue:BatchDeletePartition",
        "dynamodb:BatchWriteItem",
        "s3:PutObject",  # the apply lock's, under _reconcile/locks/
        "s3:PutObject",  # --allow-delete's, moving an unreadable object under quarantine/
    ]
    assert (
        "missing dynamodb:Query on arn:aws:dynamodb:us-east-1:123456789012:table/cbbd_checkpoints: "
        "`reconcile plan` needs it for this tool's unit checkpoints and rewrite records"
    ) in lines
    assert (
        "missing s3:PutObject on arn:aws:s3:::hoops-edge/silver/*: `reconcile apply` needs it for "
        "writing raw, bronze and silver objects (conditional PUTs)"
    ) in lines
    unchecked = [ln for ln in lines if ln.startswith("not checked ")]
    assert [ln.split()[2].rstrip(":") for ln in unchecked] == ["s3:DeleteObject", "s3:DeleteObject"]
    assert "`reconcile apply` needs it for releasing the apply lock" in unchecked[0]
    assert "`reconcile apply --allow-delete` needs it" in unchecked[1]
    assert (
        "missing s3:PutObject on arn:aws:s3:::hoops-edge/quarantine/*: `reconcile apply --allow-delete` needs it for "
        "moving an unreadable object to quarantine/<its key>, its bytes kept"
    ) in lines
    assert lines[-1].startswith("8 permission(s) missing, 0 resource problem(s).")
    # The probes wrote nothing.
    assert boto3.client("s3", region_name=REGION).list_objects_v2(Bucket="hoops-edge").get("KeyCount", 0) == 0


def test_a_complete_policy_passes(restricted):
    cfg, session = restricted
    iam = session.client("iam")
    full = _restricted_policy()
    full["Statement"].append({"Effect": "Allow", "Action": sorted(REMOVED), "Resource": "*"})
    settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # as the admin (the fixture's context restores it)
    iam.put_user_policy(UserName="reconciler", PolicyName="p", PolicyDocument=json.dumps(full))
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    r = cli(["doctor", "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    assert r.output.strip().splitlines()[-1] == (
        "All 21 permission(s) present (2 not checked: see above); resources exist."
    )


def test_policy_prints_the_profiles_least_privilege_policy(restricted):
    cfg, _ = restricted
    r = cli(["doctor", "--config", str(cfg), "--policy"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert {s["Sid"] for s in doc["Statement"]} >= {"PlanS3Bucket", "PlanDynamoDBOwnItems", "DeleteS3TableObjects"}
    assert not any(s["Sid"].startswith("Athena") for s in doc["Statement"])  # this profile's engine is DuckDB


def test_the_simulation_path_reads_iams_decisions():
    """IAM's answer (recorded shape): denied actions are missing, writes included, nothing probed."""
    iam = boto3.session.Session(region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b").client("iam")
    perms = [p for p in permissions_for(["plan", "apply"]) if p.resource == "checkpoints"]
    names = Names(account="123456789012")
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/cbbd_checkpoints"
    principal = principal_arn("arn:aws:sts::123456789012:assumed-role/cbbd-etl-role/etl-task")
    assert principal == "arn:aws:iam::123456789012:role/cbbd-etl-role"

    def answer(actions: list[str]) -> dict[str, Any]:
        results = [
            {
                "EvalActionName": a,
                "EvalResourceName": table,
                "EvalDecision": "implicitDeny" if a in denied else "allowed",
            }
            for a in actions
        ]
        return {"EvaluationResults": results, "IsTruncated": False}

    denied = {"dynamodb:Query", "dynamodb:BatchWriteItem", "dynamodb:PutItem"}
    own = sorted(p.action for p in perms if p.own_items)
    with Stubber(iam) as stub:
        stub.add_response(
            "simulate_principal_policy",
            answer(["dynamodb:DescribeTable"]),
            {"PolicySourceArn": principal, "ActionNames": ["dynamodb:DescribeTable"], "ResourceArns": [table]},
        )
        leading = [
            {
                "ContextKeyName": "dynamodb:LeadingKeys",
                "ContextKeyValues": ["reconcile:meta"],
                "ContextKeyType": "stringList",
            }
        ]
        stub.add_response(
            "simulate_principal_policy",
            answer(own),
            {"PolicySourceArn": principal, "ActionNames": own, "ResourceArns": [table], "ContextEntries": leading},
        )
        verdicts = simulate(iam, principal, perms, names, [])
    assert verdicts is not None
    assert sorted(v.permission.action for v in verdicts if v.decision == "denied") == [
        "dynamodb:BatchWriteItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
    ]


def test_simulation_refused_means_probes():
    iam = boto3.session.Session(region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b").client("iam")
    with Stubber(iam) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied", "not authorized", 403)
        assert simulate(iam, "arn:aws:iam::123456789012:role/r", permissions_for(["plan"])[:1], Names(), []) is None
