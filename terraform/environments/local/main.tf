# Thin root around terraform/modules/stack for the local endpoint (localcloud/): the provider in
# providers.tf points every service at it; the stack is the same one dev and prod deploy.
#
# The endpoint is a fresh account of its own, so this root also plays environments/account: it writes
# the Lake Formation settings first (the caller becomes an admin; new databases and tables get no
# IAM_ALLOWED_PRINCIPALS), and the whole stack waits for them (depends_on), as a first deploy on AWS
# applies environments/account before an environment.
data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

module "lakeformation_account" {
  source = "../../modules/lakeformation_account"

  admins = distinct(concat(var.lakeformation_admins, [data.aws_iam_session_context.current.issuer_arn]))
}

# An analyst of the local account: the stack grants it what analyst_principals get (Lake Formation
# SELECT on the view databases) and attaches the analyst policy, so the end-to-end tests query as an
# analyst through the endpoint's IAM and Lake Formation checks. Local only: on AWS, analysts are the
# organisation's roles, passed in analyst_principals / analyst_role_names.
resource "aws_iam_role" "analyst" {
  name = "${var.name_prefix}-${var.environment}-analyst"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

module "stack" {
  source = "../../modules/stack"

  region                         = var.region
  environment                    = var.environment
  name_prefix                    = var.name_prefix
  tags                           = var.tags
  account_id                     = var.account_id
  analyst_principals             = concat(var.analyst_principals, [aws_iam_role.analyst.arn])
  analyst_role_names             = concat(var.analyst_role_names, [aws_iam_role.analyst.name])
  alarm_email_subscriptions      = var.alarm_email_subscriptions
  force_destroy                  = var.force_destroy
  enable_s3tables                = var.enable_s3tables
  extra_datasets_dir             = var.extra_datasets_dir
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

  depends_on = [module.lakeformation_account]
}
