"""The shipped policy is the catalogue's, and the catalogue covers every AWS call the adapters make."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.adapters.aws_errors import iam_action
from reconciler.adapters.aws_permissions import PERMISSIONS, needed_by, permissions_for, policy_document
from reconciler.adapters.aws_policy_docs import policy_markdown, policy_terraform
from tests.text_edits import replaced

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs"
REGENERATE = "regenerate with: python -m reconciler.adapters.aws_policy_docs"


def test_the_shipped_json_is_the_catalogues():
    assert json.loads((DOCS / "iam-policy.json").read_text()) == policy_document(), REGENERATE


def test_the_shipped_table_and_terraform_are_the_catalogues():
    assert policy_markdown() in (DOCS / "iam-policy.md").read_text(), REGENERATE
    assert (DOCS / "iam-policy.tf").read_text() == policy_terraform(), REGENERATE


def test_every_action_in_the_terraform_has_its_why():
    tf = (DOCS / "iam-policy.tf").read_text()
    for perm in PERMISSIONS:
        if perm.use != "msck":
            assert re.search(rf'"{re.escape(perm.action)}",\s+# \S', tf), perm.action


def _called_operations() -> set[str]:
    """Every botocore operation the AWS adapters call (``client.put_object(`` → ``PutObject``)."""
    sources = [
        ROOT / "reconciler/adapters" / name
        for name in ("s3_store.py", "glue_catalog.py", "dynamo_state.py", "athena_engine.py")
    ] + [ROOT / "reconciler/adapters/msck.py"]
    ops = set()
    for path in sources:
        for snake in re.findall(r"(?:client|_athena\(\))\.([a-z0-9_]+)\(", path.read_text()):
            if snake in ("get_paginator", "meta"):
                continue
            ops.add("".join(part.capitalize() for part in snake.split("_")))
    for snake in re.findall(r'get_paginator\("([a-z0-9_]+)"\)', "".join(p.read_text() for p in sources)):
        ops.add("".join(part.capitalize() for part in snake.split("_")))
    return ops


def test_every_call_the_adapters_make_is_in_the_policy():
    granted = {p.action for p in PERMISSIONS}
    # pyathena's calls (the Athena engine's queries), and CreateTable: only a sandbox's publishing makes it.
    ops = _called_operations() | {"StartQueryExecution", "GetQueryExecution", "GetQueryResults"}
    # The checkpoint table's lease methods are no longer called: the apply lock lives in the lake.
    unused = {"glue:CreateTable", "dynamodb:UpdateItem", "dynamodb:DeleteItem"}
    missing = {iam_action(op) for op in ops} - granted - unused
    assert ops and not missing


def test_needed_by_names_the_first_command_that_needs_an_action():
    assert needed_by("dynamodb:Query") == "reconcile plan"
    assert (
        needed_by("s3:DeleteObject", "s3://hoops-edge/silver/fct_plays/x.parquet") == "reconcile apply --allow-delete"
    )
    assert needed_by("s3:DeleteObject", "s3://hoops-edge/_reconcile/locks/lake/000000000001.json") == "reconcile apply"
    quarantine = "s3://hoops-edge/quarantine/silver/fct_plays/season=2016/x.parquet"
    assert needed_by("s3:PutObject", quarantine) == "reconcile apply --allow-delete"
    assert needed_by("glue:BatchDeletePartition") == "reconcile apply"
    assert needed_by("ec2:RunInstances") == ""


def test_plan_alone_grants_no_write():
    writes = re.compile(r":(Put|Update|Delete|BatchWrite|BatchCreate|BatchDelete|Create|Start|Stop)")
    assert not [p.action for p in permissions_for(["plan"]) if writes.search(p.action)]
    statements = policy_document(uses=["plan"])["Statement"]
    assert all(s["Sid"].startswith("Plan") for s in statements)
    own = [s for s in statements if "Condition" in s]
    assert own and all(
        s["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["reconcile:*"] for s in own
    )


def test_the_shipped_policy_lets_allow_delete_move_an_unreadable_object_to_quarantine():
    doc = json.loads((DOCS / "iam-policy.json").read_text())
    delete = [st for st in doc["Statement"] if st["Sid"].startswith("Delete") and "s3:PutObject" in st["Action"]]
    assert [st["Resource"] for st in delete] == [["arn:aws:s3:::hoops-edge/quarantine/*"]]


def test_a_shared_cache_tier_is_granted_on_its_prefix_only(tmp_path):
    from reconciler.config import load_profile
    from reconciler.doctor import profile_policy, profile_uses

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "default_profile: aws\nprofiles:\n  aws:\n    store: {kind: s3, bucket: hoops-edge}\n"
        "    state: {kind: dynamodb, table: cbbd_checkpoints}\n    cache: {shared: meta/ci-cache/}\n"
    )
    prof = load_profile(cfg)
    assert profile_uses(prof)[-1] == "cache"
    cache = [st for st in profile_policy(prof)["Statement"] if st["Sid"].startswith("Cache")]
    assert cache == [
        {
            "Sid": "CacheS3SharedCache",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": ["arn:aws:s3:::hoops-edge/meta/ci-cache/*"],
        }
    ]
    assert needed_by("s3:PutObject", "s3://hoops-edge/meta/ci-cache/results/x.arrow") == "reconcile plan (cache.shared)"
    cfg.write_text(replaced(cfg.read_text(), "    cache: {shared: meta/ci-cache/}\n", ""))
    assert "cache" not in profile_uses(load_profile(cfg))
