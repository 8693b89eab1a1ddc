mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-view-definer" }
  }
  # A ready account (modules/lakeformation_account applied): the deployer is an admin, no defaults.
  mock_data "aws_lakeformation_data_lake_settings" {
    defaults = {
      admins                              = ["arn:aws:iam::123456789012:role/terraform"]
      create_database_default_permissions = []
      create_table_default_permissions    = []
    }
  }
}

variables {
  region                    = "eu-west-1"
  environment               = "dev"
  account_id                = "123456789012"
  warehouse_bucket_name     = "lakepipe-dev-warehouse"
  warehouse_bucket_arn      = "arn:aws:s3:::lakepipe-dev-warehouse"
  kms_key_arn               = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  ingest_role_arn           = "arn:aws:iam::123456789012:role/lakepipe-dev-glue-ingest"
  view_role_arn             = "arn:aws:iam::123456789012:role/lakepipe-dev-glue-views"
  deployer_arn              = "arn:aws:iam::123456789012:role/terraform"
  analyst_principals        = []
  s3tables_catalog_id       = "123456789012:s3tablescatalog/lakepipe-dev-tables"
  s3tables_table_bucket_arn = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables"
  datasets = [
    { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" },
    { name = "regulatory", raw_prefix = "incoming/regulatory/", target = "glue", database = "lake", table = "regulatory_reports", view_database = "reporting", split_column = "seriesid", id_columns = ["aod"], key_column = "key", value_column = "value", view_prefix = "report_view_" },
    { name = "ledger", raw_prefix = "incoming/ledger/", target = "s3tables", database = "finance", table = "ledger", view_database = null, split_column = "entity1", id_columns = [], key_column = "key", value_column = "value", view_prefix = "ledger_view_" },
  ]
}

run "databases_registration_and_settings" {
  command = apply

  assert {
    condition     = output.database_names == tolist(["finance", "lake", "reporting"])
    error_message = "Expected table database lake, view database reporting and the Glue view database of the s3tables namespace finance."
  }
  assert {
    condition     = aws_glue_catalog_database.this["lake"].location_uri == "s3://lakepipe-dev-warehouse/iceberg/lake/" && !contains(local.glue_table_dbs, "reporting")
    error_message = "Table databases live under the warehouse prefix; view-only databases have no location."
  }
  assert {
    condition     = aws_lakeformation_resource.warehouse.arn == "arn:aws:s3:::lakepipe-dev-warehouse/iceberg" && !aws_lakeformation_resource.warehouse.hybrid_access_enabled
    error_message = "The warehouse Iceberg prefix must be registered with Lake Formation."
  }
}

# Issue 9 item 1/2: the module never writes the account-wide settings; it reads them and refuses to
# create databases (or register the warehouse) while they would break the pipeline.
run "account_settings_are_read_never_written" {
  command = plan

  assert {
    condition     = length(data.aws_lakeformation_data_lake_settings.current) == 1 && length(local.lf_settings_problems) == 0
    error_message = "The settings are read and, for a ready account, raise no problem."
  }
}

run "iam_allowed_principals_database_defaults_fail_the_plan" {
  command = plan

  override_data {
    target = data.aws_lakeformation_data_lake_settings.current[0]
    values = {
      admins                              = ["arn:aws:iam::123456789012:role/terraform"]
      create_database_default_permissions = [{ principal = "IAM_ALLOWED_PRINCIPALS", permissions = ["ALL"] }]
      create_table_default_permissions    = []
    }
  }
  expect_failures = [aws_glue_catalog_database.this, aws_lakeformation_resource.warehouse]
}

run "iam_allowed_principals_table_defaults_fail_the_plan" {
  command = plan

  override_data {
    target = data.aws_lakeformation_data_lake_settings.current[0]
    values = {
      admins                              = ["arn:aws:iam::123456789012:role/terraform"]
      create_database_default_permissions = []
      create_table_default_permissions    = [{ principal = "IAM_ALLOWED_PRINCIPALS", permissions = ["ALL"] }]
    }
  }
  expect_failures = [aws_glue_catalog_database.this, aws_lakeformation_resource.warehouse]
}

run "a_deployer_that_is_no_lake_formation_admin_fails_the_plan" {
  command = plan

  override_data {
    target = data.aws_lakeformation_data_lake_settings.current[0]
    values = {
      admins                              = ["arn:aws:iam::123456789012:role/someone-else"]
      create_database_default_permissions = []
      create_table_default_permissions    = []
    }
  }
  expect_failures = [aws_glue_catalog_database.this, aws_lakeformation_resource.warehouse]
}

run "offline_plans_skip_the_settings_check" {
  command = plan
  variables {
    check_data_lake_settings = false
  }

  assert {
    condition     = length(data.aws_lakeformation_data_lake_settings.current) == 0
    error_message = "check_data_lake_settings = false reads nothing (offline plans have no AWS API)."
  }
}

run "grants_name_the_job_roles_and_the_definer_role" {
  command = apply

  assert {
    condition     = aws_lakeformation_permissions.ingest_data_location.principal == var.ingest_role_arn && tolist(aws_lakeformation_permissions.ingest_data_location.permissions) == tolist(["DATA_LOCATION_ACCESS"])
    error_message = "The ingest role needs DATA_LOCATION_ACCESS on the registered location (it creates the tables)."
  }
  assert {
    condition     = aws_lakeformation_permissions.tables["ingest/lake"].principal == var.ingest_role_arn && toset(aws_lakeformation_permissions.tables["ingest/lake"].permissions) == toset(["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER"])
    error_message = "The ingest role reads and writes the tables of its database, and drops none."
  }
  assert {
    condition     = toset(aws_lakeformation_permissions.database["ingest/lake"].permissions) == toset(["CREATE_TABLE", "DESCRIBE", "ALTER"])
    error_message = "The ingest role creates tables in the table databases."
  }
  assert {
    condition     = !anytrue([for k, g in local.database_grants : g.role == "ingest" && g.database == "reporting"]) && !anytrue([for k, g in local.table_grants : g.role == "ingest" && g.database == "reporting"])
    error_message = "The ingest role has no grant in a view-only database."
  }
  assert {
    condition     = toset(aws_lakeformation_permissions.tables["views/reporting"].permissions) == toset(["ALTER", "DROP", "DESCRIBE", "SELECT"]) && toset(aws_lakeformation_permissions.database["views/reporting"].permissions) == toset(["CREATE_TABLE", "DESCRIBE"])
    error_message = "The view role creates views in the view databases and alters, drops, describes and selects them."
  }
  assert {
    condition     = toset(aws_lakeformation_permissions.tables["views/finance"].permissions) == toset(["ALTER", "DROP", "DESCRIBE", "SELECT"]) && !contains(keys(local.table_grants), "ingest/finance")
    error_message = "finance is the Glue database of the s3tables namespace's views: the view role only."
  }
  assert {
    condition     = toset(aws_lakeformation_permissions.tables["views/lake"].permissions) == toset(["ALTER", "DESCRIBE", "DROP", "SELECT"])
    error_message = "In lake (base tables and the entities views) the view role reads the tables and manages the views."
  }
  assert {
    condition     = alltrue([for k, g in local.table_grants : g.role != "views" || (!contains(g.permissions, "INSERT") && !contains(g.permissions, "DELETE"))])
    error_message = "The view role writes no table data."
  }
  assert {
    condition     = aws_lakeformation_permissions.ingest_data_location.principal != var.view_role_arn
    error_message = "The view role gets no DATA_LOCATION_ACCESS (it creates no table at a location)."
  }
  assert {
    condition     = aws_lakeformation_permissions.tables["definer/lake"].principal == aws_iam_role.definer.arn && contains(aws_lakeformation_permissions.tables["definer/lake"].permissions_with_grant_option, "SELECT")
    error_message = "The definer role needs SELECT with grant option on the base tables."
  }
  assert {
    condition     = contains(aws_lakeformation_permissions.database["definer/reporting"].permissions, "CREATE_TABLE") && contains(aws_lakeformation_permissions.database["definer/lake"].permissions, "CREATE_TABLE")
    error_message = "The definer role needs CREATE_TABLE on every view database."
  }
  assert {
    condition     = contains(local.definer_catalog_resources, "arn:aws:glue:eu-west-1:123456789012:table/s3tablescatalog/lakepipe-dev-tables/finance/*")
    error_message = "The definer needs Glue access to the S3 Tables namespace's tables (federated catalog)."
  }
  assert {
    condition     = anytrue([for s in local.definer_policy.Statement : s.Sid == "S3TablesReadBaseTables" && contains(flatten([s.Resource]), "${var.s3tables_table_bucket_arn}/table/*")])
    error_message = "The definer reads S3 Tables base tables through IAM."
  }
  assert {
    condition     = alltrue([for k, g in aws_lakeformation_permissions.tables : !contains(g.permissions, "ALL") && !contains(g.permissions, "SUPER")])
    error_message = "No ALL/SUPER grants."
  }
}

run "definer_role_meets_view_prerequisites" {
  command = apply

  assert {
    condition     = toset(jsondecode(aws_iam_role.definer.assume_role_policy).Statement[0].Principal.Service) == toset(["glue.amazonaws.com", "lakeformation.amazonaws.com"])
    error_message = "The definer role must be assumable by Glue and Lake Formation."
  }
  assert {
    condition = anytrue([for s in local.definer_policy.Statement : s.Action == "iam:PassRole" && s.Resource == aws_iam_role.definer.arn &&
    toset(try(s.Condition.StringEquals["iam:PassedToService"], [])) == toset(["glue.amazonaws.com", "lakeformation.amazonaws.com"])])
    error_message = "The definer role needs iam:PassRole (itself) to Glue and Lake Formation only."
  }
  assert {
    condition     = alltrue([for s in local.definer_policy.Statement : s.Resource != "*" || s.Action == "lakeformation:GetDataAccess"])
    error_message = "Only lakeformation:GetDataAccess (no resource-level permissions) may use Resource *."
  }
  assert {
    condition     = alltrue([for r in local.definer_catalog_resources : startswith(r, "arn:aws:glue:eu-west-1:123456789012:")])
    error_message = "Glue ARNs must be built from partition, region and account."
  }
}

run "bad_deployer_is_rejected" {
  command = plan
  variables {
    deployer_arn = "arn:aws:sts::123456789012:assumed-role/terraform/session"
  }
  expect_failures = [var.deployer_arn]
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = "Prod"
  }
  expect_failures = [var.environment]
}

# Issue 9 item 4: analysts query the views of view-only databases, and Athena's DESCRIBE on default.
run "analysts_get_the_view_only_databases_and_describe_on_default" {
  command = apply

  variables {
    analyst_principals = ["arn:aws:iam::123456789012:role/analyst"]
    datasets = [
      { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = "lake_views", split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" },
      { name = "regulatory", raw_prefix = "incoming/regulatory/", target = "glue", database = "lake", table = "regulatory_reports", view_database = "lake_views", split_column = "seriesid", id_columns = ["aod"], key_column = "key", value_column = "value", view_prefix = "report_view_" },
    ]
  }

  assert {
    condition     = toset(aws_lakeformation_permissions.tables["analyst0/lake_views"].permissions) == toset(["SELECT", "DESCRIBE"]) && aws_lakeformation_permissions.tables["analyst0/lake_views"].principal == "arn:aws:iam::123456789012:role/analyst"
    error_message = "Analysts SELECT and DESCRIBE every view of a view-only database."
  }
  assert {
    condition     = !contains(keys(aws_lakeformation_permissions.tables), "analyst0/lake") && !contains(keys(aws_lakeformation_permissions.database), "analyst0/lake")
    error_message = "Analysts get nothing on the database of the base tables."
  }
  assert {
    condition     = one(aws_lakeformation_permissions.database["analyst0/default"].database).name == "default" && tolist(aws_lakeformation_permissions.database["analyst0/default"].permissions) == tolist(["DESCRIBE"])
    error_message = "Athena requires DESCRIBE on database default for Lake Formation users."
  }
  assert {
    condition     = !contains(output.database_names, "default")
    error_message = "The stack does not own database default (Athena creates it)."
  }
}

run "analysts_with_views_sharing_a_base_table_database_are_refused" {
  command = plan

  variables {
    analyst_principals = ["arn:aws:iam::123456789012:role/analyst"]
  }
  expect_failures = [var.analyst_principals]
}

# Issue 13 part 3: analyst groups declared per dataset, members per environment.
run "analyst_groups_get_a_cells_filter_and_exactly_their_views" {
  command = apply

  variables {
    datasets = [
      { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = "lake_views", split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_", analyst_groups = [
        { name = "acme_only", split_values = ["ACME"], excluded_columns = ["lakepipe_source_file", "lakepipe_run_id"] },
        { name = "quoted", split_values = ["O'Brien & Co", "x') OR ('a'='a"] },
        { name = "nobody_yet", split_values = ["Initech"] },
      ] },
    ]
    analyst_groups = {
      acme_only = ["arn:aws:iam::123456789012:role/acme-a", "arn:aws:iam::123456789012:role/acme-b"]
      quoted    = ["arn:aws:iam::123456789012:user/q"]
    }
  }

  assert {
    condition     = one(one(aws_lakeformation_data_cells_filter.analyst_group["entities/acme_only"].table_data).row_filter).filter_expression == "entity1 IN ('ACME')"
    error_message = "The filter admits the rows of the group's split values."
  }
  assert {
    condition     = one(one(aws_lakeformation_data_cells_filter.analyst_group["entities/quoted"].table_data).row_filter).filter_expression == "entity1 IN ('O''Brien & Co', 'x'') OR (''a''=''a')"
    error_message = "Split values are PartiQL string literals: a quote inside is doubled, so a value cannot end the literal."
  }
  assert {
    condition     = one(aws_lakeformation_data_cells_filter.analyst_group["entities/acme_only"].table_data).table_name == "entities" && one(aws_lakeformation_data_cells_filter.analyst_group["entities/acme_only"].table_data).name == "acme_only" && one(aws_lakeformation_data_cells_filter.analyst_group["entities/acme_only"].table_data).table_catalog_id == "123456789012" && one(one(aws_lakeformation_data_cells_filter.analyst_group["entities/acme_only"].table_data).column_wildcard).excluded_column_names == tolist(["lakepipe_source_file", "lakepipe_run_id"])
    error_message = "The filter is on the base table, named after the group, every column but the excluded ones."
  }
  assert {
    condition     = toset(keys(aws_lakeformation_data_cells_filter.analyst_group)) == toset(["entities/acme_only", "entities/quoted"])
    error_message = "A group without members in this environment gets no filter (and needs no table yet)."
  }
  assert {
    condition = toset(keys(aws_lakeformation_permissions.analyst_group_view)) == toset([
      "entities/acme_only/0/entity_view_acme", "entities/acme_only/1/entity_view_acme",
      "entities/quoted/0/entity_view_o_brien_co", "entities/quoted/0/entity_view_x_or_a_a",
    ])
    error_message = "Each member gets exactly the views of its group's split values, named as lakepipe.naming names them."
  }
  assert {
    condition     = one(aws_lakeformation_permissions.analyst_group_view["entities/quoted/0/entity_view_o_brien_co"].table).database_name == "lake_views" && toset(aws_lakeformation_permissions.analyst_group_view["entities/quoted/0/entity_view_o_brien_co"].permissions) == toset(["SELECT", "DESCRIBE"]) && aws_lakeformation_permissions.analyst_group_view["entities/quoted/0/entity_view_o_brien_co"].principal == "arn:aws:iam::123456789012:user/q"
    error_message = "View grants: SELECT and DESCRIBE on the named view in the view database."
  }
  assert {
    condition     = one(aws_lakeformation_permissions.analyst_group_filter["entities/acme_only/1"].data_cells_filter).name == "acme_only" && one(aws_lakeformation_permissions.analyst_group_filter["entities/acme_only/1"].data_cells_filter).table_name == "entities" && tolist(aws_lakeformation_permissions.analyst_group_filter["entities/acme_only/1"].permissions) == tolist(["SELECT"]) && aws_lakeformation_permissions.analyst_group_filter["entities/acme_only/1"].principal == "arn:aws:iam::123456789012:role/acme-b"
    error_message = "Each member gets SELECT on its group's filter."
  }
  assert {
    condition     = !contains([for k, p in aws_lakeformation_permissions.tables : p.principal], "arn:aws:iam::123456789012:role/acme-a") && one(aws_lakeformation_permissions.database["entities/acme_only/0/default"].database).name == "default"
    error_message = "Members get no wildcard grant on any database, and DESCRIBE on default (Athena)."
  }
}

run "a_group_no_dataset_declares_is_refused" {
  command = plan

  variables {
    analyst_groups = { ghost = ["arn:aws:iam::123456789012:role/ghost"] }
  }
  expect_failures = [var.analyst_groups]
}

run "split_values_sharing_a_view_name_are_refused" {
  command = plan

  variables {
    datasets = [
      { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = "lake_views", split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_", analyst_groups = [
        { name = "a", split_values = ["ACME"] }, { name = "b", split_values = ["acme"] },
      ] },
    ]
  }
  expect_failures = [output.analyst_group_access]
}

run "analyst_groups_on_an_s3tables_dataset_are_refused" {
  command = plan

  variables {
    datasets = [
      { name = "ledger", raw_prefix = "incoming/ledger/", target = "s3tables", database = "finance", table = "ledger", view_database = null, split_column = "entity1", id_columns = [], key_column = "key", value_column = "value", view_prefix = "ledger_view_", analyst_groups = [{ name = "a", split_values = ["ACME"] }] },
    ]
  }
  expect_failures = [output.analyst_group_access]
}

# Views are read with the definer's rights: excluding a column the group's views show would not hide it.
run "excluding_a_column_the_views_show_is_refused" {
  command = plan

  variables {
    datasets = [
      { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = "lake_views", split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_", analyst_groups = [
        { name = "acme_only", split_values = ["ACME"], excluded_columns = ["lakepipe_run_id", "entity2"] },
      ] },
    ]
  }
  expect_failures = [output.analyst_group_access]
}

run "excluding_the_ingestion_metadata_is_accepted" {
  command = plan

  variables {
    datasets = [
      { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = "lake_views", split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_", analyst_groups = [
        { name = "acme_only", split_values = ["ACME"], excluded_columns = ["lakepipe_run_id", "lakepipe_source_file"] },
      ] },
    ]
  }
  assert {
    condition     = output.analyst_group_access["entities/acme_only"].excluded_columns == tolist(["lakepipe_run_id", "lakepipe_source_file"])
    error_message = "Columns no view reads can be excluded."
  }
}
