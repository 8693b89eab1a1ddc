variable "datasets_dir" {
  description = "Folder holding the dataset specs (*.json) and the schema file; the same folder the jobs and Lambdas read."
  type        = string

  validation {
    condition     = length(trimspace(var.datasets_dir)) > 0
    error_message = "datasets_dir must not be empty."
  }
}

variable "extra_datasets_dir" {
  description = "Optional second folder of dataset specs (*.json only, no schema), read after datasets_dir; the local root uses it to deploy test-only datasets. Null means none."
  type        = string
  default     = null
}

variable "schema_file" {
  description = "Path of dataset.schema.json (its properties.<field>.default values are applied to every spec). Null means <datasets_dir>/dataset.schema.json."
  type        = string
  default     = null
}
