# local: the endpoint of localcloud/ (make up). Disposable, small, everything force-destroyed.
region      = "us-east-1"
environment = "local"
name_prefix = "lakepipe"

force_destroy   = true
enable_s3tables = false

worker_type            = "G.1X"
number_of_workers      = 2
view_worker_type       = "G.1X"
view_number_of_workers = 2
max_concurrent_runs    = 2
job_timeout_minutes    = 15

log_retention_days             = 1
raw_retention_days             = 31
bytes_scanned_cutoff_per_query = 10485760 # 10 MiB

lakeformation_admins      = []
analyst_principals        = []
analyst_role_names        = []
alarm_email_subscriptions = []

tags = {
  CostCenter = "local"
}
