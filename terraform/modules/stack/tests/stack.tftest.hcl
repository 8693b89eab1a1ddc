# The composition: every module wired to the others, with the repository's real dataset specs and
# state machine template (mock provider, no AWS).
mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "210987654321", arn = "arn:aws:sts::210987654321:assumed-role/deployer/session" }
  }
  mock_data "aws_iam_session_context" {
    defaults = { issuer_arn = "arn:aws:iam::210987654321:role/deployer" }
  }
  # The account's Lake Formation settings as environments/account leaves them.
  mock_data "aws_lakeformation_data_lake_settings" {
    defaults = {
      admins                              = ["arn:aws:iam::210987654321:role/deployer"]
      create_database_default_permissions = []
      create_table_default_permissions    = []
    }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/lakepipe-dev-analyst" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::lakepipe-dev-bucket" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-role" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-dev-fn" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:lakepipe-dev-pipeline-failures" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:lakepipe-dev-trigger-dlq" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:lakepipe" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakepipe-dev-pipeline" }
  }
  mock_resource "aws_s3tables_table_bucket" {
    defaults = { arn = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables" }
  }
}

variables {
  region            = "eu-west-1"
  environment       = "dev"
  account_id        = "123456789012"
  force_destroy     = true
  lambda_zip_path   = "../pipeline/tests/fixtures/lakepipe_lambda.zip"
  glue_package_path = "../glue_jobs/tests/fixtures/lakepipe.zip"
  glue_scripts_dir  = "../glue_jobs/tests/fixtures"
}

run "composes_every_module_from_the_repository_specs" {
  command = apply

  assert {
    condition     = toset(output.datasets) == toset(["entities", "regulatory"])
    error_message = "The stack must deploy the repository's dataset specs."
  }
  assert {
    condition     = output.dataset_raw_prefixes["entities"] == "incoming/entities/"
    error_message = "Raw prefixes come from the specs."
  }
  assert {
    condition     = output.table_bucket_arn == null && length(module.s3tables) == 0
    error_message = "No table bucket when no dataset targets s3tables and enable_s3tables is false."
  }
  assert {
    condition     = output.glue_job_names == { ingest = "lakepipe-dev-ingest", views = "lakepipe-dev-views" }
    error_message = "Glue jobs are named <prefix>-<environment>-{ingest,views}."
  }
  assert {
    condition     = jsondecode(module.pipeline.definition).States.Ingest.Parameters.JobName == output.glue_job_names.ingest
    error_message = "The state machine must run the stack's ingest job."
  }
  assert {
    condition     = length(data.aws_caller_identity.current) == 0 && local.account_id == "123456789012"
    error_message = "An explicit account_id skips the caller identity lookup."
  }
  assert {
    condition     = startswith(output.runs_location, "s3://") && endswith(output.runs_location, "/runs/")
    error_message = "Reports go under runs/ of the artifacts bucket."
  }
  assert {
    condition     = module.glue_jobs.staging_location == "s3://${module.storage.raw_bucket_name}/${module.storage.staging_prefix}" && module.storage.staging_prefix == "staging/"
    error_message = "The ingest job stages under the raw bucket's staging prefix, the one the storage lifecycle rule expires."
  }
  assert {
    condition     = jsondecode(module.pipeline.definition).States.Ingest.Parameters.Arguments["--source_etag.$"] == "$.source.etag"
    error_message = "The state machine must pass the announced ETag to the ingest job."
  }
}

run "looks_up_account_and_checks_the_deployer_is_a_lake_formation_admin" {
  command = plan

  variables {
    account_id      = null
    enable_s3tables = true
  }

  assert {
    condition     = local.account_id == "210987654321"
    error_message = "The account comes from aws_caller_identity when account_id is null."
  }
  assert {
    condition     = local.deployer_arn == "arn:aws:iam::210987654321:role/deployer" && length(module.catalog.lf_settings_problems) == 0
    error_message = "The principal running Terraform is checked against the account's Lake Formation admins (it is one here)."
  }
  assert {
    condition     = length(module.s3tables) == 1
    error_message = "enable_s3tables creates the table bucket."
  }
}

# Issue 9 item 4: with the bundled datasets, analysts can query the views (their own view database).
run "analysts_can_query_the_bundled_datasets_views" {
  command = plan

  variables {
    analyst_principals = ["arn:aws:iam::123456789012:role/analyst"]
    analyst_role_names = ["analyst"]
  }

  assert {
    condition     = module.catalog.view_databases == tolist(["lake_views"]) && contains(module.catalog.database_names, "lake")
    error_message = "The bundled datasets keep their tables in lake and their views in lake_views."
  }
  assert {
    condition     = toset(module.catalog.grants["tables:analyst0/lake_views"].permissions) == toset(["SELECT", "DESCRIBE"]) && !contains(keys(module.catalog.grants), "tables:analyst0/lake")
    error_message = "Analysts SELECT the bundled views and nothing of the base tables."
  }
  assert {
    condition     = contains(keys(module.catalog.grants), "database:analyst0/default")
    error_message = "Analysts get DESCRIBE on default (Athena requires it for Lake Formation users)."
  }
}

run "monitoring_watches_the_stack_and_notifies_the_failure_topic" {
  command = apply

  assert {
    condition     = output.monitoring.metrics_namespace == "lakepipe/dev" && module.monitoring.dashboard_name == "lakepipe-dev-pipeline"
    error_message = "One dashboard per environment; the jobs' metrics namespace defaults to <name_prefix>/<environment>."
  }
  assert {
    condition     = output.monitoring.alarm_names.lambda_errors == { trigger = "lakepipe-dev-trigger-lambda-errors", recorder = "lakepipe-dev-recorder-lambda-errors" } && keys(output.monitoring.alarm_names.glue_job_failed) == ["ingest", "maintenance", "views"]
    error_message = "Errors of both Lambdas and failures of the three Glue jobs (ingest, views, maintenance) are watched."
  }
  assert {
    condition     = keys(output.monitoring.alarm_names.reject_ratio) == ["entities", "regulatory"] && length(output.monitoring.alarm_names.no_successful_run) == 0
    error_message = "Every dataset gets a reject ratio alarm; none declares a cadence, so no freshness alarm."
  }
}

run "maintenance_covers_every_dataset_with_one_set_of_settings" {
  command = apply

  variables {
    enable_s3tables                        = true
    maintenance_orphan_file_retention_days = 5
    maintenance_target_file_size_mb        = 256
  }

  assert {
    condition     = [for d in output.maintenance_schedule_input.datasets : d.dataset] == ["entities", "regulatory"] && output.maintenance_job_name == "lakepipe-dev-maintenance"
    error_message = "The maintenance schedule must cover every dataset with the maintenance job."
  }
  assert {
    condition     = output.maintenance_schedule_input.settings.orphan_file_retention_hours == 120 && output.maintenance_schedule_input.settings.target_file_size_mb == 256 && output.maintenance_schedule_input.settings.s3tables_table_bucket_arn == output.table_bucket_arn
    error_message = "The maintenance job gets the stack's settings and the table bucket."
  }
  assert {
    condition     = module.s3tables[0].maintenance_configuration.iceberg_unreferenced_file_removal.settings.unreferenced_days == 5
    error_message = "S3 Tables' unreferenced-file removal must follow the same orphan-file retention."
  }
  assert {
    condition     = jsondecode(output.maintenance_schedule_input.datasets[0].dataset_spec).table == "entities"
    error_message = "Each dataset's spec travels with it."
  }
}

# Issue 13 part 3: a group member's Athena query on the base table reads its Glue metadata under the
# member's IAM; the analyst policy names exactly the tables of groups with members.
run "analyst_group_members_may_read_their_base_tables_glue_metadata" {
  command = plan

  variables {
    extra_datasets_dir = "../datasets/tests/fixtures/analyst_groups"
    analyst_groups     = { acme_only = ["arn:aws:iam::123456789012:role/acme-analyst"] }
    analyst_role_names = ["acme-analyst"]
  }

  assert {
    condition = toset(one([for s in module.athena.analyst_policy.Statement : s if s.Sid == "GlueReadFilteredTables"]).Resource) == toset([
      "arn:aws:glue:eu-west-1:123456789012:database/lake", "arn:aws:glue:eu-west-1:123456789012:table/lake/acme",
    ])
    error_message = "The base table of the group with members (lake.acme) and its database, nothing else."
  }
}
