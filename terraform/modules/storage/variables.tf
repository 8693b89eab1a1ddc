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

variable "force_destroy" {
  description = "Allow destroying non-empty buckets (dev only; keep false in prod)."
  type        = bool
  default     = false
}

variable "raw_transition_days" {
  description = "Days after which landed raw CSV objects move to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_transition_days >= 30
    error_message = "S3 requires at least 30 days before a STANDARD_IA transition."
  }
}

variable "raw_retention_days" {
  description = "Days after which landed raw CSV objects (under each dataset's raw prefix) expire."
  type        = number
  default     = 365

  validation {
    condition     = var.raw_retention_days > var.raw_transition_days
    error_message = "raw_retention_days must be larger than raw_transition_days."
  }
}

variable "rejects_prefix" {
  description = "Prefix in the raw bucket where the ingest job writes rejected rows."
  type        = string
  default     = "rejects/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/$", var.rejects_prefix))
    error_message = "rejects_prefix must be one path segment ending with /."
  }
  # Rejects written under a dataset prefix would be notified to the trigger as uploads (and expire as raw data).
  validation {
    condition     = alltrue([for d in var.datasets : !startswith(d.raw_prefix, var.rejects_prefix) && !startswith(var.rejects_prefix, d.raw_prefix)])
    error_message = "rejects_prefix must not overlap any dataset's raw_prefix."
  }
}

variable "staging_prefix" {
  description = "Prefix in the raw bucket where the ingest job stages the exact source version it reads (deleted after each run)."
  type        = string
  default     = "staging/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/$", var.staging_prefix))
    error_message = "staging_prefix must be one path segment ending with /."
  }
  # A staged copy under a dataset prefix would start another pipeline run (the S3 notification filters
  # are the dataset prefixes), and the 1-day staging expiry would delete landed files.
  validation {
    condition     = alltrue([for d in var.datasets : !startswith(d.raw_prefix, var.staging_prefix) && !startswith(var.staging_prefix, d.raw_prefix)])
    error_message = "staging_prefix must not overlap any dataset's raw_prefix."
  }
  validation {
    condition     = var.staging_prefix != var.rejects_prefix
    error_message = "staging_prefix and rejects_prefix must differ."
  }
}

variable "rejects_retention_days" {
  description = "Days after which rejected rows expire."
  type        = number
  default     = 90

  validation {
    condition     = var.rejects_retention_days >= 1
    error_message = "rejects_retention_days must be at least 1."
  }
}

variable "query_results_retention_days" {
  description = "Days after which Athena query results expire."
  type        = number
  default     = 7

  validation {
    condition     = var.query_results_retention_days >= 1
    error_message = "query_results_retention_days must be at least 1."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days noncurrent object versions are kept (all buckets)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 365

  validation {
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be at least 1."
  }
}

variable "kms_deletion_window_days" {
  description = "Waiting period before the lake KMS key is deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_days >= 7 && var.kms_deletion_window_days <= 30
    error_message = "kms_deletion_window_days must be between 7 and 30."
  }
}
