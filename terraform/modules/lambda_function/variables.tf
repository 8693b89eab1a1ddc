variable "function_name" {
  description = "Name of the function; also the name of its role and of its log group /aws/lambda/<name>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, hyphens or underscores."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Handler (module.function) in the zip."
  type        = string
}

variable "zip_path" {
  description = "Local path of the deployment zip (its hash drives redeployments)."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime (python3.11 matches Glue 5.0)."
  type        = string
  default     = "python3.11"

  validation {
    condition     = contains(["python3.11", "python3.12"], var.runtime)
    error_message = "runtime must be python3.11 or python3.12."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout_seconds" {
  description = "Timeout in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 3 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 3 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps what the function can take from the account's pool, and guarantees it)."
  type        = number

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1."
  }
}

variable "environment_variables" {
  description = "Environment variables (encrypted with kms_key_arn)."
  type        = map(string)
  default     = {}

  validation {
    # Lambda refuses more than 4 KB of environment variables (keys and values together).
    condition     = sum(concat([0], [for k, v in var.environment_variables : length(k) + length(v)])) <= 4096
    error_message = "environment_variables exceed Lambda's 4 KB limit; ship large settings another way."
  }
}

variable "policy_statements" {
  description = "IAM statements of what the function does; the module adds the lake key, its own log group, X-Ray and, with dead_letter_queue, sqs:SendMessage on the queue."
  type        = any
  default     = []
}

variable "policy_name" {
  description = "Name of the role's inline policy."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the environment variables and the log group (the role may decrypt and generate data keys with it)."
  type        = string

  validation {
    condition     = can(regex("^arn:[a-z-]+:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "dead_letter_queue" {
  description = "For asynchronously invoked functions: the SQS queue ARN that is both the dead-letter queue and the on-failure destination, with the retries and event age before an event goes there. Null for functions only invoked synchronously."
  type = object({
    arn                          = string
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 3600)
  })
  default = null

  validation {
    condition     = var.dead_letter_queue == null || try(var.dead_letter_queue.maximum_retry_attempts >= 0 && var.dead_letter_queue.maximum_retry_attempts <= 2, false)
    error_message = "dead_letter_queue.maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "tags" {
  description = "Extra tags for the module's resources (the provider's default_tags apply as well)."
  type        = map(string)
  default     = {}
}
