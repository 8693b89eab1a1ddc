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
  description = "Dataset specs with the schema defaults applied (output datasets of modules/datasets)."
  type = list(object({
    name          = string
    raw_prefix    = string
    target        = string
    database      = string
    table         = string
    view_database = optional(string)
    split_column  = string
    id_columns    = list(string)
    key_column    = string
    value_column  = string
    view_prefix   = string
  }))

  validation {
    condition     = length(var.datasets) > 0
    error_message = "At least one dataset spec is required."
  }
  validation {
    condition     = alltrue([for d in var.datasets : contains(["glue", "s3tables"], d.target) && endswith(d.raw_prefix, "/")])
    error_message = "Every dataset needs target glue or s3tables and a raw_prefix ending with /."
  }
}

variable "raw_bucket_name" {
  description = "Raw (landing) bucket name."
  type        = string
}

variable "raw_bucket_arn" {
  description = "Raw (landing) bucket ARN."
  type        = string
}

variable "rejects_prefix" {
  description = "Prefix in the raw bucket for rejected rows (--rejects_location)."
  type        = string
  default     = "rejects/"
}

variable "staging_prefix" {
  description = "Prefix in the raw bucket where the ingest job stages the exact source version it reads (--staging_location)."
  type        = string
  default     = "staging/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/$", var.staging_prefix))
    error_message = "staging_prefix must be one path segment ending with /."
  }
}

variable "warehouse_bucket_name" {
  description = "Iceberg warehouse bucket name (target glue)."
  type        = string
}

variable "warehouse_bucket_arn" {
  description = "Iceberg warehouse bucket ARN."
  type        = string
}

variable "warehouse_prefix" {
  description = "Prefix of the Iceberg warehouse in the warehouse bucket."
  type        = string
  default     = "iceberg/"
}

variable "artifacts_bucket_name" {
  description = "Artifacts bucket name (scripts, package, temp dir, run records)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN."
  type        = string
}

variable "runs_prefix" {
  description = "Prefix of the run records and job reports in the artifacts bucket (--runs_location)."
  type        = string
  default     = "runs/"
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN (buckets, security configuration, logs)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "definer_role_arn" {
  description = "ARN of the Glue Data Catalog view definer role (from modules/catalog), passed as --definer_role_arn."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.definer_role_arn))
    error_message = "definer_role_arn must be an IAM role ARN."
  }
}

variable "s3tables_table_bucket_name" {
  description = "S3 table bucket name (from modules/s3tables); null when no S3 Tables catalog is configured."
  type        = string
  default     = null
}

variable "s3tables_table_bucket_arn" {
  description = "S3 table bucket ARN (from modules/s3tables); null when no S3 Tables catalog is configured."
  type        = string
  default     = null
}

variable "ingest_script_path" {
  description = "Local path of glue_jobs/ingest_job.py."
  type        = string
}

variable "view_script_path" {
  description = "Local path of glue_jobs/view_job.py."
  type        = string
}

variable "package_zip_path" {
  description = "Local path of build/glue/lakepipe.zip (made by make package), shipped with --extra-py-files."
  type        = string
}

variable "glue_catalog_name" {
  description = "Spark catalog name for target glue (--glue_catalog)."
  type        = string
  default     = "glue_catalog"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]*$", var.glue_catalog_name))
    error_message = "glue_catalog_name must be a lowercase identifier."
  }
}

variable "s3tables_catalog_name" {
  description = "Spark catalog name for target s3tables (--s3tables_catalog)."
  type        = string
  default     = "s3tables_catalog"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]*$", var.s3tables_catalog_name))
    error_message = "s3tables_catalog_name must be a lowercase identifier."
  }
}

variable "extra_spark_conf" {
  description = "Extra Spark settings (key=value) appended to the job's single --conf argument."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.extra_spark_conf : can(regex("^spark\\.[^= ]+=[^ ]+$", c))])
    error_message = "extra_spark_conf entries must be spark.<key>=<value> without spaces."
  }
}

variable "worker_type" {
  description = "Glue worker type of the ingest job."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X", "Z.2X"], var.worker_type)
    error_message = "worker_type must be a Glue worker type (G.025X, G.1X, G.2X, G.4X, G.8X, G.12X, G.16X, R.1X-R.8X, Z.2X)."
  }
}

variable "number_of_workers" {
  description = "Number of workers of the ingest job."
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2 && var.number_of_workers <= 299
    error_message = "number_of_workers must be between 2 and 299."
  }
}

variable "view_worker_type" {
  description = "Glue worker type of the view job (catalog calls and small pivots)."
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.025X", "G.1X", "G.2X", "G.4X", "G.8X", "G.12X", "G.16X", "R.1X", "R.2X", "R.4X", "R.8X", "Z.2X"], var.view_worker_type)
    error_message = "view_worker_type must be a Glue worker type."
  }
}

variable "view_number_of_workers" {
  description = "Number of workers of the view job."
  type        = number
  default     = 2

  validation {
    condition     = var.view_number_of_workers >= 2 && var.view_number_of_workers <= 299
    error_message = "view_number_of_workers must be between 2 and 299."
  }
}

variable "timeout_minutes" {
  description = "Job run timeout in minutes (both jobs)."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_minutes >= 1 && var.timeout_minutes <= 2880
    error_message = "timeout_minutes must be between 1 and 2880."
  }
}

variable "max_concurrent_runs" {
  description = "Maximum concurrent runs per job: how many file deliveries are processed at once (Step Functions retries ConcurrentRunsExceeded)."
  type        = number
  default     = 4

  validation {
    condition     = var.max_concurrent_runs >= 1 && var.max_concurrent_runs <= 1000
    error_message = "max_concurrent_runs must be between 1 and 1000."
  }
}

variable "log_retention_days" {
  description = "Retention of the jobs' CloudWatch log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' custom metrics (--metrics_namespace; the job roles may put metrics into it and into Glue's own)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or . _ / # : - and must not start with AWS/ (reserved for AWS services)."
  }
}
