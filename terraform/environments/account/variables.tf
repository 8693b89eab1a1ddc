variable "region" {
  description = "AWS region whose Data Catalog settings are managed (Lake Formation settings are per account and Region)."
  type        = string
}

variable "tags" {
  description = "Extra default tags."
  type        = map(string)
  default     = {}
}

variable "lakeformation_admins" {
  description = "Every Lake Formation admin the account keeps besides the principal applying this root: the list REPLACES the account's admins, so copy existing admins you want to keep (aws lakeformation get-data-lake-settings) and add the principals that deploy the environments."
  type        = list(string)
  default     = []
}

variable "lakeformation_read_only_admins" {
  description = "Read-only Lake Formation admins (replaces the account's list)."
  type        = list(string)
  default     = []
}

variable "allow_full_table_external_data_access" {
  description = "Lets Glue 5.0 Spark read and write registered tables with full-table access (the pipeline's jobs need it)."
  type        = bool
  default     = true
}
