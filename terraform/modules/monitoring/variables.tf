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

variable "region" {
  description = "AWS region of the provider the module runs with (the dashboard's widgets name it; no aws_region data source: its name attribute is deprecated in provider 6.x and 5.100 lacks region)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must be an AWS region name such as eu-west-1."
  }
}

variable "tags" {
  description = "Extra tags for the module's alarms (the provider's default_tags apply as well; dashboards take no tags)."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace the Glue jobs put their custom metrics into (lakepipe/metrics.py, --metrics_namespace)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or . _ / # : - and must not start with AWS/ (reserved for AWS services)."
  }
}

variable "datasets" {
  description = "Dataset specs with the schema defaults applied (output datasets of modules/datasets); only name and monitoring are read."
  type = list(object({
    name = string
    monitoring = object({
      max_reject_ratio       = number
      expected_cadence_hours = optional(number)
    })
  }))

  validation {
    condition     = length(var.datasets) > 0
    error_message = "At least one dataset spec is required."
  }
  validation {
    condition     = alltrue([for d in var.datasets : d.monitoring.max_reject_ratio >= 0 && d.monitoring.max_reject_ratio <= 1])
    error_message = "monitoring.max_reject_ratio must be between 0 and 1."
  }
  validation {
    # CloudWatch evaluates an alarm over at most 7 days (Period x EvaluationPeriods <= 604,800 s); one period is an hour.
    condition = alltrue([for d in var.datasets : d.monitoring.expected_cadence_hours == null ? true :
    d.monitoring.expected_cadence_hours >= 1 && d.monitoring.expected_cadence_hours <= 168 && floor(d.monitoring.expected_cadence_hours) == d.monitoring.expected_cadence_hours])
    error_message = "monitoring.expected_cadence_hours must be null or a whole number of hours from 1 to 168."
  }
}

variable "state_machine_arn" {
  description = "ARN of the pipeline state machine (its AWS/States execution metrics)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:states:[a-z0-9-]+:[0-9]{12}:stateMachine:.+$", var.state_machine_arn))
    error_message = "state_machine_arn must be a Step Functions state machine ARN."
  }
}

variable "glue_job_names" {
  description = "The Glue jobs by role (the stack passes ingest, views, maintenance): their failures raise an alarm each (Glue observability metric glue.error.ALL)."
  type        = map(string)

  validation {
    condition     = length(var.glue_job_names) > 0 && alltrue([for k, v in var.glue_job_names : can(regex("^[a-z][a-z0-9_]*$", k)) && length(v) > 0])
    error_message = "glue_job_names maps short lowercase labels to job names."
  }
}

variable "lambda_function_names" {
  description = "The Lambda functions by role (trigger, recorder): errors and throttles raise an alarm each."
  type        = map(string)

  validation {
    condition     = length(var.lambda_function_names) > 0 && alltrue([for k, v in var.lambda_function_names : can(regex("^[a-z][a-z0-9_]*$", k)) && length(v) > 0])
    error_message = "lambda_function_names maps short lowercase labels to function names."
  }
}

variable "dead_letter_queue_name" {
  description = "Name of the trigger's dead-letter queue (charted; its alarm lives in modules/trigger)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.dead_letter_queue_name))
    error_message = "dead_letter_queue_name must be an SQS queue name."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (the pipeline's failure topic, whose policy lets CloudWatch alarms named <name_prefix>-<environment>-* publish)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN."
  }
}

variable "alarm_period_seconds" {
  description = "Period of the error, throttle, job failure and reject ratio alarms (the freshness alarms count whole hours)."
  type        = number
  default     = 300

  validation {
    condition     = var.alarm_period_seconds >= 60 && var.alarm_period_seconds <= 86400 && var.alarm_period_seconds % 60 == 0
    error_message = "alarm_period_seconds must be a multiple of 60 up to 86400."
  }
}

variable "dashboard_period_seconds" {
  description = "Period of the dashboard's graphs."
  type        = number
  default     = 300

  validation {
    condition     = var.dashboard_period_seconds >= 60 && var.dashboard_period_seconds % 60 == 0
    error_message = "dashboard_period_seconds must be a multiple of 60."
  }
}
