"""The shipped policy documents, generated from :mod:`aws_permissions`: JSON, a Markdown table, Terraform.

``python -m reconciler.adapters.aws_policy_docs`` rewrites ``docs/iam-policy.json``,
``docs/iam-policy.tf`` and the table in ``docs/iam-policy.md``; a test fails when they differ.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from reconciler.adapters.aws_permissions import COMMANDS, PERMISSIONS, USES, Names, policy_document, resource_arns

__all__ = ["policy_markdown", "policy_terraform", "write_docs"]


def policy_markdown() -> str:
    """The table of ``docs/iam-policy.md``: every action, its resource, the command and why.

    Returns:
        Markdown.
    """
    lines = [
        "| action | resource | needed by | why |",
        "|---|---|---|---|",
    ]
    names = Names()
    for perm in PERMISSIONS:
        arns = ", ".join(f"`{a}`" for a in resource_arns(perm.resource, names) if ":catalog" not in a)
        if perm.resource == "glue-tables":
            arns = "tables `cbbd_bronze/*`, `cbbd_silver/*` (with their databases and the catalog)"
        elif perm.resource == "glue-databases":
            arns = "databases `cbbd_bronze`, `cbbd_silver` (and the catalog)"
        own = " (items `reconcile:*` only)" if perm.own_items else ""
        lines.append(f"| `{perm.action}` | {arns}{own} | `{COMMANDS[perm.use]}` | {perm.why} |")
    return "\n".join(lines) + "\n"


_TF_NAMES = Names(
    bucket="${var.lake_bucket}",
    region="${var.region}",
    account="${data.aws_caller_identity.current.account_id}",
    bronze_database="${var.bronze_database}",
    silver_database="${var.silver_database}",
    table="${var.checkpoint_table}",
    workgroup="${var.athena_workgroup}",
    results_prefix="athena/",
    shared_prefix="${var.shared_cache_prefix}",
)

_TF_HEADER = """\
# Least-privilege IAM policies for cbbd-reconciler: one per use, each action with why.
# Generated from reconciler/adapters/aws_permissions.py (python -m reconciler.adapters.aws_policy_docs);
# docs/iam-policy.json is the same policy with the real lake's names. Attach:
#   plan    (read only)  to every role that runs `reconcile plan` / `audit` (CI's plan-comment job too),
#   athena               where the profile's engine is Athena,
#   apply                to the role that runs `reconcile apply`,
#   delete               only where `reconcile apply --allow-delete` runs,
#   cache                where the profile sets cache.shared (the observation cache's shared tier),
#   doctor (optional)    lets `reconcile doctor` and apply's preflight simulate the role's own policy.

variable "reconciler_role_name" {
  type        = string
  description = "The IAM role that runs cbbd-reconciler."
}

variable "allow_delete" {
  type        = bool
  default     = false
  description = "Attach the --allow-delete policy (rewrites and deletions, after confirmation)."
}

variable "shared_cache" {
  type        = bool
  default     = false
  description = "The profile sets cache.shared: plan and apply read and write the cache's shared tier."
}

variable "shared_cache_prefix" {
  type        = string
  default     = "meta/cbbd-reconciler/cache"
  description = "cache.shared without its trailing slash."
}

variable "athena_engine" {
  type        = bool
  default     = true
  description = "The profile's engine is Athena (engine: {kind: athena}); false for DuckDB over S3."
}

variable "lake_bucket" {
  type    = string
  default = "hoops-edge"
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "bronze_database" {
  type    = string
  default = "cbbd_bronze"
}

variable "silver_database" {
  type    = string
  default = "cbbd_silver"
}

variable "checkpoint_table" {
  type    = string
  default = "cbbd_checkpoints"
}

variable "athena_workgroup" {
  type    = string
  default = "cbbd"
}

data "aws_caller_identity" "current" {}

data "aws_iam_role" "reconciler" {
  name = var.reconciler_role_name
}
"""


def _tf_list(values: Sequence[str], comments: Sequence[str] = (), indent: str = "      ") -> str:
    width = max(len(json.dumps(v)) for v in values) + 1
    rows = []
    for i, v in enumerate(values):
        note = f"  # {comments[i]}" if i < len(comments) and comments[i] else ""
        rows.append(f"{indent}{(json.dumps(v) + ',').ljust(width) if note else json.dumps(v) + ','}{note}")
    return "[\n" + "\n".join(rows) + "\n" + indent[:-2] + "]"


def policy_terraform() -> str:
    """The Terraform snippet of ``docs/iam-policy.tf``: a policy per use, every action commented with why.

    Returns:
        HCL text.
    """
    out = [_TF_HEADER]
    doc = policy_document(_TF_NAMES)
    why: dict[tuple[str, str], str] = {}
    for perm in PERMISSIONS:
        why.setdefault((perm.use, perm.action), perm.why)
    for use in USES:
        if use == "msck":
            out.append("# msck (catalog.partition_registration: msck) needs nothing the athena policy lacks.\n")
            continue
        statements = [st for st in doc["Statement"] if st["Sid"].lower().startswith(use)]
        out.append(f'data "aws_iam_policy_document" "reconciler_{use}" {{')
        for st in statements:
            out.append("  statement {")
            out.append(f'    sid       = "{st["Sid"]}"')
            actions = list(st["Action"])
            out.append(f"    actions   = {_tf_list(actions, [why[(use, a)] for a in actions])}")
            out.append(f"    resources = {_tf_list(list(st['Resource']))}")
            for test, conds in st.get("Condition", {}).items():
                for variable, values in conds.items():
                    out.append("    condition {")
                    out.append(f'      test     = "{test}"')
                    out.append(f'      variable = "{variable}"')
                    out.append(f"      values   = {json.dumps(values)}  # this tool's items only, never the pipeline's")
                    out.append("    }")
            out.append("  }")
        out.append("}\n")
        attach = {
            "delete": "var.allow_delete ? 1 : 0",
            "athena": "var.athena_engine ? 1 : 0",
            "cache": "var.shared_cache ? 1 : 0",
        }.get(use, "1")
        out.append(f'resource "aws_iam_policy" "reconciler_{use}" {{')
        out.append(f'  name   = "cbbd-reconciler-{use}"')
        out.append(f"  policy = data.aws_iam_policy_document.reconciler_{use}.json")
        out.append("}\n")
        out.append(f'resource "aws_iam_role_policy_attachment" "reconciler_{use}" {{')
        if attach != "1":
            out.append(f"  count      = {attach}")
        out.append("  role       = var.reconciler_role_name")
        out.append(f"  policy_arn = aws_iam_policy.reconciler_{use}.arn")
        out.append("}\n")
    out.append(
        """\
# Optional: `reconcile doctor` and apply's preflight then ask IAM itself (no probes, writes included).
data "aws_iam_policy_document" "reconciler_doctor" {
  statement {
    sid       = "DoctorSimulateOwnPolicy"
    actions   = ["iam:SimulatePrincipalPolicy"]  # how IAM decides each action above, for this role only
    resources = [data.aws_iam_role.reconciler.arn]
  }
}

resource "aws_iam_role_policy" "reconciler_doctor" {
  name   = "cbbd-reconciler-doctor"
  role   = var.reconciler_role_name
  policy = data.aws_iam_policy_document.reconciler_doctor.json
}
"""
    )
    return "\n".join(out)


def write_docs(docs: Path) -> None:
    """Rewrite the policy documents under ``docs/``.

    Args:
        docs: The ``docs`` directory.
    """
    (docs / "iam-policy.json").write_text(json.dumps(policy_document(), indent=2) + "\n", encoding="utf-8")
    (docs / "iam-policy.tf").write_text(policy_terraform(), encoding="utf-8")
    md = docs / "iam-policy.md"
    text = md.read_text(encoding="utf-8")
    start, end = "<!-- permissions:start -->\n", "<!-- permissions:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    md.write_text(head + start + policy_markdown() + end + tail, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintenance entry point
    write_docs(Path(__file__).resolve().parents[2] / "docs")
