# environments/prod: the stack with prod's settings, written here as values (the way terraform-aws-modules'
# examples/ call their module): this root declares no variables and passes nothing through, so a new
# stack input is declared once, in modules/stack, and set here only where prod differs from its default.
# Nothing is force-destroyed (the module's default), larger ingest workers, longer retention, alarm
# e-mail subscription. Offline plans set the account ID and skip the API checks with an override file
# (tools/terraform/plan-offline.sh); nothing here changes for them.
locals {
  region      = "eu-west-1"
  environment = "prod"
  tags        = { CostCenter = "data-platform" }
}

module "stack" {
  source = "../../modules/stack"

  region      = local.region
  environment = local.environment

  # enable_s3tables stays false: the table bucket is created as soon as a dataset has target s3tables.

  worker_type         = "G.2X"
  number_of_workers   = 10
  max_concurrent_runs = 10
  job_timeout_minutes = 120

  log_retention_days             = 365
  raw_retention_days             = 730
  bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB

  # Analysts: add their role ARNs to analyst_principals and role names to analyst_role_names.
  alarm_email_subscriptions = ["data-platform-oncall@example.com"]
}
