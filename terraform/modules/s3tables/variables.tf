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

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}

variable "table_bucket_name" {
  description = "Table bucket name; null means <name_prefix>-<environment>-tables (table bucket names are unique per account and region)."
  type        = string
  default     = null

  validation {
    condition     = var.table_bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.table_bucket_name))
    error_message = "table_bucket_name must be 3-63 lowercase letters, digits or hyphens."
  }
}

variable "namespaces" {
  description = "S3 Tables namespaces to create (the database of every dataset with target s3tables). May be empty."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for n in var.namespaces : can(regex("^[a-z0-9][a-z0-9_]{0,254}$", n))])
    error_message = "Namespaces must be lowercase letters, digits and underscores."
  }
}

variable "kms_key_arn" {
  description = "KMS key ARN for SSE-KMS of the table bucket (its key policy must allow maintenance.s3tables.amazonaws.com)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "unreferenced_file_removal_enabled" {
  description = "Enable the table bucket's unreferenced-file removal maintenance."
  type        = bool
  default     = true
}

variable "unreferenced_days" {
  description = "Days after which unreferenced objects are marked noncurrent."
  type        = number
  default     = 3

  validation {
    condition     = var.unreferenced_days >= 1
    error_message = "unreferenced_days must be at least 1."
  }
}

variable "non_current_days" {
  description = "Days after which noncurrent objects are deleted."
  type        = number
  default     = 10

  validation {
    condition     = var.non_current_days >= 1
    error_message = "non_current_days must be at least 1."
  }
}
