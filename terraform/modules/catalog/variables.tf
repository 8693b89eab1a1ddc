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
    analyst_groups = optional(list(object({
      name             = string
      split_values     = list(string)
      excluded_columns = optional(list(string), [])
    })), [])
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

variable "warehouse_bucket_name" {
  description = "Iceberg warehouse bucket name (from modules/storage)."
  type        = string
}

variable "warehouse_bucket_arn" {
  description = "Iceberg warehouse bucket ARN (from modules/storage)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::", var.warehouse_bucket_arn))
    error_message = "warehouse_bucket_arn must be an S3 bucket ARN."
  }
}

variable "warehouse_prefix" {
  description = "Prefix in the warehouse bucket holding the Iceberg tables; registered with Lake Formation."
  type        = string
  default     = "iceberg/"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/$", var.warehouse_prefix))
    error_message = "warehouse_prefix must be one path segment ending with /."
  }
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN (the warehouse bucket's SSE-KMS key)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "ingest_role_arn" {
  description = "ARN of the ingest job's role (from modules/glue_jobs): table-database grants and DATA_LOCATION_ACCESS."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.ingest_role_arn))
    error_message = "ingest_role_arn must be an IAM role ARN."
  }
}

variable "view_role_arn" {
  description = "ARN of the view job's role (from modules/glue_jobs): read of the base tables, views in the view databases."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:iam::[0-9]{12}:role/", var.view_role_arn))
    error_message = "view_role_arn must be an IAM role ARN."
  }
}

variable "check_data_lake_settings" {
  description = "Read the account's Lake Formation settings and refuse to create databases while new ones would inherit IAM_ALLOWED_PRINCIPALS or the deployer is no admin. Off only for offline plans (no AWS API)."
  type        = bool
  default     = true
}

variable "deployer_arn" {
  description = "IAM role or user ARN of the principal running Terraform (the issuer of its session); it must be a Lake Formation admin. Null skips that check."
  type        = string
  default     = null

  validation {
    condition     = var.deployer_arn == null || can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(role|user)/", var.deployer_arn))
    error_message = "deployer_arn must be an IAM role or user ARN."
  }
}

variable "analyst_principals" {
  description = "IAM principal ARNs that get read-only (DESCRIBE, SELECT) grants on the view databases."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.analyst_principals : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(role|user)/", a))])
    error_message = "analyst_principals must be IAM role or user ARNs."
  }
  # Views are created at run time, so Terraform can grant analysts only whole databases: a database
  # holding base tables would expose them, so analysts there could query nothing. Refuse instead.
  validation {
    condition = length(var.analyst_principals) == 0 || alltrue([for d in var.datasets :
    !contains([for t in var.datasets : t.database if t.target == "glue"], coalesce(d.view_database, d.database))])
    error_message = "analyst_principals can only be granted view-only databases: give every dataset whose views share a database with Glue base tables a view_database of its own (datasets/<name>.json)."
  }
}

variable "s3tables_catalog_id" {
  description = "Glue catalog id of the S3 table bucket (<account>:s3tablescatalog/<bucket>, from modules/s3tables); required when a dataset has target s3tables."
  type        = string
  default     = null

  validation {
    condition     = var.s3tables_catalog_id == null || can(regex("^[0-9]{12}:s3tablescatalog/[a-z0-9-]+$", var.s3tables_catalog_id))
    error_message = "s3tables_catalog_id must look like <account>:s3tablescatalog/<bucket>."
  }
}

variable "s3tables_table_bucket_arn" {
  description = "ARN of the S3 table bucket (from modules/s3tables); lets the definer read base tables of target s3tables (IAM access-control mode)."
  type        = string
  default     = null

  validation {
    condition     = var.s3tables_table_bucket_arn == null || can(regex("^arn:[a-z-]+:s3tables:", var.s3tables_table_bucket_arn))
    error_message = "s3tables_table_bucket_arn must be an S3 Tables bucket ARN."
  }
}

variable "analyst_groups" {
  description = "Members of the datasets' analyst_groups (datasets/*.json), per environment: group name => IAM role or user ARNs. A group gets its Lake Formation data cells filter on the base table and SELECT on its views only when it has members here; the base table and those views must exist by then (the dataset's first load)."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for arns in values(var.analyst_groups) : alltrue([for a in arns : can(regex("^arn:[a-z-]+:iam::[0-9]{12}:(role|user)/", a))])])
    error_message = "analyst_groups members must be IAM role or user ARNs."
  }
  validation {
    condition     = alltrue([for name in keys(var.analyst_groups) : contains(flatten([for d in var.datasets : [for g in d.analyst_groups : g.name]]), name)])
    error_message = "analyst_groups names a group no dataset declares (datasets/<name>.json analyst_groups)."
  }
}
