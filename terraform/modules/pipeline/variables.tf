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

variable "definition_template_path" {
  description = "Path of the state machine template; null means the repository's state_machines/pipeline.asl.json."
  type        = string
  default     = null
}

variable "ingest_job_name" {
  description = "Name of the ingest Glue job (from modules/glue_jobs)."
  type        = string

  validation {
    condition     = length(var.ingest_job_name) > 0
    error_message = "ingest_job_name must not be empty."
  }
}

variable "view_job_name" {
  description = "Name of the view Glue job (from modules/glue_jobs)."
  type        = string

  validation {
    condition     = length(var.view_job_name) > 0
    error_message = "view_job_name must not be empty."
  }
}

variable "lambda_zip_path" {
  description = "Local path of build/lambda/lakepipe_lambda.zip (holds the run recorder handler)."
  type        = string
}

variable "artifacts_bucket_name" {
  description = "Artifacts bucket name; run records go under runs_prefix."
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:s3:::", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN."
  }
}

variable "runs_prefix" {
  description = "Prefix of the run records in the artifacts bucket (RUNS_LOCATION)."
  type        = string
  default     = "runs/"
}

variable "kms_key_arn" {
  description = "Lake KMS key ARN (topic, logs, state machine, Lambda environment)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "encrypt_state_machine" {
  description = "Encrypt the state machine's data with the lake key (customer-managed key); turn off only for emulators that lack it."
  type        = bool
  default     = true
}

variable "alarm_email_subscriptions" {
  description = "E-mail addresses subscribed to the failure topic (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_email_subscriptions : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_email_subscriptions must be e-mail addresses."
  }
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

variable "alarm_period_seconds" {
  description = "Period of the failed-executions alarm."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60."
  }
}

variable "log_level" {
  description = "LOG_LEVEL of the run recorder."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "log_retention_days" {
  description = "Retention of the state machine's and the recorder's log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "recorder_reserved_concurrency" {
  description = "Reserved concurrent executions of the run recorder (one call per finished run)."
  type        = number
  default     = 20
}
