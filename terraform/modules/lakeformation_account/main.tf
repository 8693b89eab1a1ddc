# The account's (one Region's Data Catalog's) Lake Formation data lake settings. PutDataLakeSettings
# replaces every setting at once, so exactly one Terraform root per account and Region may own this
# resource: environments/account on AWS, environments/local for the local endpoint. Environment stacks
# only read the settings (modules/catalog checks them before creating databases).
#
# No create_database_default_permissions / create_table_default_permissions blocks: on create the
# provider then sends neither list, and for PutDataLakeSettings a null list means "Lake Formation
# permissions only" (no IAM_ALLOWED_PRINCIPALS grant on new databases and tables), which Glue Data
# Catalog views require on their base tables. Both are Optional+Computed blocks, though: after an
# import, what the account had stays in state and is sent back on every update. The settings are
# therefore read back after apply, and the apply fails if either list still grants
# IAM_ALLOWED_PRINCIPALS (clear it once by hand, see terraform/README.md).
resource "aws_lakeformation_data_lake_settings" "this" {
  catalog_id                            = var.catalog_id
  admins                                = var.admins
  read_only_admins                      = var.read_only_admins
  allow_full_table_external_data_access = var.allow_full_table_external_data_access
}

data "aws_lakeformation_data_lake_settings" "applied" {
  catalog_id = var.catalog_id

  depends_on = [aws_lakeformation_data_lake_settings.this]

  lifecycle {
    postcondition {
      condition     = !anytrue([for p in self.create_database_default_permissions : p.principal == "IAM_ALLOWED_PRINCIPALS"])
      error_message = "The account's CreateDatabaseDefaultPermissions still grant IAM_ALLOWED_PRINCIPALS (kept from before Terraform managed the settings). Clear them once: Lake Formation console > Data Catalog settings > untick \"Use only IAM access control for new databases\" (or put-data-lake-settings with \"CreateDatabaseDefaultPermissions\": []), then apply again."
    }
    postcondition {
      condition     = !anytrue([for p in self.create_table_default_permissions : p.principal == "IAM_ALLOWED_PRINCIPALS"])
      error_message = "The account's CreateTableDefaultPermissions still grant IAM_ALLOWED_PRINCIPALS (kept from before Terraform managed the settings). Clear them once: Lake Formation console > Data Catalog settings > untick \"Use only IAM access control for new tables in new databases\" (or put-data-lake-settings with \"CreateTableDefaultPermissions\": []), then apply again."
    }
    postcondition {
      condition     = length(setsubtract(var.admins, self.admins)) == 0
      error_message = "After apply the account's Lake Formation admins do not include every configured admin."
    }
  }
}
