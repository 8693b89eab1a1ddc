# Account-level root, applied once per account and Region before any environment (dev, prod):
# Lake Formation's data lake settings are account-wide and PutDataLakeSettings replaces all of them,
# so they live here, in one state, and the environment stacks only read them. Destroying this root
# would empty the account's admin list (the provider puts empty settings on delete): don't.
data "aws_caller_identity" "current" {}

data "aws_iam_session_context" "current" {
  arn = data.aws_caller_identity.current.arn
}

module "lakeformation_account" {
  source = "../../modules/lakeformation_account"

  # The principal applying this root stays an admin, so it can apply the environments too.
  admins                                = distinct(concat(var.lakeformation_admins, [data.aws_iam_session_context.current.issuer_arn]))
  read_only_admins                      = var.lakeformation_read_only_admins
  allow_full_table_external_data_access = var.allow_full_table_external_data_access
}
