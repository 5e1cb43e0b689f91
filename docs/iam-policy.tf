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

data "aws_iam_policy_document" "reconciler_plan" {
  statement {
    sid       = "PlanS3Bucket"
    actions   = [
      "s3:ListBucket",  # preflight (HeadBucket) and listing each table's objects
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}",
    ]
  }
  statement {
    sid       = "PlanS3LakeObjects"
    actions   = [
      "s3:GetObject",  # reading Parquet footers and rows, raw bodies and bronze
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/raw/*",
      "arn:aws:s3:::${var.lake_bucket}/bronze/*",
      "arn:aws:s3:::${var.lake_bucket}/silver/*",
    ]
  }
  statement {
    sid       = "PlanS3Locks"
    actions   = [
      "s3:GetObject",  # reading Parquet footers and rows, raw bodies and bronze
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/_reconcile/locks/*",
    ]
  }
  statement {
    sid       = "PlanGlue"
    actions   = [
      "glue:GetDatabase",    # preflight: both Glue databases exist
      "glue:GetPartitions",  # the registered partitions, to plan what to register
      "glue:GetTable",       # each table's columns, partition keys and location
    ]
    resources = [
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:catalog",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.bronze_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.silver_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.bronze_database}/*",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.silver_database}/*",
    ]
  }
  statement {
    sid       = "PlanDynamoDB"
    actions   = [
      "dynamodb:DescribeTable",  # preflight: the checkpoint table and its key schema
    ]
    resources = [
      "arn:aws:dynamodb:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.checkpoint_table}",
    ]
  }
  statement {
    sid       = "PlanDynamoDBOwnItems"
    actions   = [
      "dynamodb:BatchGetItem",  # the checkpoints of the units a plan finds lacking
      "dynamodb:GetItem",       # the remaining API quota noted by the last apply
      "dynamodb:Query",         # this tool's unit checkpoints and rewrite records
    ]
    resources = [
      "arn:aws:dynamodb:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.checkpoint_table}",
    ]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["reconcile:*"]  # this tool's items only, never the pipeline's
    }
  }
}

resource "aws_iam_policy" "reconciler_plan" {
  name   = "cbbd-reconciler-plan"
  policy = data.aws_iam_policy_document.reconciler_plan.json
}

resource "aws_iam_role_policy_attachment" "reconciler_plan" {
  role       = var.reconciler_role_name
  policy_arn = aws_iam_policy.reconciler_plan.arn
}

data "aws_iam_policy_document" "reconciler_athena" {
  statement {
    sid       = "AthenaQueries"
    actions   = [
      "athena:GetQueryExecution",    # polling a query to its end
      "athena:GetQueryResults",      # reading a query's rows
      "athena:GetWorkGroup",         # preflight: the workgroup exists
      "athena:StartQueryExecution",  # running the coverage and duplicate queries
      "athena:StopQueryExecution",   # cancelling a query that outlives its timeout
    ]
    resources = [
      "arn:aws:athena:${var.region}:${data.aws_caller_identity.current.account_id}:workgroup/${var.athena_workgroup}",
    ]
  }
  statement {
    sid       = "AthenaS3Bucket"
    actions   = [
      "s3:GetBucketLocation",  # Athena checks the result and data bucket's region
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}",
    ]
  }
  statement {
    sid       = "AthenaS3Results"
    actions   = [
      "s3:GetObject",  # Athena reads query results back
      "s3:PutObject",  # Athena writes query results under the result location
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/athena/*",
    ]
  }
  statement {
    sid       = "AthenaGlue"
    actions   = [
      "glue:BatchGetPartition",  # Athena reads the partitions a query prunes to
    ]
    resources = [
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:catalog",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.bronze_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.silver_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.bronze_database}/*",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.silver_database}/*",
    ]
  }
}

resource "aws_iam_policy" "reconciler_athena" {
  name   = "cbbd-reconciler-athena"
  policy = data.aws_iam_policy_document.reconciler_athena.json
}

resource "aws_iam_role_policy_attachment" "reconciler_athena" {
  count      = var.athena_engine ? 1 : 0
  role       = var.reconciler_role_name
  policy_arn = aws_iam_policy.reconciler_athena.arn
}

data "aws_iam_policy_document" "reconciler_apply" {
  statement {
    sid       = "ApplyS3LakeObjects"
    actions   = [
      "s3:PutObject",  # writing raw, bronze and silver objects (conditional PUTs)
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/raw/*",
      "arn:aws:s3:::${var.lake_bucket}/bronze/*",
      "arn:aws:s3:::${var.lake_bucket}/silver/*",
    ]
  }
  statement {
    sid       = "ApplyS3Locks"
    actions   = [
      "s3:DeleteObject",  # releasing the apply lock (also force-unlock)
      "s3:PutObject",     # writing raw, bronze and silver objects (conditional PUTs)
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/_reconcile/locks/*",
    ]
  }
  statement {
    sid       = "ApplyGlue"
    actions   = [
      "glue:BatchCreatePartition",  # registering the partitions it finds or writes
      "glue:BatchDeletePartition",  # a key change moves or drops old-shape partitions
      "glue:UpdateTable",           # a partition-key change (columns and data untouched)
    ]
    resources = [
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:catalog",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.bronze_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.silver_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.bronze_database}/*",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.silver_database}/*",
    ]
  }
  statement {
    sid       = "ApplyDynamoDBOwnItems"
    actions   = [
      "dynamodb:BatchWriteItem",  # checkpointing units, 25 a call
      "dynamodb:PutItem",         # notes: the remaining quota, fetch windows in progress
    ]
    resources = [
      "arn:aws:dynamodb:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.checkpoint_table}",
    ]
    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["reconcile:*"]  # this tool's items only, never the pipeline's
    }
  }
}

resource "aws_iam_policy" "reconciler_apply" {
  name   = "cbbd-reconciler-apply"
  policy = data.aws_iam_policy_document.reconciler_apply.json
}

resource "aws_iam_role_policy_attachment" "reconciler_apply" {
  role       = var.reconciler_role_name
  policy_arn = aws_iam_policy.reconciler_apply.arn
}

# msck (catalog.partition_registration: msck) needs nothing the athena policy lacks.

data "aws_iam_policy_document" "reconciler_delete" {
  statement {
    sid       = "DeleteS3TableObjects"
    actions   = [
      "s3:DeleteObject",  # removing an original once its rewrite is written
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/bronze/*",
      "arn:aws:s3:::${var.lake_bucket}/silver/*",
    ]
  }
  statement {
    sid       = "DeleteS3Quarantine"
    actions   = [
      "s3:GetObject",  # comparing a quarantine copy already there with the object
      "s3:PutObject",  # moving an unreadable object to quarantine/<its key>, its bytes kept
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/quarantine/*",
    ]
  }
  statement {
    sid       = "DeleteGlue"
    actions   = [
      "glue:BatchDeletePartition",  # removing orphan and misplaced partitions
    ]
    resources = [
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:catalog",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.bronze_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:database/${var.silver_database}",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.bronze_database}/*",
      "arn:aws:glue:${var.region}:${data.aws_caller_identity.current.account_id}:table/${var.silver_database}/*",
    ]
  }
}

resource "aws_iam_policy" "reconciler_delete" {
  name   = "cbbd-reconciler-delete"
  policy = data.aws_iam_policy_document.reconciler_delete.json
}

resource "aws_iam_role_policy_attachment" "reconciler_delete" {
  count      = var.allow_delete ? 1 : 0
  role       = var.reconciler_role_name
  policy_arn = aws_iam_policy.reconciler_delete.arn
}

data "aws_iam_policy_document" "reconciler_cache" {
  statement {
    sid       = "CacheS3SharedCache"
    actions   = [
      "s3:GetObject",  # reading the cache entries another machine's plan shared
      "s3:PutObject",  # sharing this plan's cache entries (results, footers)
    ]
    resources = [
      "arn:aws:s3:::${var.lake_bucket}/${var.shared_cache_prefix}/*",
    ]
  }
}

resource "aws_iam_policy" "reconciler_cache" {
  name   = "cbbd-reconciler-cache"
  policy = data.aws_iam_policy_document.reconciler_cache.json
}

resource "aws_iam_role_policy_attachment" "reconciler_cache" {
  count      = var.shared_cache ? 1 : 0
  role       = var.reconciler_role_name
  policy_arn = aws_iam_policy.reconciler_cache.arn
}

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
