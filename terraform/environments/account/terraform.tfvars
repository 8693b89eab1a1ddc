# The account's Lake Formation settings (one apply per account and Region, before dev/prod).
region = "eu-west-1"

# REPLACES the account's admin list (the principal applying this root is added): list everyone who
# must stay an admin, including the roles that deploy environments/dev and environments/prod.
lakeformation_admins           = []
lakeformation_read_only_admins = []
