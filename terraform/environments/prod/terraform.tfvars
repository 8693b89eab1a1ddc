# prod: nothing is force-destroyed, larger workers, longer retention, alarm subscriptions.
region      = "eu-west-1"
environment = "prod"
name_prefix = "lakepipe"

force_destroy   = false
enable_s3tables = false # created automatically as soon as a dataset has target s3tables

worker_type            = "G.2X"
number_of_workers      = 10
view_worker_type       = "G.1X"
view_number_of_workers = 2
max_concurrent_runs    = 10
job_timeout_minutes    = 120

log_retention_days             = 365
raw_retention_days             = 730
bytes_scanned_cutoff_per_query = 107374182400 # 100 GiB

# Add the CI/CD deploy role here; the principal running Terraform is added automatically.
analyst_principals        = []
analyst_role_names        = []
alarm_email_subscriptions = ["data-platform-oncall@example.com"]

tags = {
  CostCenter = "data-platform"
}
