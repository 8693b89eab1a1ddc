output "admins" {
  description = "Lake Formation administrators after apply."
  value       = data.aws_lakeformation_data_lake_settings.applied.admins
}

output "settings_id" {
  description = "ID of the managed settings, known once they are applied and verified."
  value       = data.aws_lakeformation_data_lake_settings.applied.id
}
