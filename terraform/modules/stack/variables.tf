variable "environment" {
  description = "Environment name (dev, staging, prod, local)."
  type        = string
}

variable "region" {
  description = "AWS region of the provider (the root sets both to the same value); builds ARNs and bucket names."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name."
  type        = string
  default     = "lakepipe"
}

variable "account_id" {
  description = "AWS account ID. Null (default) looks it up with aws_caller_identity; set it only for offline plans."
  type        = string
  default     = null
}

variable "check_data_lake_settings" {
  description = "Read the account's Lake Formation settings (written by environments/account) and fail the plan if they are not ready for the stack. Off only for offline plans."
  type        = bool
  default     = true
}

variable "analyst_principals" {
  description = "IAM principals with read-only grants on the view databases."
  type        = list(string)
  default     = []
}

variable "analyst_groups" {
  description = "Members of the datasets' analyst_groups: group name => IAM role or user ARNs. Each member reads its group's rows and columns of the base table (a Lake Formation data cells filter) and its views; apply after the dataset's first load (README, Fine-grained access)."
  type        = map(list(string))
  default     = {}
}

variable "analyst_role_names" {
  description = "IAM role names the analyst policy (Athena workgroup, Glue read of the views, GetDataAccess, results, key) is attached to."
  type        = list(string)
  default     = []
}

variable "alarm_email_subscriptions" {
  description = "E-mail addresses subscribed to the pipeline failure topic."
  type        = list(string)
  default     = []
}

variable "force_destroy" {
  description = "Allow destroying non-empty buckets and workgroups."
  type        = bool
  default     = false
}

variable "extra_datasets_dir" {
  description = "Optional folder of extra dataset specs, deployed next to datasets/ (the e2e tests deploy test-only datasets with it). Null means none."
  type        = string
  default     = null
}

variable "enable_s3tables" {
  description = "Create the S3 table bucket even when no dataset has target s3tables (it is created automatically when one does)."
  type        = bool
  default     = false
}

variable "worker_type" {
  description = "Glue worker type of the ingest job."
  type        = string
  default     = "G.1X"
}

variable "number_of_workers" {
  description = "Glue workers of the ingest job."
  type        = number
  default     = 2
}

variable "view_worker_type" {
  description = "Glue worker type of the view job."
  type        = string
  default     = "G.1X"
}

variable "view_number_of_workers" {
  description = "Glue workers of the view job."
  type        = number
  default     = 2
}

variable "max_concurrent_runs" {
  description = "Concurrent runs per Glue job (concurrent file deliveries)."
  type        = number
  default     = 4
}

variable "job_timeout_minutes" {
  description = "Glue job timeout in minutes."
  type        = number
  default     = 60
}

variable "log_retention_days" {
  description = "Retention of every log group of the stack."
  type        = number
  default     = 30
}

variable "raw_retention_days" {
  description = "Days landed raw CSV files are kept."
  type        = number
  default     = 365
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Athena per-query bytes-scanned limit."
  type        = number
  default     = 10737418240
}

variable "lambda_zip_path" {
  description = "Lambda zip (make package). Null means <repo>/build/lambda/lakepipe_lambda.zip."
  type        = string
  default     = null
}

variable "glue_package_path" {
  description = "Glue package zip (make package). Null means <repo>/build/glue/lakepipe.zip."
  type        = string
  default     = null
}

variable "glue_scripts_dir" {
  description = "Folder of ingest_job.py, view_job.py and maintenance_job.py. Null means <repo>/glue_jobs."
  type        = string
  default     = null
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' custom metrics (rows read, loaded, rejected per dataset). Null means <name_prefix>/<environment>."
  type        = string
  default     = null
}

variable "maintenance_target_file_size_mb" {
  description = "Table maintenance: compaction target file size in MiB (64-512), Glue-target tables and S3 Tables alike."
  type        = number
  default     = 512
}

variable "maintenance_snapshot_retention_hours" {
  description = "Table maintenance: snapshots older than this are expired (how far back time travel reaches)."
  type        = number
  default     = 120
}

variable "maintenance_min_snapshots_to_keep" {
  description = "Table maintenance: snapshots always kept, however old."
  type        = number
  default     = 1
}

variable "maintenance_orphan_file_retention_days" {
  description = "Table maintenance: unreferenced files are removed once older than this (Glue-target orphan files, S3 Tables unreferenced files); must exceed the longest job run."
  type        = number
  default     = 3
}

variable "maintenance_schedule_expression" {
  description = "Table maintenance: EventBridge Scheduler expression (UTC)."
  type        = string
  default     = "cron(0 3 * * ? *)"
}

variable "maintenance_schedule_enabled" {
  description = "Table maintenance: whether the schedule starts runs (the state machine can always be started by hand)."
  type        = bool
  default     = true
}

variable "maintenance_timeout_minutes" {
  description = "Table maintenance: Glue job run timeout in minutes (per dataset)."
  type        = number
  default     = 120
}
