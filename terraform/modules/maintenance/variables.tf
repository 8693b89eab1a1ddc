variable "name_prefix" {
  description = "Prefix of every resource name (lowercase letters, digits, hyphens)."
  type        = string
  default     = "lakepipe"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name_prefix))
    error_message = "name_prefix must be 2-20 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name: dev, staging, prod or local."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod", "local"], var.environment)
    error_message = "environment must be one of dev, staging, prod, local."
  }
}

variable "account_id" {
  description = "AWS account ID the stack lives in (the root looks it up with aws_caller_identity)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be 12 digits."
  }
}

variable "region" {
  description = "AWS region of the provider the module runs with (the root passes its region variable; no aws_region data source: its name attribute is deprecated in provider 6.x and 5.100 lacks region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}


variable "datasets" {
  description = "Dataset specs with the schema defaults applied (output datasets of modules/datasets): one maintenance run each; only these fields are used."
  type = list(object({
    name       = string
    raw_prefix = string
    target     = string
    database   = string
    table      = string
  }))

  validation {
    condition     = length(var.datasets) > 0
    error_message = "At least one dataset spec is required."
  }
}

variable "glue_database_names" {
  description = "Glue databases of the stack (output database_names of modules/catalog): the Lake Formation grants wait for them."
  type        = list(string)
}

variable "job_arguments" {
  description = "The maintenance job's default arguments (output maintenance_job_arguments of modules/glue_jobs, rendered from job_arguments.json)."
  type        = map(string)

  validation {
    condition     = contains(keys(var.job_arguments), "--runs_location") && contains(keys(var.job_arguments), "--conf")
    error_message = "job_arguments must hold --runs_location and --conf (modules/glue_jobs renders them)."
  }
}

variable "script_path" {
  description = "Local path of glue_jobs/maintenance_job.py."
  type        = string
}

variable "security_configuration_name" {
  description = "Glue security configuration of the jobs (modules/glue_jobs)."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Artifacts bucket name (script, package, temp dir, run reports)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN."
  type        = string
}

variable "runs_prefix" {
  description = "Prefix of the run records and job reports in the artifacts bucket (the maintenance report goes to <runs>/<dataset>/<execution>/maintenance.json)."
  type        = string
  default     = "runs/"
}

variable "warehouse_bucket_arn" {
  description = "Warehouse bucket ARN (the Glue-target tables' files)."
  type        = string
}

variable "warehouse_prefix" {
  description = "Prefix of the Iceberg warehouse in the warehouse bucket."
  type        = string
  default     = "iceberg/"
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN (objects, logs, the state machine, the schedule's input)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "s3tables_table_bucket_arn" {
  description = "S3 table bucket ARN (modules/s3tables); null when no dataset has target s3tables."
  type        = string
  default     = null
}

variable "failure_topic_arn" {
  description = "SNS topic told about a dataset whose maintenance failed (modules/pipeline)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:", var.failure_topic_arn))
    error_message = "failure_topic_arn must be an SNS topic ARN."
  }
}

variable "target_file_size_mb" {
  description = "Compaction target file size in MiB: Glue-target tables (rewrite_data_files) and S3 Tables (its 64-512 range)."
  type        = number
  default     = 512

  validation {
    condition     = var.target_file_size_mb >= 64 && var.target_file_size_mb <= 512
    error_message = "target_file_size_mb must be between 64 and 512 (S3 Tables' range)."
  }
}

variable "snapshot_retention_hours" {
  description = "Snapshots older than this are expired (time travel reaches back this far); S3 Tables maxSnapshotAgeHours."
  type        = number
  default     = 120

  validation {
    condition     = var.snapshot_retention_hours >= 1 && floor(var.snapshot_retention_hours) == var.snapshot_retention_hours
    error_message = "snapshot_retention_hours must be a whole number of hours, at least 1."
  }
}

variable "min_snapshots_to_keep" {
  description = "Snapshots always kept, however old; S3 Tables minSnapshotsToKeep."
  type        = number
  default     = 1

  validation {
    condition     = var.min_snapshots_to_keep >= 1 && floor(var.min_snapshots_to_keep) == var.min_snapshots_to_keep
    error_message = "min_snapshots_to_keep must be a whole number, at least 1."
  }
}

variable "orphan_file_retention_days" {
  description = "Files no snapshot references are removed once older than this (must exceed the longest job run: a running write's files look orphaned); S3 Tables unreferencedDays."
  type        = number
  default     = 3

  validation {
    condition     = var.orphan_file_retention_days >= 1 && floor(var.orphan_file_retention_days) == var.orphan_file_retention_days
    error_message = "orphan_file_retention_days must be a whole number of days, at least 1."
  }
}

variable "schedule_expression" {
  description = "EventBridge Scheduler expression of the maintenance runs (cron(...) or rate(...))."
  type        = string
  default     = "cron(0 3 * * ? *)"

  validation {
    condition     = can(regex("^(cron|rate)\\(.+\\)$", var.schedule_expression))
    error_message = "schedule_expression must be cron(...) or rate(...)."
  }
}

variable "schedule_timezone" {
  description = "Time zone of the schedule expression."
  type        = string
  default     = "UTC"
}

variable "schedule_enabled" {
  description = "Whether the schedule starts runs (the state machine can always be started by hand)."
  type        = bool
  default     = true
}

variable "max_concurrent_datasets" {
  description = "Datasets maintained at once (the Map's MaxConcurrency and the job's concurrent runs)."
  type        = number
  default     = 1

  validation {
    condition     = var.max_concurrent_datasets >= 1 && var.max_concurrent_datasets <= 40
    error_message = "max_concurrent_datasets must be between 1 and 40."
  }
}

variable "worker_type" {
  description = "Glue worker type of the maintenance job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X", "Z.2X"], var.worker_type)
    error_message = "worker_type must be a Glue worker type."
  }
}

variable "number_of_workers" {
  description = "Number of workers of the maintenance job."
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2 && var.number_of_workers <= 299
    error_message = "number_of_workers must be between 2 and 299."
  }
}

variable "timeout_minutes" {
  description = "Maintenance job run timeout in minutes."
  type        = number
  default     = 120

  validation {
    condition     = var.timeout_minutes >= 1 && var.timeout_minutes <= 2880
    error_message = "timeout_minutes must be between 1 and 2880."
  }
}

variable "encrypt_state_machine" {
  description = "Encrypt the state machine's data with the lake key (customer-managed key)."
  type        = bool
  default     = true
}

variable "execution_log_level" {
  description = "Step Functions execution log level."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL"], var.execution_log_level)
    error_message = "execution_log_level must be ALL, ERROR or FATAL."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machine's CloudWatch log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}
