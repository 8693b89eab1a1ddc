mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-glue-job" }
  }
}

variables {
  region                     = "eu-west-1"
  environment                = "dev"
  account_id                 = "123456789012"
  raw_bucket_name            = "lakepipe-dev-raw"
  raw_bucket_arn             = "arn:aws:s3:::lakepipe-dev-raw"
  warehouse_bucket_name      = "lakepipe-dev-warehouse"
  warehouse_bucket_arn       = "arn:aws:s3:::lakepipe-dev-warehouse"
  artifacts_bucket_name      = "lakepipe-dev-artifacts"
  artifacts_bucket_arn       = "arn:aws:s3:::lakepipe-dev-artifacts"
  kms_key_arn                = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  definer_role_arn           = "arn:aws:iam::123456789012:role/lakepipe-dev-view-definer"
  s3tables_table_bucket_name = "lakepipe-dev-tables"
  s3tables_table_bucket_arn  = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables"
  ingest_script_path         = "tests/fixtures/ingest_job.py"
  view_script_path           = "tests/fixtures/view_job.py"
  package_zip_path           = "tests/fixtures/lakepipe.zip"
  max_concurrent_runs        = 7
  metrics_namespace          = "lakepipe/dev"
  datasets = [
    { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" },
    { name = "ledger", raw_prefix = "incoming/ledger/", target = "s3tables", database = "finance", table = "ledger", view_database = "reporting", split_column = "entity1", id_columns = [], key_column = "key", value_column = "value", view_prefix = "ledger_view_" },
  ]
}

run "jobs_run_glue_5_with_iceberg_and_the_package" {
  command = apply

  assert {
    condition     = aws_glue_job.ingest.glue_version == "5.0" && aws_glue_job.views.glue_version == "5.0"
    error_message = "Both jobs must run Glue 5.0."
  }
  assert {
    condition     = aws_glue_job.ingest.default_arguments["--datalake-formats"] == "iceberg" && aws_glue_job.views.default_arguments["--datalake-formats"] == "iceberg"
    error_message = "Iceberg must be enabled with --datalake-formats."
  }
  assert {
    condition     = aws_glue_job.ingest.default_arguments["--extra-py-files"] == "s3://lakepipe-dev-artifacts/${aws_s3_object.package.key}" && aws_glue_job.views.default_arguments["--extra-py-files"] == aws_glue_job.ingest.default_arguments["--extra-py-files"]
    error_message = "Both jobs must load the uploaded package with --extra-py-files."
  }
  assert {
    condition     = aws_s3_object.package.key == "glue/packages/${substr(filesha256("tests/fixtures/lakepipe.zip"), 0, 16)}/lakepipe.zip" && aws_s3_object.package.source_hash == filesha256("tests/fixtures/lakepipe.zip")
    error_message = "The package key must carry its content hash."
  }
  assert {
    condition     = one(aws_glue_job.ingest.command).script_location == "s3://lakepipe-dev-artifacts/${aws_s3_object.ingest_script.key}" && strcontains(aws_s3_object.ingest_script.key, substr(filesha256("tests/fixtures/ingest_job.py"), 0, 16))
    error_message = "The ingest job must run the uploaded, content-addressed script."
  }
  assert {
    condition     = one(aws_glue_job.ingest.execution_property).max_concurrent_runs == 7 && one(aws_glue_job.views.execution_property).max_concurrent_runs == 7
    error_message = "max_concurrent_runs comes from the variable."
  }
  assert {
    condition     = aws_glue_job.ingest.worker_type == "G.1X" && aws_glue_job.ingest.number_of_workers == 2 && aws_glue_job.ingest.timeout == 60
    error_message = "Worker type, count and timeout come from variables."
  }
  assert {
    condition     = aws_glue_job.ingest.security_configuration == aws_glue_security_configuration.this.name && aws_cloudwatch_log_group.jobs.retention_in_days == 30
    error_message = "Jobs use the security configuration; logs have a retention."
  }
}

run "job_arguments_follow_the_design_contract" {
  command = apply

  assert {
    condition     = aws_glue_job.ingest.default_arguments["--rejects_location"] == "s3://lakepipe-dev-raw/rejects/" && !contains(keys(aws_glue_job.views.default_arguments), "--rejects_location")
    error_message = "--rejects_location belongs to the ingest job."
  }
  assert {
    condition     = aws_glue_job.ingest.default_arguments["--staging_location"] == "s3://lakepipe-dev-raw/staging/" && !contains(keys(aws_glue_job.views.default_arguments), "--staging_location") && output.staging_location == "s3://lakepipe-dev-raw/staging/"
    error_message = "--staging_location (raw bucket, staging/) belongs to the ingest job."
  }
  assert {
    condition     = aws_glue_job.views.default_arguments["--definer_role_arn"] == var.definer_role_arn && !contains(keys(aws_glue_job.ingest.default_arguments), "--definer_role_arn")
    error_message = "--definer_role_arn belongs to the view job."
  }
  assert {
    condition     = aws_glue_job.views.default_arguments["--s3tables_table_bucket"] == "lakepipe-dev-tables" && !contains(keys(aws_glue_job.ingest.default_arguments), "--s3tables_table_bucket")
    error_message = "The view job names S3 Tables base tables by their table bucket (--s3tables_table_bucket)."
  }
  assert {
    condition = alltrue([for j in [aws_glue_job.ingest, aws_glue_job.views] :
      j.default_arguments["--runs_location"] == "s3://lakepipe-dev-artifacts/runs/" && j.default_arguments["--glue_catalog"] == "glue_catalog" &&
    j.default_arguments["--s3tables_catalog"] == "s3tables_catalog"])
    error_message = "Common job defaults must match docs/design.md."
  }
  assert {
    # The Hive metastore client that flag enables touches database "default", which the job roles may not read.
    condition     = alltrue([for j in [aws_glue_job.ingest, aws_glue_job.views] : !contains(keys(j.default_arguments), "--enable-glue-datacatalog")])
    error_message = "The jobs use Iceberg catalogs only: no --enable-glue-datacatalog (Spark's Hive client would need access to database default)."
  }
  assert {
    condition     = startswith(output.spark_conf, "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions --conf spark.sql.shuffle.partitions=8 --conf spark.sql.catalog.glue_catalog=org.apache.iceberg.spark.SparkCatalog --conf spark.sql.catalog.glue_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog --conf spark.sql.catalog.glue_catalog.warehouse=s3://lakepipe-dev-warehouse/iceberg/ --conf spark.sql.catalog.glue_catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO")
    error_message = "The packed --conf must start exactly as docs/design.md describes."
  }
  assert {
    condition     = contains(split(" --conf ", output.spark_conf), "spark.sql.catalog.s3tables_catalog.glue.id=123456789012:s3tablescatalog/lakepipe-dev-tables") && contains(split(" --conf ", output.spark_conf), "spark.sql.catalog.s3tables_catalog.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog")
    error_message = "The S3 Tables catalog must be a GlueCatalog on the federated s3tablescatalog."
  }
}

run "ingest_role_is_least_privilege" {
  command = apply

  assert {
    condition     = aws_glue_job.ingest.role_arn == aws_iam_role.ingest.arn && aws_glue_job.views.role_arn == aws_iam_role.views.arn && aws_iam_role.ingest.name != aws_iam_role.views.name
    error_message = "Each job runs with its own role."
  }
  assert {
    condition     = toset(flatten([for s in local.ingest_policy.Statement : s.Resource if s.Sid == "ReadRawDatasetPrefixes"])) == toset(["arn:aws:s3:::lakepipe-dev-raw/incoming/entities/*", "arn:aws:s3:::lakepipe-dev-raw/incoming/ledger/*"])
    error_message = "The ingest job reads only the datasets' raw prefixes."
  }
  assert {
    condition     = toset(distinct(flatten([for s in local.ingest_policy.Statement : [for r in flatten([s.Resource]) : regex("^arn:aws:s3:::([^/]+)", r)[0] if startswith(r, "arn:aws:s3:::")]]))) == toset(["lakepipe-dev-raw", "lakepipe-dev-artifacts", "lakepipe-dev-warehouse"])
    error_message = "Only the raw, artifacts and warehouse buckets may appear in the ingest policy."
  }
  assert {
    condition     = toset(flatten([for s in local.ingest_policy.Statement : s.Action if s.Sid == "ReadRawDatasetPrefixes"])) == toset(["s3:GetObject", "s3:GetObjectVersion"])
    error_message = "Staging copies a source by VersionId: the raw prefixes need s3:GetObjectVersion, read-only."
  }
  assert {
    condition = one([for s in local.ingest_policy.Statement : s if s.Sid == "StageSourceVersions"]).Resource == "arn:aws:s3:::lakepipe-dev-raw/staging/*" && toset(one([for s in local.ingest_policy.Statement : s if s.Sid == "StageSourceVersions"]).Action) == toset([
    "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:AbortMultipartUpload"])
    error_message = "Write, read and version deletes only on the staging prefix."
  }
  assert {
    condition     = length([for s in local.ingest_policy.Statement : s if contains(flatten([s.Action]), "s3:DeleteObjectVersion")]) == 1
    error_message = "s3:DeleteObjectVersion only in the staging statement."
  }
  assert {
    condition     = toset(one([for s in local.ingest_policy.Statement : s if s.Sid == "ListRawPrefixes"]).Condition.StringLike["s3:prefix"]) == toset(["incoming/entities/*", "incoming/ledger/*", "rejects/*", "staging/*"])
    error_message = "The raw bucket may be listed only under the dataset, rejects and staging prefixes."
  }
  assert {
    condition = toset(flatten([for s in local.ingest_policy.Statement : s.Resource if s.Sid == "GlueTables"])) == toset([
      "arn:aws:glue:eu-west-1:123456789012:catalog",
      "arn:aws:glue:eu-west-1:123456789012:database/lake", "arn:aws:glue:eu-west-1:123456789012:table/lake/*",
      "arn:aws:glue:eu-west-1:123456789012:catalog/s3tablescatalog", "arn:aws:glue:eu-west-1:123456789012:catalog/s3tablescatalog/lakepipe-dev-tables",
      "arn:aws:glue:eu-west-1:123456789012:database/s3tablescatalog/lakepipe-dev-tables/finance", "arn:aws:glue:eu-west-1:123456789012:table/s3tablescatalog/lakepipe-dev-tables/finance/*",
    ])
    error_message = "The ingest job's Glue actions cover the table databases and their tables only (no view-only database such as reporting)."
  }
  assert {
    condition     = toset(flatten([for s in local.ingest_policy.Statement : s.Resource if s.Sid == "S3TablesData"])) == toset([var.s3tables_table_bucket_arn, "${var.s3tables_table_bucket_arn}/table/*"])
    error_message = "s3tables actions only on the table bucket."
  }
  # What the ingest job must not have: the view job's powers.
  assert {
    condition     = !anytrue([for s in local.ingest_policy.Statement : contains(flatten([s.Action]), "iam:PassRole")])
    error_message = "The ingest job passes no role (only the view job passes the definer role)."
  }
  assert {
    condition     = !anytrue([for s in local.ingest_policy.Statement : contains(flatten([s.Action]), "glue:DeleteTable")])
    error_message = "The ingest job deletes no table or view."
  }
  assert {
    condition     = !anytrue([for s in local.ingest_policy.Statement : anytrue([for r in flatten([s.Resource]) : strcontains(r, ":database/reporting") || strcontains(r, ":table/reporting/")])])
    error_message = "The ingest job has no access to view-only databases."
  }
}

run "view_role_is_least_privilege" {
  command = apply

  assert {
    condition     = toset(distinct(flatten([for s in local.view_policy.Statement : [for r in flatten([s.Resource]) : regex("^arn:aws:s3:::([^/]+)", r)[0] if startswith(r, "arn:aws:s3:::")]]))) == toset(["lakepipe-dev-artifacts", "lakepipe-dev-warehouse"])
    error_message = "The view job touches only the artifacts and warehouse buckets (never raw)."
  }
  assert {
    condition = alltrue([for s in local.view_policy.Statement : !anytrue([for a in flatten([s.Action]) : contains(["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"], a)]) ||
    alltrue([for r in flatten([s.Resource]) : startswith(r, "arn:aws:s3:::lakepipe-dev-artifacts/runs/") || startswith(r, "arn:aws:s3:::lakepipe-dev-artifacts/glue/tmp/")])])
    error_message = "The view job writes only its run report (runs/) and the Glue temp dir: the warehouse is read-only for it."
  }
  assert {
    condition     = toset(one([for s in local.view_policy.Statement : s if s.Sid == "WarehouseRead"]).Action) == toset(["s3:GetObject", "s3:GetObjectVersion"])
    error_message = "The view job reads the warehouse (its Spark reads the base table)."
  }
  assert {
    condition = toset(one([for s in local.view_policy.Statement : s if s.Sid == "GlueViews"]).Resource) == toset([
      "arn:aws:glue:eu-west-1:123456789012:catalog",
      "arn:aws:glue:eu-west-1:123456789012:database/lake", "arn:aws:glue:eu-west-1:123456789012:table/lake/*",
      "arn:aws:glue:eu-west-1:123456789012:database/reporting", "arn:aws:glue:eu-west-1:123456789012:table/reporting/*",
    ]) && alltrue([for a in ["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "glue:GetTables"] : contains(one([for s in local.view_policy.Statement : s if s.Sid == "GlueViews"]).Action, a)])
    error_message = "The view job creates, updates and deletes tables only in the view databases (lake holds the entities views, reporting the ledger views)."
  }
  assert {
    condition     = alltrue([for s in local.view_policy.Statement : s.Sid == "GlueViews" || !anytrue([for a in flatten([s.Action]) : contains(["glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable"], a)])])
    error_message = "Base tables (incl. S3 Tables namespaces) are read-only for the view job."
  }
  assert {
    condition     = one([for s in local.view_policy.Statement : s if s.Sid == "PassDefinerRole"]).Resource == var.definer_role_arn
    error_message = "PassRole only for the definer role."
  }
  assert {
    condition     = toset(flatten([for s in local.view_policy.Statement : s.Action if s.Sid == "S3TablesReadBaseTables"])) == toset(["s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:GetTableData"])
    error_message = "The view job reads S3 Tables base tables, never writes them."
  }
}

run "both_roles_scope_resources" {
  command = apply

  assert {
    condition     = alltrue([for s in concat(local.ingest_policy.Statement, local.view_policy.Statement) : s.Resource != "*" || contains(["lakeformation:GetDataAccess", "cloudwatch:PutMetricData"], s.Action)])
    error_message = "Resource * only for actions without resource-level permissions."
  }
  assert {
    condition     = alltrue([for s in concat(local.ingest_policy.Statement, local.view_policy.Statement) : !contains(flatten([s.Action]), "*") && alltrue([for a in flatten([s.Action]) : !endswith(a, ":*")])])
    error_message = "No wildcard actions."
  }
  assert {
    condition     = toset(flatten([for s in concat(local.ingest_policy.Statement, local.view_policy.Statement) : s.Resource if s.Sid == "LakeKey"])) == toset([var.kms_key_arn])
    error_message = "KMS only on the lake key."
  }
}

run "without_s3tables_no_s3tables_catalog_or_permissions" {
  command = plan
  variables {
    s3tables_table_bucket_name = null
    s3tables_table_bucket_arn  = null
    datasets                   = [{ name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" }]
  }
  assert {
    condition     = !strcontains(local.spark_conf, "s3tables") && length(local.ingest_s3tables_statements) == 0 && length(local.view_s3tables_statements) == 0 && !contains(keys(local.view_arguments), "--s3tables_table_bucket")
    error_message = "No S3 Tables catalog, argument or permissions when the stack has no table bucket."
  }
}

run "shuffle_partitions_follow_the_ingest_workers" {
  command = plan
  variables {
    worker_type       = "G.2X"
    number_of_workers = 10
  }
  assert {
    # 2 per task slot x 9 executors x 8 vCPUs; the defaults (G.1X x 2) give 8.
    condition     = contains(split(" --conf ", local.spark_conf), "spark.sql.shuffle.partitions=144") && local.ingest_arguments["--conf"] == local.view_arguments["--conf"]
    error_message = "spark.sql.shuffle.partitions must be 2 x the ingest job's task slots, in both jobs' --conf."
  }
}

run "unknown_worker_type_is_rejected" {
  command = plan
  variables {
    worker_type = "G.3X"
  }
  expect_failures = [var.worker_type]
}

run "empty_dataset_list_is_rejected" {
  command = plan
  variables {
    datasets = []
  }
  expect_failures = [var.datasets]
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = "qa"
  }
  expect_failures = [var.environment]
}

run "bad_staging_prefix_is_rejected" {
  command = plan
  variables {
    staging_prefix = "staging"
  }
  expect_failures = [var.staging_prefix]
}

run "jobs_put_custom_metrics_into_the_stack_namespace_only" {
  command = plan

  assert {
    condition     = local.ingest_arguments["--metrics_namespace"] == "lakepipe/dev" && local.view_arguments["--metrics_namespace"] == "lakepipe/dev"
    error_message = "Both jobs get the stack's metrics namespace (lakepipe/metrics.py puts the run's metrics there)."
  }
  assert {
    condition = alltrue([for policy in [local.ingest_policy, local.view_policy] : one([for s in policy.Statement : s if s.Action == "cloudwatch:PutMetricData"]).Condition ==
    { StringEquals = { "cloudwatch:namespace" = ["Glue", "lakepipe/dev"] } }])
    error_message = "PutMetricData (no resource ARNs) only into Glue's namespace and the stack's."
  }
}
