data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = var.region
  base      = "${var.name_prefix}-${var.environment}"

  # One bucket per concern: separate lifecycle, Lake Formation registration (warehouse only),
  # bucket policies and blast radius. Names carry account and region to be globally unique.
  data_buckets = {
    raw            = "${local.base}-raw-${var.account_id}-${local.region}"
    warehouse      = "${local.base}-warehouse-${var.account_id}-${local.region}"
    artifacts      = "${local.base}-artifacts-${var.account_id}-${local.region}"
    athena_results = "${local.base}-athena-${var.account_id}-${local.region}"
  }
  access_logs_bucket = "${local.base}-s3logs-${var.account_id}-${local.region}"

  raw_prefixes = sort(distinct([for d in var.datasets : d.raw_prefix]))
  account_root = "arn:${local.partition}:iam::${var.account_id}:root"
}

# ---------------------------------------------------------------- KMS: the lake key
resource "aws_kms_key" "lake" {
  description             = "${local.base} data lake key (S3, S3 Tables, Glue, logs, SNS, SQS, Lambda environment)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_days
  policy                  = jsonencode(local.key_policy)
  tags                    = var.tags
}

resource "aws_kms_alias" "lake" {
  name          = "alias/${local.base}-lake"
  target_key_id = aws_kms_key.lake.key_id
}

locals {
  key_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # AWS's default key policy statement: key use is governed by IAM policies of this account.
        Sid       = "AccountIamPolicies"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "CloudWatchLogsEncryption"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${var.account_id}:log-group:*" }
        }
      },
      {
        # CloudWatch alarms publish to the KMS-encrypted failure topic.
        Sid       = "CloudWatchAlarmsToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
      },
      {
        # S3 Tables maintenance (compaction, snapshot and unreferenced-file cleanup) on KMS-encrypted table buckets.
        Sid       = "S3TablesMaintenance"
        Effect    = "Allow"
        Principal = { Service = "maintenance.s3tables.amazonaws.com" }
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Condition = {
          StringLike = { "kms:EncryptionContext:aws:s3:arn" = "arn:${local.partition}:s3tables:${local.region}:${var.account_id}:bucket/*" }
        }
      },
    ]
  }
}

# ---------------------------------------------------------------- data buckets
resource "aws_s3_bucket" "data" {
  for_each = local.data_buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "lakepipe:bucket" = each.key })

  # checkov:skip=CKV_AWS_144: Cross-region replication is an account-level DR decision; raw data is re-deliverable and the lake is rebuilt from it.
  # checkov:skip=CKV2_AWS_62: Event notifications on the raw bucket are owned by modules/trigger (one aws_s3_bucket_notification per bucket); the other buckets need none.
}

resource "aws_s3_bucket_ownership_controls" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  for_each                = aws_s3_bucket.data
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = aws_s3_bucket.data
  bucket        = each.value.id
  target_bucket = aws_s3_bucket.access_logs.id
  target_prefix = "${each.key}/"

  # Log delivery is authorised by the access-log bucket's policy: have it in place first.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_s3_bucket_policy" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id
  policy   = jsonencode(local.bucket_policies[each.key])

  depends_on = [aws_s3_bucket_public_access_block.data]
}

locals {
  all_buckets = merge(local.data_buckets, { access_logs = local.access_logs_bucket })

  tls_only_statements = {
    for k, name in local.all_buckets : k => {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:${local.partition}:s3:::${name}", "arn:${local.partition}:s3:::${name}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }
  }

  bucket_policies = merge(
    { for k, name in local.data_buckets : k => {
      Version   = "2012-10-17"
      Statement = [local.tls_only_statements[k]]
    } },
    {
      access_logs = {
        Version = "2012-10-17"
        Statement = [
          local.tls_only_statements["access_logs"],
          {
            Sid       = "S3ServerAccessLogDelivery"
            Effect    = "Allow"
            Principal = { Service = "logging.s3.amazonaws.com" }
            Action    = "s3:PutObject"
            Resource  = "arn:${local.partition}:s3:::${local.access_logs_bucket}/*"
            Condition = {
              StringEquals = { "aws:SourceAccount" = var.account_id }
              ArnLike      = { "aws:SourceArn" = [for name in values(local.data_buckets) : "arn:${local.partition}:s3:::${name}"] }
            }
          },
        ]
      }
    },
  )
}

# Lifecycle: one whole-bucket rule (abort incomplete multipart uploads, expire noncurrent versions)
# on every bucket, plus expiring rules for the raw landing prefixes, rejects, staging and Athena results.
locals {
  expiring_rules = {
    raw = concat(
      [for i, p in local.raw_prefixes : {
        id              = "raw-landing-${i}"
        prefix          = p
        transition_days = var.raw_transition_days
        expire_days     = var.raw_retention_days
        noncurrent_days = null
      }],
      [{
        id              = "rejects"
        prefix          = var.rejects_prefix
        transition_days = null
        expire_days     = var.rejects_retention_days
        noncurrent_days = null
      }],
      # The ingest job deletes its staged copy (that exact version) after every run; this only
      # removes what a crashed run left behind.
      [{
        id              = "staging"
        prefix          = var.staging_prefix
        transition_days = null
        expire_days     = 1
        noncurrent_days = 1
      }],
    )
    warehouse = []
    artifacts = []
    athena_results = [{
      id              = "query-results"
      prefix          = ""
      transition_days = null
      expire_days     = var.query_results_retention_days
      noncurrent_days = null
    }]
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  for_each = aws_s3_bucket.data
  bucket   = each.value.id

  rule {
    id     = "whole-bucket-hygiene"
    status = "Enabled"

    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_retention_days
    }
  }

  dynamic "rule" {
    for_each = local.expiring_rules[each.key]
    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        prefix = rule.value.prefix
      }

      dynamic "transition" {
        for_each = rule.value.transition_days == null ? [] : [rule.value.transition_days]
        content {
          days          = transition.value
          storage_class = "STANDARD_IA"
        }
      }

      expiration {
        days = rule.value.expire_days
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_days == null ? [] : [rule.value.noncurrent_days]
        content {
          noncurrent_days = noncurrent_version_expiration.value
        }
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.data]
}

# ---------------------------------------------------------------- access-log bucket
resource "aws_s3_bucket" "access_logs" {
  bucket        = local.access_logs_bucket
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { "lakepipe:bucket" = "access_logs" })

  # checkov:skip=CKV_AWS_18: This is the access-log target bucket; logging it into itself would loop.
  # checkov:skip=CKV_AWS_144: Cross-region replication of access logs is an account-level DR decision.
  # checkov:skip=CKV_AWS_145: S3 server access log delivery supports only SSE-S3 on the target bucket, not SSE-KMS.
  # checkov:skip=CKV2_AWS_62: Nothing consumes events of the access-log bucket.
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  bucket                  = aws_s3_bucket.access_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  bucket     = aws_s3_bucket.access_logs.id
  policy     = jsonencode(local.bucket_policies["access_logs"])
  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.access_logs.id
  rule {
    id     = "expire-access-logs"
    status = "Enabled"
    filter {
      prefix = ""
    }
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
  depends_on = [aws_s3_bucket_versioning.access_logs]
}
