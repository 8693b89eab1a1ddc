mock_provider "aws" {
  mock_data "aws_lakeformation_data_lake_settings" {
    defaults = {
      admins                              = ["arn:aws:iam::123456789012:role/terraform-deployer", "arn:aws:iam::123456789012:role/platform-admin"]
      create_database_default_permissions = []
      create_table_default_permissions    = []
    }
  }
}

variables {
  admins = ["arn:aws:iam::123456789012:role/terraform-deployer", "arn:aws:iam::123456789012:role/platform-admin"]
}

run "settings_name_every_admin_and_no_default_permissions" {
  command = apply

  assert {
    condition     = toset(aws_lakeformation_data_lake_settings.this.admins) == toset(var.admins) && aws_lakeformation_data_lake_settings.this.allow_full_table_external_data_access
    error_message = "The settings name every admin given and keep Glue full-table access on."
  }
  assert {
    # No default-permission blocks in the configuration: on create the provider sends none, which
    # PutDataLakeSettings reads as "Lake Formation permissions only" for new databases and tables.
    condition     = length(aws_lakeformation_data_lake_settings.this.create_database_default_permissions) == 0 && length(aws_lakeformation_data_lake_settings.this.create_table_default_permissions) == 0 && output.admins == toset(var.admins)
    error_message = "New databases and tables must not inherit IAM_ALLOWED_PRINCIPALS."
  }
}

run "imported_iam_allowed_principals_defaults_fail_the_apply" {
  command   = apply
  state_key = "imported_database_defaults"

  override_data {
    target = data.aws_lakeformation_data_lake_settings.applied
    values = {
      create_database_default_permissions = [{ principal = "IAM_ALLOWED_PRINCIPALS", permissions = ["ALL"] }]
      create_table_default_permissions    = []
    }
  }
  expect_failures = [data.aws_lakeformation_data_lake_settings.applied]
}

run "imported_iam_allowed_principals_table_defaults_fail_the_apply" {
  command   = apply
  state_key = "imported_table_defaults"

  override_data {
    target = data.aws_lakeformation_data_lake_settings.applied
    values = {
      create_database_default_permissions = []
      create_table_default_permissions    = [{ principal = "IAM_ALLOWED_PRINCIPALS", permissions = ["ALL"] }]
    }
  }
  expect_failures = [data.aws_lakeformation_data_lake_settings.applied]
}

run "an_empty_admin_list_is_rejected" {
  command = plan
  variables {
    admins = []
  }
  expect_failures = [var.admins]
}

run "an_admin_missing_after_apply_fails" {
  command   = apply
  state_key = "admin_missing"

  override_data {
    target = data.aws_lakeformation_data_lake_settings.applied
    values = { admins = ["arn:aws:iam::123456789012:role/platform-admin"], create_database_default_permissions = [], create_table_default_permissions = [] }
  }
  expect_failures = [data.aws_lakeformation_data_lake_settings.applied]
}
