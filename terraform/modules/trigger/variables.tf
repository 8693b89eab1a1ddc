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
    # read by the ingest job (lakepipe.spec), so the Lambda passes them on in the execution input
    rename             = optional(map(string), {})
    keep_extra_columns = optional(bool, false)
    quality_rules = optional(list(object({
      name     = optional(string)
      type     = string
      severity = optional(string, "error")
      column   = optional(string)
      values   = optional(list(string))
      pattern  = optional(string)
      min      = optional(number)
      max      = optional(number)
    })), [])
    # The Lambda hands the whole spec to the jobs: every property of datasets/dataset.schema.json is listed
    # here (an attribute missing from this type is dropped silently; tests/trigger.tftest.hcl checks).
    # monitoring: read by lakepipe.spec's validation and modules/monitoring.
    monitoring = optional(object({
      max_reject_ratio       = optional(number)
      expected_cadence_hours = optional(number)
    }), {})
    # read by the view job: values declared by analyst groups own their plain view names (lakepipe.naming)
    analyst_groups = optional(list(object({
      name             = string
      split_values     = list(string)
      excluded_columns = optional(list(string), [])
    })), [])
    format = optional(string, "csv")
    json = optional(object({
      columns = optional(map(string), {})
      explode = optional(string)
      leaves  = optional(string)
    }))
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
  description = "Raw (landing) bucket whose ObjectCreated events start the pipeline."
  type        = string
}

variable "raw_bucket_arn" {
  description = "Raw (landing) bucket ARN."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::", var.raw_bucket_arn))
    error_message = "raw_bucket_arn must be an S3 bucket ARN."
  }
}

variable "state_machine_arn" {
  description = "ARN of the pipeline state machine the trigger starts (STATE_MACHINE_ARN)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:states:", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "artifacts_bucket_name" {
  description = "Artifacts bucket that holds the dataset specs object the trigger reads (DATASETS_URI)."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN (the trigger may read only its specs object there)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN."
  }
}

variable "artifacts_prefix" {
  description = "Prefix of the trigger's objects in the artifacts bucket; the specs go to <prefix>datasets/<sha256>.json."
  type        = string
  default     = "lambda/s3-trigger/"

  validation {
    condition     = var.artifacts_prefix == "" || endswith(var.artifacts_prefix, "/")
    error_message = "artifacts_prefix must be empty or end with /."
  }
}

variable "lambda_zip_path" {
  description = "Local path of build/lambda/lakepipe_lambda.zip (built by make package, outside Terraform)."
  type        = string
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN (environment variables, dead-letter queue, logs, the specs object)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the trigger."
  type        = number
  default     = 10
}

variable "maximum_retry_attempts" {
  description = "Retries of a failed asynchronous (S3) invocation before the event goes to the dead-letter queue."
  type        = number
  default     = 2

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 2
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "dlq_retention_seconds" {
  description = "How long failed events stay in the dead-letter queue."
  type        = number
  default     = 1209600
}

variable "log_level" {
  description = "LOG_LEVEL of the Lambda."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of the Lambda's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the dead-letter queue alarm notifies (the pipeline's failure topic)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-zA-Z-]*:sns:", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "dlq_alarm_period_seconds" {
  description = "Period of the dead-letter queue alarm (SQS publishes its metrics every 5 minutes)."
  type        = number
  default     = 300
}
