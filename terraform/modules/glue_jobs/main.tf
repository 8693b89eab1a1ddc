data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = var.region
  base      = "${var.name_prefix}-${var.environment}"
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${var.account_id}"
  logs_arn  = "arn:${local.partition}:logs:${local.region}:${var.account_id}"

  ingest_job_name = "${local.base}-ingest"
  view_job_name   = "${local.base}-views"

  s3tables_enabled = var.s3tables_table_bucket_name != null

  glue_table_dbs = sort(distinct([for d in var.datasets : d.database if d.target == "glue"]))
  s3t_namespaces = sort(distinct([for d in var.datasets : d.database if d.target == "s3tables"]))
  view_dbs       = sort(distinct([for d in var.datasets : coalesce(d.view_database, d.database)]))
  raw_prefixes   = sort(distinct([for d in var.datasets : d.raw_prefix]))

}

# ---------------------------------------------------------------- artifacts (content-addressed keys)
locals {
  ingest_script_hash = filesha256(var.ingest_script_path)
  view_script_hash   = filesha256(var.view_script_path)
  package_hash       = filesha256(var.package_zip_path)

  ingest_script_key = "glue/scripts/${substr(local.ingest_script_hash, 0, 16)}/ingest_job.py"
  view_script_key   = "glue/scripts/${substr(local.view_script_hash, 0, 16)}/view_job.py"
  package_key       = "glue/packages/${substr(local.package_hash, 0, 16)}/lakepipe.zip"
}

resource "aws_s3_object" "ingest_script" {
  bucket      = var.artifacts_bucket_name
  key         = local.ingest_script_key
  source      = var.ingest_script_path
  source_hash = local.ingest_script_hash
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_s3_object" "view_script" {
  bucket      = var.artifacts_bucket_name
  key         = local.view_script_key
  source      = var.view_script_path
  source_hash = local.view_script_hash
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

resource "aws_s3_object" "package" {
  bucket      = var.artifacts_bucket_name
  key         = local.package_key
  source      = var.package_zip_path
  source_hash = local.package_hash
  kms_key_id  = var.kms_key_arn
  tags        = var.tags
}

# ---------------------------------------------------------------- job arguments (job_arguments.json)
# docs/design.md "Spark catalog configuration". Target glue: Iceberg GlueCatalog on the warehouse
# bucket. Target s3tables: the same GlueCatalog pointed at the federated S3 Tables catalog
# (glue.id=<account>:s3tablescatalog/<bucket>), AWS's "analytics services integration" path for
# Glue 5.0, which needs no extra jar and keeps the tables visible to Athena and Lake Formation.
#
# No --enable-glue-datacatalog: it makes the Glue Data Catalog Spark's Hive metastore, whose client
# reads database "default" at session start, where the job roles have no IAM or Lake Formation
# access. The jobs name every table through the Iceberg catalogs (GlueCatalog calls Glue directly),
# so the Hive session catalog is never used.
locals {
  # Defined once in job_arguments.json; tools/glue_job_args.py renders the same file for the local
  # tools and the script tests (tests/unit/test_glue_job_args.py checks it against the planned jobs).
  shuffle = jsondecode(file("${path.module}/job_arguments.json")).shuffle_partitions
  job_arguments = jsondecode(templatefile("${path.module}/job_arguments.json", {
    shuffle_partitions = local.shuffle.per_task_slot * (var.number_of_workers - 1) * local.shuffle.worker_vcpus[var.worker_type]
    account_id         = var.account_id
    glue_catalog       = var.glue_catalog_name
    s3tables_catalog   = var.s3tables_catalog_name
    table_bucket       = local.s3tables_enabled ? var.s3tables_table_bucket_name : ""
    raw_bucket         = var.raw_bucket_name
    warehouse_bucket   = var.warehouse_bucket_name
    artifacts_bucket   = var.artifacts_bucket_name
    warehouse_prefix   = var.warehouse_prefix
    runs_prefix        = var.runs_prefix
    rejects_prefix     = var.rejects_prefix
    staging_prefix     = var.staging_prefix
    package_key        = aws_s3_object.package.key
    log_group          = aws_cloudwatch_log_group.jobs.name
    # The jobs' custom CloudWatch metrics (lakepipe/metrics.py, modules/monitoring).
    metrics_namespace = var.metrics_namespace
  }))

  spark_conf = join(" --conf ", concat(
    local.job_arguments.spark_conf.session,
    local.job_arguments.spark_conf.glue_catalog,
    local.s3tables_enabled ? local.job_arguments.spark_conf.s3tables_catalog : [],
    var.extra_spark_conf,
  ))

  common_arguments = merge(local.job_arguments.arguments.common, { "--conf" = local.spark_conf })
  ingest_arguments = merge(local.common_arguments, local.job_arguments.arguments.ingest)
  # The maintenance job lives in modules/maintenance; its arguments are rendered here, from the same file.
  maintenance_arguments = merge(local.common_arguments, local.job_arguments.arguments.maintenance)
  view_arguments = merge(local.common_arguments, local.job_arguments.arguments.views,
    { "--definer_role_arn" = var.definer_role_arn },
    # Views over target s3tables name the table as "s3tablescatalog/<bucket>".ns.table (Athena) and
    # carry its ARN in the federated catalog: both need the bucket's name.
    local.s3tables_enabled ? local.job_arguments.arguments.views_s3tables : {},
  )
}

# ---------------------------------------------------------------- security configuration and logs
resource "aws_glue_security_configuration" "this" {
  name = "${local.base}-jobs"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

resource "aws_cloudwatch_log_group" "jobs" {
  name              = "/aws-glue/jobs/${local.base}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# ---------------------------------------------------------------- jobs
resource "aws_glue_job" "ingest" {
  name                   = local.ingest_job_name
  description            = "lakepipe: CSV in the raw bucket -> Iceberg table (MERGE INTO), rejects kept with their reason."
  role_arn               = aws_iam_role.ingest.arn
  glue_version           = "5.0"
  worker_type            = var.worker_type
  number_of_workers      = var.number_of_workers
  timeout                = var.timeout_minutes
  max_retries            = 0
  execution_class        = "STANDARD"
  security_configuration = aws_glue_security_configuration.this.name
  default_arguments      = local.ingest_arguments
  tags                   = var.tags

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.ingest_script.key}"
  }

  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }

  depends_on = [aws_iam_role_policy.ingest]
}

resource "aws_glue_job" "views" {
  name                   = local.view_job_name
  description            = "lakepipe: create, update or drop one multi-dialect Glue Data Catalog view per split value."
  role_arn               = aws_iam_role.views.arn
  glue_version           = "5.0"
  worker_type            = var.view_worker_type
  number_of_workers      = var.view_number_of_workers
  timeout                = var.timeout_minutes
  max_retries            = 0
  execution_class        = "STANDARD"
  security_configuration = aws_glue_security_configuration.this.name
  default_arguments      = local.view_arguments
  tags                   = var.tags

  command {
    name            = "glueetl"
    python_version  = "3"
    script_location = "s3://${var.artifacts_bucket_name}/${aws_s3_object.view_script.key}"
  }

  execution_property {
    max_concurrent_runs = var.max_concurrent_runs
  }

  depends_on = [aws_iam_role_policy.views]
}

# ---------------------------------------------------------------- job roles
# One role per job, each with only what its job does (Lake Formation grants follow in modules/catalog):
# - ingest: reads the datasets' raw prefixes (incl. versions), stages, writes rejects and the Iceberg
#   warehouse, creates/updates tables in the table databases; no iam:PassRole, no DeleteTable, nothing
#   in view-only databases.
# - views: reads the base tables (Glue + warehouse objects: its Spark reads the table for split values
#   and analyses the view SQL), creates/updates/deletes views in the view databases, passes the definer
#   role; writes only its run report; nothing in the raw bucket.
locals {
  glue_trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "glue.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
}

resource "aws_iam_role" "ingest" {
  name               = "${local.base}-glue-ingest"
  assume_role_policy = local.glue_trust_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "ingest" {
  name   = "lakepipe-ingest-job"
  role   = aws_iam_role.ingest.id
  policy = jsonencode(local.ingest_policy)
}

resource "aws_iam_role" "views" {
  name               = "${local.base}-glue-views"
  assume_role_policy = local.glue_trust_policy
  tags               = var.tags
}

resource "aws_iam_role_policy" "views" {
  name   = "lakepipe-view-job"
  role   = aws_iam_role.views.id
  policy = jsonencode(local.view_policy)
}

locals {
  # Base tables: Glue tables of target glue, and the S3 Tables namespaces in the federated catalog.
  s3t_catalog_arn = local.s3tables_enabled ? "${local.glue_arn}:catalog/s3tablescatalog/${var.s3tables_table_bucket_name}" : null
  base_table_catalog_resources = concat(
    ["${local.glue_arn}:catalog"],
    [for db in local.glue_table_dbs : "${local.glue_arn}:database/${db}"],
    [for db in local.glue_table_dbs : "${local.glue_arn}:table/${db}/*"],
    local.s3tables_enabled ? concat(
      ["${local.glue_arn}:catalog/s3tablescatalog", local.s3t_catalog_arn],
      [for ns in local.s3t_namespaces : "${local.glue_arn}:database/s3tablescatalog/${var.s3tables_table_bucket_name}/${ns}"],
      [for ns in local.s3t_namespaces : "${local.glue_arn}:table/s3tablescatalog/${var.s3tables_table_bucket_name}/${ns}/*"],
    ) : [],
  )
  view_catalog_resources = concat(
    ["${local.glue_arn}:catalog"],
    [for db in local.view_dbs : "${local.glue_arn}:database/${db}"],
    [for db in local.view_dbs : "${local.glue_arn}:table/${db}/*"],
  )

  glue_read_actions = [
    "glue:GetCatalog", "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
    "glue:GetTableVersion", "glue:GetTableVersions", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
  ]

  # Both jobs: their script and package, the Glue temp dir, their run report, the lake key, logs, metrics.
  common_job_statements = [
    {
      Sid      = "ReadArtifacts"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:GetObjectVersion"]
      Resource = ["${var.artifacts_bucket_arn}/glue/scripts/*", "${var.artifacts_bucket_arn}/glue/packages/*"]
    },
    {
      Sid      = "WriteRunsAndTemp"
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
      Sid       = "ListWarehouse"
      Effect    = "Allow"
      Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
      Resource  = var.warehouse_bucket_arn
      Condition = { StringLike = { "s3:prefix" = ["${var.warehouse_prefix}*"] } }
    },
    {
      # The Glue security configuration encrypts job output, logs and bookmarks with this key.
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
      # cloudwatch:PutMetricData has no resource-level permissions; restricted to Glue's own namespace
      # (job metrics) and the stack's (the jobs' custom metrics, lakepipe/metrics.py).
      Sid       = "GlueMetrics"
      Effect    = "Allow"
      Action    = "cloudwatch:PutMetricData"
      Resource  = "*"
      Condition = { StringEquals = { "cloudwatch:namespace" = ["Glue", var.metrics_namespace] } }
    },
  ]

  ingest_s3tables_statements = local.s3tables_enabled && length(local.s3t_namespaces) > 0 ? [{
    Sid    = "S3TablesData"
    Effect = "Allow"
    Action = [
      "s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:ListNamespaces", "s3tables:ListTables",
      "s3tables:CreateTable", "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:UpdateTableMetadataLocation",
      "s3tables:GetTableData", "s3tables:PutTableData",
    ]
    Resource = [var.s3tables_table_bucket_arn, "${var.s3tables_table_bucket_arn}/table/*"]
  }] : []

  view_s3tables_statements = local.s3tables_enabled && length(local.s3t_namespaces) > 0 ? [{
    Sid      = "S3TablesReadBaseTables"
    Effect   = "Allow"
    Action   = ["s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:GetTableData"]
    Resource = [var.s3tables_table_bucket_arn, "${var.s3tables_table_bucket_arn}/table/*"]
  }] : []

  ingest_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ReadRawDatasetPrefixes"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = [for p in local.raw_prefixes : "${var.raw_bucket_arn}/${p}*"]
      },
      {
        Sid      = "WriteRejects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${var.raw_bucket_arn}/${var.rejects_prefix}*"
      },
      {
        # The ingest job copies the exact source version (versioned CopySource: s3:GetObjectVersion on
        # the raw prefixes above) to its per-run staging object, which Spark reads; afterwards it
        # deletes that exact version (s3:DeleteObjectVersion). AbortMultipartUpload: a failed
        # multipart copy (objects above 8 MB) is aborted by boto3's managed copy.
        Sid      = "StageSourceVersions"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"]
        Resource = "${var.raw_bucket_arn}/${var.staging_prefix}*"
      },
      {
        Sid       = "ListRawPrefixes"
        Effect    = "Allow"
        Action    = "s3:ListBucket"
        Resource  = var.raw_bucket_arn
        Condition = { StringLike = { "s3:prefix" = concat([for p in local.raw_prefixes : "${p}*"], ["${var.rejects_prefix}*", "${var.staging_prefix}*"]) } }
      },
      {
        Sid      = "WarehouseIceberg"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${var.warehouse_bucket_arn}/${var.warehouse_prefix}*"
      },
      {
        # Iceberg's GlueCatalog creates the table on the first load and commits each MERGE with
        # UpdateTable; tables are never dropped by the pipeline.
        Sid      = "GlueTables"
        Effect   = "Allow"
        Action   = concat(local.glue_read_actions, ["glue:CreateTable", "glue:UpdateTable"])
        Resource = local.base_table_catalog_resources
      },
    ], local.common_job_statements, local.ingest_s3tables_statements)
  }

  view_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        # Read only: the view job's Spark reads the base table (split values, view SQL analysis).
        Sid      = "WarehouseRead"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion"]
        Resource = "${var.warehouse_bucket_arn}/${var.warehouse_prefix}*"
      },
      {
        Sid      = "GlueReadBaseTables"
        Effect   = "Allow"
        Action   = local.glue_read_actions
        Resource = local.base_table_catalog_resources
      },
      {
        Sid      = "GlueViews"
        Effect   = "Allow"
        Action   = concat(local.glue_read_actions, ["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"])
        Resource = local.view_catalog_resources
      },
      {
        # The view job creates views whose Definer is the definer role (Glue Data Catalog views).
        Sid       = "PassDefinerRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = var.definer_role_arn
        Condition = { StringEquals = { "iam:PassedToService" = ["glue.amazonaws.com", "lakeformation.amazonaws.com"] } }
      },
    ], local.common_job_statements, local.view_s3tables_statements)
  }
}

moved {
  from = aws_iam_role.job
  to   = aws_iam_role.ingest
}

moved {
  from = aws_iam_role_policy.job
  to   = aws_iam_role_policy.ingest
}
