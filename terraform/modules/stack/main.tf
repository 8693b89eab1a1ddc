# The whole lakepipe stack: every module composed once. environments/{dev,prod,local} are thin
# roots around it (provider, backend, tfvars); nothing environment-specific lives here.
locals {
  repo_root = "${path.module}/../../.."
}

data "aws_caller_identity" "current" {
  count = var.account_id == null ? 1 : 0
}

data "aws_iam_session_context" "current" {
  count = var.account_id == null ? 1 : 0
  arn   = data.aws_caller_identity.current[0].arn
}

locals {
  account_id = var.account_id != null ? var.account_id : data.aws_caller_identity.current[0].account_id
  # The IAM role or user behind the caller's session: it must be a Lake Formation admin (modules/catalog checks).
  deployer_arn = one(data.aws_iam_session_context.current[*].issuer_arn)

  lambda_zip_path   = coalesce(var.lambda_zip_path, "${local.repo_root}/build/lambda/lakepipe_lambda.zip")
  glue_package_path = coalesce(var.glue_package_path, "${local.repo_root}/build/glue/lakepipe.zip")
  glue_scripts_dir  = coalesce(var.glue_scripts_dir, "${local.repo_root}/glue_jobs")
  # One namespace per environment: dev and prod in one account keep their metrics apart.
  metrics_namespace = coalesce(var.metrics_namespace, "${var.name_prefix}/${var.environment}")
}

# The same spec files the jobs and Lambdas read, with the schema defaults applied.
module "datasets" {
  source             = "../datasets"
  datasets_dir       = "${local.repo_root}/datasets"
  extra_datasets_dir = var.extra_datasets_dir
}

locals {
  datasets        = module.datasets.datasets
  s3t_namespaces  = sort(distinct([for d in local.datasets : d.database if d.target == "s3tables"]))
  s3tables_in_use = var.enable_s3tables || length(local.s3t_namespaces) > 0
}

module "storage" {
  source = "../storage"

  region             = var.region
  name_prefix        = var.name_prefix
  environment        = var.environment
  account_id         = local.account_id
  datasets           = local.datasets
  force_destroy      = var.force_destroy
  raw_retention_days = var.raw_retention_days
}

module "s3tables" {
  source = "../s3tables"
  count  = local.s3tables_in_use ? 1 : 0

  name_prefix = var.name_prefix
  environment = var.environment
  account_id  = local.account_id
  namespaces  = local.s3t_namespaces
  kms_key_arn = module.storage.kms_key_arn
  # Unreferenced-file removal (bucket level) from the same setting as the Glue-target tables' orphan files.
  unreferenced_days = var.maintenance_orphan_file_retention_days
}

module "catalog" {
  source = "../catalog"

  region                    = var.region
  name_prefix               = var.name_prefix
  environment               = var.environment
  account_id                = local.account_id
  datasets                  = local.datasets
  warehouse_bucket_name     = module.storage.warehouse_bucket_name
  warehouse_bucket_arn      = module.storage.warehouse_bucket_arn
  kms_key_arn               = module.storage.kms_key_arn
  ingest_role_arn           = module.glue_jobs.ingest_role_arn
  view_role_arn             = module.glue_jobs.view_role_arn
  check_data_lake_settings  = var.check_data_lake_settings
  deployer_arn              = local.deployer_arn
  analyst_principals        = var.analyst_principals
  analyst_groups            = var.analyst_groups
  s3tables_catalog_id       = local.s3tables_in_use ? module.s3tables[0].glue_catalog_id : null
  s3tables_table_bucket_arn = local.s3tables_in_use ? module.s3tables[0].table_bucket_arn : null
}

module "glue_jobs" {
  source = "../glue_jobs"

  region                     = var.region
  name_prefix                = var.name_prefix
  environment                = var.environment
  account_id                 = local.account_id
  datasets                   = local.datasets
  raw_bucket_name            = module.storage.raw_bucket_name
  raw_bucket_arn             = module.storage.raw_bucket_arn
  rejects_prefix             = module.storage.rejects_prefix
  staging_prefix             = module.storage.staging_prefix
  warehouse_bucket_name      = module.storage.warehouse_bucket_name
  warehouse_bucket_arn       = module.storage.warehouse_bucket_arn
  artifacts_bucket_name      = module.storage.artifacts_bucket_name
  artifacts_bucket_arn       = module.storage.artifacts_bucket_arn
  kms_key_arn                = module.storage.kms_key_arn
  definer_role_arn           = module.catalog.definer_role_arn
  s3tables_table_bucket_name = local.s3tables_in_use ? module.s3tables[0].table_bucket_name : null
  s3tables_table_bucket_arn  = local.s3tables_in_use ? module.s3tables[0].table_bucket_arn : null
  ingest_script_path         = "${local.glue_scripts_dir}/ingest_job.py"
  view_script_path           = "${local.glue_scripts_dir}/view_job.py"
  package_zip_path           = local.glue_package_path
  worker_type                = var.worker_type
  number_of_workers          = var.number_of_workers
  view_worker_type           = var.view_worker_type
  view_number_of_workers     = var.view_number_of_workers
  max_concurrent_runs        = var.max_concurrent_runs
  timeout_minutes            = var.job_timeout_minutes
  log_retention_days         = var.log_retention_days
  metrics_namespace          = local.metrics_namespace
}

module "pipeline" {
  source = "../pipeline"

  region                    = var.region
  name_prefix               = var.name_prefix
  environment               = var.environment
  account_id                = local.account_id
  definition_template_path  = "${local.repo_root}/state_machines/pipeline.asl.json"
  ingest_job_name           = module.glue_jobs.ingest_job_name
  view_job_name             = module.glue_jobs.view_job_name
  lambda_zip_path           = local.lambda_zip_path
  artifacts_bucket_name     = module.storage.artifacts_bucket_name
  artifacts_bucket_arn      = module.storage.artifacts_bucket_arn
  kms_key_arn               = module.storage.kms_key_arn
  alarm_email_subscriptions = var.alarm_email_subscriptions
  log_retention_days        = var.log_retention_days
}

# Table maintenance (README "Table maintenance"): a schedule runs the maintenance job over every dataset.
module "maintenance" {
  source = "../maintenance"

  region                      = var.region
  name_prefix                 = var.name_prefix
  environment                 = var.environment
  account_id                  = local.account_id
  datasets                    = local.datasets
  glue_database_names         = module.catalog.database_names
  job_arguments               = module.glue_jobs.maintenance_job_arguments
  script_path                 = "${local.glue_scripts_dir}/maintenance_job.py"
  security_configuration_name = module.glue_jobs.security_configuration_name
  artifacts_bucket_name       = module.storage.artifacts_bucket_name
  artifacts_bucket_arn        = module.storage.artifacts_bucket_arn
  warehouse_bucket_arn        = module.storage.warehouse_bucket_arn
  kms_key_arn                 = module.storage.kms_key_arn
  s3tables_table_bucket_arn   = local.s3tables_in_use ? module.s3tables[0].table_bucket_arn : null
  failure_topic_arn           = module.pipeline.failure_topic_arn
  target_file_size_mb         = var.maintenance_target_file_size_mb
  snapshot_retention_hours    = var.maintenance_snapshot_retention_hours
  min_snapshots_to_keep       = var.maintenance_min_snapshots_to_keep
  orphan_file_retention_days  = var.maintenance_orphan_file_retention_days
  schedule_expression         = var.maintenance_schedule_expression
  schedule_enabled            = var.maintenance_schedule_enabled
  timeout_minutes             = var.maintenance_timeout_minutes
  log_retention_days          = var.log_retention_days
}

module "trigger" {
  source = "../trigger"

  region             = var.region
  name_prefix        = var.name_prefix
  environment        = var.environment
  account_id         = local.account_id
  datasets           = local.datasets
  raw_bucket_name    = module.storage.raw_bucket_name
  raw_bucket_arn     = module.storage.raw_bucket_arn
  state_machine_arn  = module.pipeline.state_machine_arn
  lambda_zip_path    = local.lambda_zip_path
  kms_key_arn        = module.storage.kms_key_arn
  log_retention_days = var.log_retention_days
  alarm_topic_arn    = module.pipeline.failure_topic_arn

  # the dataset specs object the Lambda reads (DATASETS_URI) lives with the jobs' scripts
  artifacts_bucket_name = module.storage.artifacts_bucket_name
  artifacts_bucket_arn  = module.storage.artifacts_bucket_arn
}

module "athena" {
  source = "../athena"

  region             = var.region
  view_databases     = module.catalog.view_databases
  analyst_role_names = var.analyst_role_names
  # Base tables that analyst groups with members read through their data cells filters.
  filtered_tables = distinct([for g in values(module.catalog.analyst_group_access) : { database = g.database, table = g.table } if length(g.members) > 0])

  name_prefix                    = var.name_prefix
  environment                    = var.environment
  account_id                     = local.account_id
  results_bucket_name            = module.storage.athena_results_bucket_name
  kms_key_arn                    = module.storage.kms_key_arn
  bytes_scanned_cutoff_per_query = var.bytes_scanned_cutoff_per_query
  force_destroy                  = var.force_destroy
}

# The environment's dashboard and alarms (every alarm notifies the failure topic).
module "monitoring" {
  source = "../monitoring"

  name_prefix            = var.name_prefix
  environment            = var.environment
  region                 = var.region
  metrics_namespace      = local.metrics_namespace
  datasets               = local.datasets
  state_machine_arn      = module.pipeline.state_machine_arn
  glue_job_names         = { ingest = module.glue_jobs.ingest_job_name, views = module.glue_jobs.view_job_name, maintenance = module.maintenance.job_name }
  lambda_function_names  = { trigger = module.trigger.function_name, recorder = module.pipeline.run_recorder_function_name }
  dead_letter_queue_name = element(split(":", module.trigger.dead_letter_queue_arn), 5)
  alarm_topic_arn        = module.pipeline.failure_topic_arn
}
