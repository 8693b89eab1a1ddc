variable "datasets_dir" {
  description = "Folder holding the dataset specs (*.json) and the schema file; the same folder the jobs and Lambdas read."
  type        = string

  validation {
    condition     = length(trimspace(var.datasets_dir)) > 0
    error_message = "datasets_dir must not be empty."
  }
}

variable "schema_file" {
  description = "Path of dataset.schema.json (its properties.<field>.default values are applied to every spec). Null means <datasets_dir>/dataset.schema.json."
  type        = string
  default     = null
}
