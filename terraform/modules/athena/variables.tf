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
  description = "AWS region of the provider (builds the analyst policy's Glue and Athena ARNs)."
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

variable "results_bucket_name" {
  description = "Athena query results bucket name (from modules/storage)."
  type        = string
}

variable "results_prefix" {
  description = "Prefix of the query results in the results bucket."
  type        = string
  default     = "athena/"

  validation {
    condition     = can(regex("^([A-Za-z0-9_.-]+/)+$", var.results_prefix))
    error_message = "results_prefix must end with /."
  }
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN for SSE-KMS of the query results."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Per-query limit of bytes scanned (minimum 10 MB)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "bytes_scanned_cutoff_per_query must be at least 10485760 (10 MB)."
  }
}

variable "force_destroy" {
  description = "Delete the workgroup even if it holds named queries (dev only)."
  type        = bool
  default     = false
}

variable "view_databases" {
  description = "Glue databases holding the views (modules/catalog output view_databases); the analyst policy reads them."
  type        = list(string)
  default     = []
}

variable "filtered_tables" {
  description = "Base tables analyst groups read through Lake Formation data cells filters (modules/catalog output analyst_group_access, groups with members); the analyst policy reads their Glue metadata, and no other base table's."
  type = list(object({
    database = string
    table    = string
  }))
  default = []
}

variable "analyst_role_names" {
  description = "IAM role names the analyst policy is attached to (optional; attach it elsewhere by its ARN)."
  type        = list(string)
  default     = []
}
