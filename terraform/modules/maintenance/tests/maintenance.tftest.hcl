mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-glue-maintenance" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakepipe-dev-maintenance" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:lakepipe" }
  }
}

variables {
  region                      = "eu-west-1"
  environment                 = "dev"
  account_id                  = "123456789012"
  glue_database_names         = ["lake", "lake_views", "finance_views"]
  job_arguments               = { "--runs_location" = "s3://lakepipe-dev-artifacts/runs/", "--conf" = "spark.sql.extensions=x" }
  script_path                 = "tests/fixtures/maintenance_job.py"
  security_configuration_name = "lakepipe-dev-jobs"
  artifacts_bucket_name       = "lakepipe-dev-artifacts"
  artifacts_bucket_arn        = "arn:aws:s3:::lakepipe-dev-artifacts"
  warehouse_bucket_arn        = "arn:aws:s3:::lakepipe-dev-warehouse"
  kms_key_arn                 = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  s3tables_table_bucket_arn   = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables"
  failure_topic_arn           = "arn:aws:sns:eu-west-1:123456789012:lakepipe-dev-pipeline-failures"
  datasets = [
    { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities" },
    { name = "entities_burst", raw_prefix = "incoming/entities_burst/", target = "glue", database = "lake", table = "entities_burst" },
    { name = "ledger", raw_prefix = "incoming/ledger/", target = "s3tables", database = "finance", table = "ledger" },
  ]
}

run "schedule_starts_the_state_machine_with_every_dataset_and_the_settings" {
  command = apply

  assert {
    condition     = aws_scheduler_schedule.maintenance.target[0].arn == aws_sfn_state_machine.maintenance.arn && aws_scheduler_schedule.maintenance.schedule_expression == "cron(0 3 * * ? *)" && aws_scheduler_schedule.maintenance.state == "ENABLED"
    error_message = "The schedule must start the maintenance state machine, daily at 03:00 by default."
  }
  assert {
    condition     = [for d in jsondecode(aws_scheduler_schedule.maintenance.target[0].input).datasets : d.dataset] == ["entities", "entities_burst", "ledger"]
    error_message = "Every dataset, of both targets, must be in the schedule's input."
  }
  assert {
    condition     = jsondecode(jsondecode(aws_scheduler_schedule.maintenance.target[0].input).datasets[0].other_tables) == ["entities_burst"] && jsondecode(jsondecode(aws_scheduler_schedule.maintenance.target[0].input).datasets[2].other_tables) == []
    error_message = "Each dataset must name the other datasets' tables of its database (their side tables are not its own)."
  }
  assert {
    condition     = jsondecode(jsondecode(aws_scheduler_schedule.maintenance.target[0].input).datasets[0].dataset_spec).table == "entities"
    error_message = "Each entry must carry its dataset's spec as JSON."
  }
  assert {
    condition = jsondecode(aws_scheduler_schedule.maintenance.target[0].input).settings == {
      target_file_size_mb       = 512, snapshot_retention_hours = 120, min_snapshots_to_keep = 1, orphan_file_retention_hours = 72,
      s3tables_table_bucket_arn = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables"
    }
    error_message = "The settings' defaults must be S3 Tables' own (512 MB, 120 h, 1 snapshot, 3 days)."
  }
  assert {
    condition     = aws_scheduler_schedule.maintenance.kms_key_arn == var.kms_key_arn
    error_message = "The schedule's input must be encrypted with the lake key."
  }
}

run "state_machine_maps_datasets_onto_the_job_and_reports_failures" {
  command = apply

  assert {
    condition     = jsondecode(local.definition).States.EachDataset.ItemProcessor.States.Maintain.Parameters.JobName == "lakepipe-dev-maintenance" && jsondecode(local.definition).States.EachDataset.MaxConcurrency == 1
    error_message = "The Map must run the maintenance job, one dataset at a time by default."
  }
  assert {
    condition     = jsondecode(local.definition).States.EachDataset.ItemProcessor.States.NotifyFailure.Parameters.TopicArn == var.failure_topic_arn && jsondecode(local.definition).States.MaintenanceFailed.Type == "Fail"
    error_message = "A failed dataset must be told to the failure topic and fail the execution."
  }
  assert {
    condition     = !strcontains(local.definition, join("", ["$", "{"]))
    error_message = "Every template variable must be rendered."
  }
  assert {
    condition     = aws_glue_job.maintenance.glue_version == "5.0" && aws_glue_job.maintenance.default_arguments == var.job_arguments && aws_glue_job.maintenance.execution_property[0].max_concurrent_runs == 1
    error_message = "The job runs Glue 5.0 with the arguments rendered from job_arguments.json."
  }
}

run "roles_are_least_privilege" {
  command = apply

  assert {
    condition     = alltrue([for s in local.job_policy.Statement : !contains(flatten([s.Action]), "*") && !contains(flatten([s.Action]), "glue:*") && !contains(flatten([s.Action]), "s3:*")])
    error_message = "No wildcard actions in the job policy."
  }
  assert {
    condition     = alltrue([for s in local.job_policy.Statement : !anytrue([for a in flatten([s.Action]) : contains(["glue:CreateTable", "glue:DeleteTable", "glue:DeleteDatabase", "iam:PassRole"], a)])])
    error_message = "The maintenance job creates and drops nothing in the catalog and passes no role."
  }
  assert {
    condition     = one([for s in local.job_policy.Statement : s.Resource if s.Sid == "GlueTables"]) == ["arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/lake", "arn:aws:glue:eu-west-1:123456789012:table/lake/*"]
    error_message = "Glue access is limited to the Glue-target databases."
  }
  assert {
    condition     = one([for s in local.job_policy.Statement : s.Resource if s.Sid == "S3TablesMaintenanceConfiguration"]) == ["arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables", "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables/table/*"]
    error_message = "S3 Tables access is the table bucket's tables only."
  }
  assert {
    condition     = jsonencode(keys(aws_lakeformation_permissions.tables)) == jsonencode(["lake"]) && jsonencode(sort(aws_lakeformation_permissions.tables["lake"].permissions)) == jsonencode(["ALTER", "DELETE", "DESCRIBE", "INSERT", "SELECT"]) && jsonencode(aws_lakeformation_permissions.database["lake"].permissions) == jsonencode(["DESCRIBE"])
    error_message = "Lake Formation: DESCRIBE on the table databases, read/write/alter on their tables, nothing on view databases."
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Action == "states:StartExecution" && jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Resource == aws_sfn_state_machine.maintenance.arn
    error_message = "The scheduler may only start the maintenance state machine."
  }
}

run "without_s3tables_no_s3tables_permissions" {
  command = apply

  variables {
    s3tables_table_bucket_arn = null
    datasets                  = [{ name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities" }]
  }

  assert {
    condition     = length([for s in local.job_policy.Statement : s if s.Sid == "S3TablesMaintenanceConfiguration"]) == 0 && local.settings.s3tables_table_bucket_arn == ""
    error_message = "No S3 Tables permissions without a table bucket."
  }
}

run "target_file_size_outside_s3_tables_range_is_refused" {
  command = plan

  variables {
    target_file_size_mb = 32
  }

  expect_failures = [var.target_file_size_mb]
}

run "orphan_retention_below_a_day_is_refused" {
  command = plan

  variables {
    orphan_file_retention_days = 0
  }

  expect_failures = [var.orphan_file_retention_days]
}
