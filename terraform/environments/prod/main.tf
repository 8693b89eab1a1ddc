# Thin root: the whole stack is terraform/modules/stack; everything environment-specific is in
# terraform.tfvars (environments/dev and environments/prod share this file; keep them identical).
module "stack" {
  source = "../../modules/stack"

  region                         = var.region
  environment                    = var.environment
  name_prefix                    = var.name_prefix
  tags                           = var.tags
  account_id                     = var.account_id
  check_data_lake_settings       = !var.skip_aws_api_checks
  analyst_principals             = var.analyst_principals
  analyst_role_names             = var.analyst_role_names
  alarm_email_subscriptions      = var.alarm_email_subscriptions
  force_destroy                  = var.force_destroy
  enable_s3tables                = var.enable_s3tables
  worker_type                    = var.worker_type
  number_of_workers              = var.number_of_workers
  view_worker_type               = var.view_worker_type
  view_number_of_workers         = var.view_number_of_workers
  max_concurrent_runs            = var.max_concurrent_runs
  job_timeout_minutes            = var.job_timeout_minutes
  log_retention_days             = var.log_retention_days
  raw_retention_days             = var.raw_retention_days
  bytes_scanned_cutoff_per_query = var.bytes_scanned_cutoff_per_query
  lambda_zip_path                = var.lambda_zip_path
  glue_package_path              = var.glue_package_path
  glue_scripts_dir               = var.glue_scripts_dir
}
