# environments/dev: the stack with dev's settings, written here as values (the way terraform-aws-modules'
# examples/ call their module): this root declares no variables and passes nothing through, so a new
# stack input is declared once, in modules/stack, and set here only where dev differs from its default.
# Cheap and disposable: everything force-destroyed, short retention, every module exercised (S3 Tables
# included). Offline plans set the account ID and skip the API checks with an override file
# (tools/terraform/plan-offline.sh); nothing here changes for them.
locals {
  region      = "eu-west-1"
  environment = "dev"
  tags        = { CostCenter = "data-platform-dev" }
}

module "stack" {
  source = "../../modules/stack"

  region      = local.region
  environment = local.environment

  force_destroy   = true
  enable_s3tables = true

  # Glue: worker_type G.1X x 2 (ingest and views) and max_concurrent_runs 4 are the module's defaults.
  job_timeout_minutes = 30

  log_retention_days             = 14
  raw_retention_days             = 90
  bytes_scanned_cutoff_per_query = 1073741824 # 1 GiB
}
