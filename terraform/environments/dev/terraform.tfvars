# dev: cheap, disposable, exercises every module (S3 Tables included).
region      = "eu-west-1"
environment = "dev"
name_prefix = "lakepipe"

force_destroy   = true
enable_s3tables = true

worker_type            = "G.1X"
number_of_workers      = 2
view_worker_type       = "G.1X"
view_number_of_workers = 2
max_concurrent_runs    = 4
job_timeout_minutes    = 30

log_retention_days             = 14
raw_retention_days             = 90
bytes_scanned_cutoff_per_query = 1073741824 # 1 GiB

analyst_principals        = []
analyst_role_names        = []
alarm_email_subscriptions = []

tags = {
  CostCenter = "data-platform-dev"
}
