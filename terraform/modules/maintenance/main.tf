# Table maintenance (lakepipe/maintenance.py): an EventBridge Scheduler schedule starts a state machine that runs
# the maintenance Glue job once per dataset. Target glue: compaction, position-delete rewrite, snapshot expiry
# with the expired files deleted, orphan-file removal, over every table of the dataset (listed at run time: the
# ingest job creates the tables at first load, so they do not exist when Terraform applies). Target s3tables:
# the job sets each table's maintenance configuration, which S3 Tables runs itself.
data "aws_partition" "current" {}

locals {
  partition          = data.aws_partition.current.partition
  region             = var.region
  base               = "${var.name_prefix}-${var.environment}"
  glue_arn           = "arn:${local.partition}:glue:${local.region}:${var.account_id}"
  logs_arn           = "arn:${local.partition}:logs:${local.region}:${var.account_id}"
  job_name           = "${local.base}-maintenance"
  state_machine_name = "${local.base}-maintenance"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${var.account_id}:stateMachine:${local.state_machine_name}"

  glue_datasets  = [for d in var.datasets : d if d.target == "glue"]
  glue_table_dbs = sort(distinct([for d in local.glue_datasets : d.database]))
  # Grants wait for the databases modules/catalog creates.
  granted_dbs    = [for db in var.glue_database_names : db if contains(local.glue_table_dbs, db)]
  s3t_namespaces = sort(distinct([for d in var.datasets : d.database if d.target == "s3tables"]))
  s3tables_used  = var.s3tables_table_bucket_arn != null && length(local.s3t_namespaces) > 0

  script_hash = filesha256(var.script_path)
  script_key  = "glue/scripts/${substr(local.script_hash, 0, 16)}/maintenance_job.py"

  # The schedule's input: the settings and, per dataset, its spec and the other datasets' tables in its
  # database (their side tables are theirs: lakepipe.maintenance.dataset_tables).
  settings = {
    target_file_size_mb         = var.target_file_size_mb
    snapshot_retention_hours    = var.snapshot_retention_hours
    min_snapshots_to_keep       = var.min_snapshots_to_keep
    orphan_file_retention_hours = var.orphan_file_retention_days * 24
    s3tables_table_bucket_arn   = var.s3tables_table_bucket_arn == null ? "" : var.s3tables_table_bucket_arn
  }
  schedule_input = {
    settings = local.settings
    datasets = [for d in var.datasets : {
      dataset      = d.name
      dataset_spec = jsonencode(d)
      other_tables = jsonencode(sort([for o in var.datasets : o.table if o.name != d.name && o.database == d.database && o.target == d.target]))
    }]
  }

  definition = templatefile("${path.module}/../../../state_machines/maintenance.asl.json", {
    partition            = local.partition
    maintenance_job_name = local.job_name
    failure_topic_arn    = var.failure_topic_arn
    max_concurrency      = var.max_concurrent_datasets
  })
}

# ---------------------------------------------------------------- the job
resource "aws_s3_object" "script" {
  bucket      = var.artifacts_bucket_name
  key         = local.script_key
  source      = var.script_path
  source_hash = local.script_hash
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_glue_job" "maintenance" {
  name                   = local.job_name
  description            = "lakepipe: Iceberg table maintenance of one dataset (compaction, delete rewrite, snapshot expiry, orphan files)."
  role_arn               = aws_iam_role.job.arn
  glue_version           = "5.0"
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.timeout_minutes
  max_retries            = 0
  execution_class        = "STANDARD"
  security_configuration = var.security_configuration_name
  default_arguments      = var.job_arguments
  tags                   = var.tags

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.script.key}"
  }

  execution_property {
    max_concurrent_runs = var.max_concurrent_datasets
  }

  depends_on = [aws_iam_role_policy.job]
}

# What the job does and nothing else: read and rewrite the Glue-target tables' files (warehouse prefix), commit
# their metadata (glue:UpdateTable; never CreateTable or DeleteTable), list the table locations for orphan files,
# write its report; for S3 Tables, list the namespace's tables and set their maintenance configuration.
resource "aws_iam_role" "job" {
  name = "${local.base}-glue-maintenance"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "glue.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "job" {
  name   = "lakepipe-maintenance-job"
  role   = aws_iam_role.job.id
  policy = jsonencode(local.job_policy)
}

locals {
  glue_table_resources = concat(
    ["${local.glue_arn}:catalog"],
    [for db in local.glue_table_dbs : "${local.glue_arn}:database/${db}"],
    [for db in local.glue_table_dbs : "${local.glue_arn}:table/${db}/*"],
  )

  job_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ReadArtifacts"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = ["${var.artifacts_bucket_arn}/glue/scripts/*", "${var.artifacts_bucket_arn}/glue/packages/*"]
      },
      {
        Sid      = "WriteReportsAndTemp"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${var.artifacts_bucket_arn}/${var.runs_prefix}*", "${var.artifacts_bucket_arn}/glue/tmp/*"]
      },
      {
        Sid       = "ListArtifacts"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = var.artifacts_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.runs_prefix}*", "glue/*"] } }
      },
      {
        # Compaction writes new files and expiry/orphan removal deletes unreferenced ones.
        Sid      = "WarehouseIceberg"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${var.warehouse_bucket_arn}/${var.warehouse_prefix}*"
      },
      {
        # remove_orphan_files lists each table's location.
        Sid       = "ListWarehouse"
        Effect    = "Allow"
        Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource  = var.warehouse_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.warehouse_prefix}*"] } }
      },
      {
        Sid    = "GlueTables"
        Effect = "Allow"
        Action = [
          "glue:GetCatalog", "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
          "glue:GetTableVersion", "glue:GetTableVersions", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
          "glue:UpdateTable",
        ]
        Resource = local.glue_table_resources
      },
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"]
        Resource = var.kms_key_arn
      },
      {
        # No resource-level permissions exist for GetDataAccess; Lake Formation grants scope the data.
        Sid      = "LakeFormationCredentialVending"
        Effect   = "Allow"
        Action   = "lakeformation:GetDataAccess"
        Resource = "*"
      },
      {
        Sid      = "GlueLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
        Resource = ["${local.logs_arn}:log-group:/aws-glue/*", "${local.logs_arn}:log-group:/aws-glue/*:log-stream:*"]
      },
      {
        # cloudwatch:PutMetricData has no resource-level permissions; restricted to the Glue namespace.
        Sid       = "GlueMetrics"
        Effect    = "Allow"
        Action    = "cloudwatch:PutMetricData"
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = "Glue" } }
      },
      ], local.s3tables_used ? [{
        Sid      = "S3TablesMaintenanceConfiguration"
        Effect   = "Allow"
        Action   = ["s3tables:ListTables", "s3tables:GetTableMaintenanceConfiguration", "s3tables:PutTableMaintenanceConfiguration"]
        Resource = [var.s3tables_table_bucket_arn, "${var.s3tables_table_bucket_arn}/table/*"]
    }] : [])
  }
}

# Lake Formation: what the ingest role holds on the tables, less CREATE_TABLE and data-location access
# (maintenance creates nothing): DESCRIBE on the table databases, and on every table SELECT (read the files),
# INSERT and DELETE (write and remove files), ALTER (commit new metadata with UpdateTable).
resource "aws_lakeformation_permissions" "database" {
  for_each = toset(local.granted_dbs)

  principal   = aws_iam_role.job.arn
  permissions = ["DESCRIBE"]

  database {
    name = each.value
  }
}

resource "aws_lakeformation_permissions" "tables" {
  for_each = toset(local.granted_dbs)

  principal   = aws_iam_role.job.arn
  permissions = ["ALTER", "DELETE", "DESCRIBE", "INSERT", "SELECT"]

  table {
    database_name = each.value
    wildcard      = true
  }
}

# ---------------------------------------------------------------- state machine
resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "state_machine" {
  name = local.state_machine_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "maintenance"
  role   = aws_iam_role.state_machine.id
  policy = jsonencode(local.state_machine_policy)
}

locals {
  state_machine_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "GlueJobSync"
        Effect   = "Allow"
        Action   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
        Resource = "${local.glue_arn}:job/${local.job_name}"
      },
      {
        Sid      = "NotifyFailure"
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = var.failure_topic_arn
      },
      {
        # Publishing to the KMS-encrypted topic and encrypting the state machine's own data.
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
      },
      {
        # CloudWatch Logs vended delivery: these actions have no resource-level permissions.
        Sid    = "LogDelivery"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = "*"
      },
      {
        # X-Ray tracing actions have no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      },
    ]
  }
}

resource "aws_sfn_state_machine" "maintenance" {
  name       = local.state_machine_name
  role_arn   = aws_iam_role.state_machine.arn
  type       = "STANDARD"
  definition = local.definition
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = var.execution_log_level
  }

  tracing_configuration {
    enabled = true
  }

  dynamic "encryption_configuration" {
    for_each = var.encrypt_state_machine ? [1] : []
    content {
      type                              = "CUSTOMER_MANAGED_KMS_KEY"
      kms_key_id                        = var.kms_key_arn
      kms_data_key_reuse_period_seconds = 300
    }
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

# ---------------------------------------------------------------- schedule
resource "aws_iam_role" "scheduler" {
  name = "${local.base}-maintenance-scheduler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "start-maintenance"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartMaintenance"
        Effect   = "Allow"
        Action   = "states:StartExecution"
        Resource = aws_sfn_state_machine.maintenance.arn
      },
      {
        # The schedule's input is encrypted with the lake key; the scheduler decrypts it to start the target.
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = var.kms_key_arn
      },
    ]
  })
}

resource "aws_scheduler_schedule" "maintenance" {
  name                         = "${local.base}-maintenance"
  description                  = "lakepipe ${var.environment}: table maintenance of every dataset."
  schedule_expression          = var.schedule_expression
  schedule_expression_timezone = var.schedule_timezone
  state                        = var.schedule_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.maintenance.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode(local.schedule_input)

    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}
