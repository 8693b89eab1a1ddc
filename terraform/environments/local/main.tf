# Thin root around terraform/modules/stack for the local endpoint (localcloud/): the provider in
# providers.tf points every service at it; the stack is the same one dev and prod deploy. Like them, it
# sets the stack's values here; its variables are only what a caller sets per run (the endpoint's URL,
# the build outputs and the e2e tests' extra datasets).
#
# The endpoint is a fresh account of its own, so this root also plays environments/account: it writes
# the Lake Formation settings first (the caller becomes an admin; new databases and tables get no
# IAM_ALLOWED_PRINCIPALS), and the whole stack waits for them (depends_on), as a first deploy on AWS
# applies environments/account before an environment.
locals {
  region      = "us-east-1"
  environment = "local"
  tags        = { CostCenter = "local" }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

module "lakeformation_account" {
  source = "../../modules/lakeformation_account"

  admins = [data.aws_iam_session_context.current.issuer_arn]
}

# An analyst of the local account: the stack grants it what analyst_principals get (Lake Formation
# SELECT on the view databases) and attaches the analyst policy, so the end-to-end tests query as an
# analyst through the endpoint's IAM and Lake Formation checks. Local only: on AWS, analysts are the
# organisation's roles, passed in analyst_principals / analyst_role_names.
resource "aws_iam_role" "analyst" {
  name = "lakepipe-${local.environment}-analyst"
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

  region      = local.region
  environment = local.environment

  # Disposable and small: everything force-destroyed, short retention, a tiny Athena scan limit.
  force_destroy                  = true
  job_timeout_minutes            = 15
  log_retention_days             = 1
  raw_retention_days             = 31
  bytes_scanned_cutoff_per_query = 10485760 # 10 MiB

  # prod's value: runs past the endpoint's LOCALCLOUD_GLUE_WORKERS drivers wait in STARTING for one (as AWS
  # runs wait for capacity) instead of sleeping in the state machine's capacity backoff; a burst of more files
  # than this still exercises ConcurrentRunsExceeded and that backoff.
  max_concurrent_runs = 10

  analyst_principals = [aws_iam_role.analyst.arn]
  analyst_role_names = [aws_iam_role.analyst.name]

  extra_datasets_dir = var.extra_datasets_dir
  lambda_zip_path    = var.lambda_zip_path
  glue_package_path  = var.glue_package_path

  depends_on = [module.lakeformation_account]
}
