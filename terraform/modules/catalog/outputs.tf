output "database_names" {
  description = "Glue databases created (table databases of target glue and all view databases)."
  value       = sort([for d in aws_glue_catalog_database.this : d.name])
}

output "view_databases" {
  description = "Glue databases that hold the views."
  value       = local.view_dbs
}

output "definer_role_arn" {
  description = "ARN of the Glue Data Catalog view definer role (pass to the view job as --definer_role_arn)."
  value       = aws_iam_role.definer.arn
}

output "definer_role_name" {
  description = "Name of the view definer role."
  value       = aws_iam_role.definer.name
}

output "lf_data_access_role_arn" {
  description = "ARN of the role Lake Formation uses for the registered warehouse location."
  value       = aws_iam_role.lf_data_access.arn
}

output "registered_location_arn" {
  description = "S3 location registered with Lake Formation."
  value       = aws_lakeformation_resource.warehouse.arn
}

output "grants" {
  description = "Lake Formation grants made by the module: key => {role, principal, database, catalog_id, permissions, grantable, resource}."
  value = merge(
    { for k, g in local.database_grants : "database:${k}" => merge(g, { resource = "database" }) },
    { for k, g in local.table_grants : "tables:${k}" => merge(g, { resource = "all_tables" }) },
  )
}

output "lf_settings_problems" {
  description = "Why the account's Lake Formation settings are not ready for the stack (empty when ready or not checked)."
  value       = local.lf_settings_problems
}

output "analyst_group_access" {
  description = "Per dataset/group: the base table, its data cells filter (name, row filter, excluded columns), the views granted and the members (empty: no filter or grants in this environment)."
  value = { for k, g in local.analyst_groups : k => {
    database         = g.database, table = g.table, filter = g.name, row_filter = g.row_filter
    excluded_columns = g.excluded_columns, view_database = g.view_database, views = g.views, members = g.members
  } }

  precondition {
    condition     = length(local.analyst_group_problems) == 0
    error_message = "Dataset analyst_groups cannot be granted: ${join("; ", local.analyst_group_problems)}."
  }
}
