variable "endpoint" {
  description = "URL of the local AWS endpoint (make up; LOCALCLOUD_PORT)."
  type        = string
  default     = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^https?://(127\\.0\\.0\\.1|localhost)(:[0-9]+)?/?$", var.endpoint))
    error_message = "endpoint must be a loopback URL such as http://127.0.0.1:4566 (this root never talks to AWS)."
  }
}

variable "extra_datasets_dir" {
  description = "Optional folder of extra dataset specs, deployed next to datasets/ (the e2e tests deploy test-only datasets with it). Null means none."
  type        = string
  default     = null
}

variable "lambda_zip_path" {
  description = "Lambda zip; null means the stack's default, <repo>/build/lambda/lakepipe_lambda.zip (the e2e tests build their own)."
  type        = string
  default     = null
}

variable "glue_package_path" {
  description = "Glue package zip; null means the stack's default, <repo>/build/glue/lakepipe.zip (the e2e tests build their own)."
  type        = string
  default     = null
}
