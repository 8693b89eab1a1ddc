variable "admins" {
  description = "Every Lake Formation data lake administrator of the account (the list replaces the account's: include existing admins you want to keep, and the principal that applies the environment stacks)."
  type        = list(string)

  validation {
    condition     = length(var.admins) > 0 && alltrue([for a in var.admins : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "admins needs at least one IAM role or user ARN (an empty list would leave the account without a Lake Formation admin)."
  }
}

variable "read_only_admins" {
  description = "Read-only Lake Formation administrators (replaces the account's list)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.read_only_admins : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "read_only_admins must be IAM role or user ARNs."
  }
}

variable "allow_full_table_external_data_access" {
  description = "Lets engines such as Glue 5.0 Spark read and write registered tables with full-table access (Glue FTA), which the pipeline's jobs use."
  type        = bool
  default     = true
}

variable "catalog_id" {
  description = "Data Catalog whose settings are managed; null means the caller's account."
  type        = string
  default     = null

  validation {
    condition     = var.catalog_id == null || can(regex("^[0-9]{12}$", var.catalog_id))
    error_message = "catalog_id must be a 12-digit account ID."
  }
}
