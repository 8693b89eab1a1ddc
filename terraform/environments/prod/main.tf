# environments/prod: the stack with prod's settings, written here as values (the way terraform-aws-modules'
# examples/ call their module): this root declares no variables and passes nothing through, so a new
# stack input is declared once, in modules/stack, and set here only where prod differs from its default.
# Nothing is force-destroyed (the module's default), more concurrent runs, longer retention, alarm
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

  # Glue: worker_type G.1X x 2 (ingest and views) is the module's default, chosen from the measured throughput
  # (README "Glue settings"): the smallest size whose run of a 10M-line file stays near the 1-minute minimum;
  # 10 G.2X billed 10x the DPU-hours for the same files. Raise it for files of tens of millions of lines.
  max_concurrent_runs = 10
  job_timeout_minutes = 120

  log_retention_days             = 365
  raw_retention_days             = 730
  bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB

  # Analysts: add their role ARNs to analyst_principals and role names to analyst_role_names.
  alarm_email_subscriptions = ["data-platform-oncall@example.com"]
}
