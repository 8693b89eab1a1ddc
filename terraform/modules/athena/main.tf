data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  glue_arn  = "arn:${local.partition}:glue:${var.region}:${var.account_id}"
}

resource "aws_athena_workgroup" "this" {
  name          = "${var.name_prefix}-${var.environment}"
  description   = "lakepipe ${var.environment}: queries over the Iceberg tables and the multi-dialect views"
  state         = "ENABLED"
  force_destroy = var.force_destroy
  tags          = var.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${var.results_bucket_name}/${var.results_prefix}"
      expected_bucket_owner = var.account_id

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

# ---------------------------------------------------------------- analyst access (IAM side)
# What an analyst needs in IAM to query the views through this workgroup, and analyst group members the
# base tables they read through data cells filters; Lake Formation grants (modules/catalog: SELECT/DESCRIBE
# on view-only databases, DESCRIBE on default, SELECT on a group's filter and views) decide what data they
# see. Athena "Manage Lake Formation and Athena user permissions": lakeformation:GetDataAccess, the
# results location, and the key of encrypted results.
locals {
  results_bucket_arn = "arn:${local.partition}:s3:::${var.results_bucket_name}"
  # The tables analyst groups read through data cells filters, and their databases (each once).
  filtered_table_arns = distinct(flatten([for t in var.filtered_tables : [
    "${local.glue_arn}:database/${t.database}", "${local.glue_arn}:table/${t.database}/${t.table}",
  ]]))
  analyst_policy = {
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid    = "QueryInThisWorkgroup"
        Effect = "Allow"
        Action = [
          "athena:GetWorkGroup", "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
          "athena:BatchGetQueryExecution", "athena:ListQueryExecutions", "athena:GetQueryResults", "athena:GetQueryRuntimeStatistics",
        ]
        Resource = aws_athena_workgroup.this.arn
      },
      {
        Sid      = "BrowseTheDataCatalog"
        Effect   = "Allow"
        Action   = ["athena:GetDataCatalog", "athena:ListDatabases", "athena:GetDatabase", "athena:ListTableMetadata", "athena:GetTableMetadata"]
        Resource = "arn:${local.partition}:athena:${var.region}:${var.account_id}:datacatalog/AwsDataCatalog"
      },
      {
        # Athena reads database "default" for every Lake Formation user (Athena: "The DESCRIBE
        # permission is required on the default database"), then the view databases and views.
        Sid    = "GlueReadViews"
        Effect = "Allow"
        Action = [
          "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
          "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
        ]
        Resource = concat(
          ["${local.glue_arn}:catalog", "${local.glue_arn}:database/default"],
          [for db in var.view_databases : "${local.glue_arn}:database/${db}"],
          [for db in var.view_databases : "${local.glue_arn}:table/${db}/*"],
        )
      },
      {
        # No resource-level permissions exist for GetDataAccess; Lake Formation grants scope the data.
        Sid      = "LakeFormationDataAccess"
        Effect   = "Allow"
        Action   = "lakeformation:GetDataAccess"
        Resource = "*"
      },
      {
        Sid      = "QueryResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
        Resource = "${local.results_bucket_arn}/${var.results_prefix}*"
      },
      {
        Sid       = "ListQueryResults"
        Effect    = "Allow"
        Action    = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
        Resource  = local.results_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.results_prefix}*"] } }
      },
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
      },
      ], length(var.filtered_tables) == 0 ? [] : [{
        # A group member's query on a base table (through its Lake Formation data cells filter): Athena
        # reads the table's Glue metadata with the caller's identity, which needs the catalog (above), the
        # database and the table ARN (Glue "Specifying resource ARNs"). Named tables only: no GetTables,
        # which would need table/<db>/* and list every table of the base database.
        Sid      = "GlueReadFilteredTables"
        Effect   = "Allow"
        Action   = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
        Resource = local.filtered_table_arns
    }])
  }
}

resource "aws_iam_policy" "analyst" {
  name        = "${var.name_prefix}-${var.environment}-analyst"
  description = "lakepipe ${var.environment}: query the multi-dialect views through the ${aws_athena_workgroup.this.name} workgroup (Lake Formation grants decide the data)."
  policy      = jsonencode(local.analyst_policy)
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "analyst" {
  for_each = toset(var.analyst_role_names)

  role       = each.value
  policy_arn = aws_iam_policy.analyst.arn
}
