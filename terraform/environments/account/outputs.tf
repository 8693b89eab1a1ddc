output "lakeformation_admins" {
  description = "The account's Lake Formation admins after apply."
  value       = module.lakeformation_account.admins
}
