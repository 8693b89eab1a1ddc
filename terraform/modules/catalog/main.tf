data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = var.region
  base      = "${var.name_prefix}-${var.environment}"
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${var.account_id}"

  glue_table_dbs = sort(distinct([for d in var.datasets : d.database if d.target == "glue"]))
  s3t_namespaces = sort(distinct([for d in var.datasets : d.database if d.target == "s3tables"]))
  # Views are always Glue Data Catalog objects; view_database null = the table's database.
  view_dbs      = sort(distinct([for d in var.datasets : coalesce(d.view_database, d.database)]))
  glue_dbs      = sort(distinct(concat(local.glue_table_dbs, local.view_dbs)))
  view_only_dbs = [for db in local.view_dbs : db if !contains(local.glue_table_dbs, db)]

  warehouse_location_arn = "${var.warehouse_bucket_arn}/${trimsuffix(var.warehouse_prefix, "/")}"
}

# ---------------------------------------------------------------- Lake Formation settings (read only)
# The settings are account-wide and PutDataLakeSettings replaces them all, so this module never writes
# them (modules/lakeformation_account does, from environments/account or environments/local). It reads
# them and refuses to create databases while they would break the pipeline:
# - aws_glue_catalog_database sends no CreateTableDefaultPermissions when create_table_default_permission
#   is omitted, so Glue/Lake Formation fill a new database's from the account's
#   CreateTableDefaultPermissions, and grant the account's CreateDatabaseDefaultPermissions on it. If
#   those grant IAM_ALLOWED_PRINCIPALS, every table the ingest job creates carries that grant and the
#   view job fails ("Multi Dialect views may only reference tables without IAMAllowedPrincipals
#   permissions").
# - Only a Lake Formation admin can register the warehouse location and make the grants below.
data "aws_lakeformation_data_lake_settings" "current" {
  count = var.check_data_lake_settings ? 1 : 0
}

locals {
  lf_settings = one(data.aws_lakeformation_data_lake_settings.current)
  lf_settings_problems = local.lf_settings == null ? [] : concat(
    anytrue([for p in local.lf_settings.create_database_default_permissions : p.principal == "IAM_ALLOWED_PRINCIPALS"]) ? [
      "the account's Lake Formation CreateDatabaseDefaultPermissions grant IAM_ALLOWED_PRINCIPALS, so new databases would be IAM-only"
    ] : [],
    anytrue([for p in local.lf_settings.create_table_default_permissions : p.principal == "IAM_ALLOWED_PRINCIPALS"]) ? [
      "the account's Lake Formation CreateTableDefaultPermissions grant IAM_ALLOWED_PRINCIPALS, so every table the ingest job creates would carry it and multi-dialect views over it would be refused"
    ] : [],
    var.deployer_arn != null && !contains(coalesce(local.lf_settings.admins, []), coalesce(var.deployer_arn, "-")) ? [
      "${coalesce(var.deployer_arn, "-")} (the principal running Terraform) is not a Lake Formation admin, so it cannot register the warehouse or grant permissions"
    ] : [],
  )
  lf_settings_error = "Lake Formation settings are not ready for this stack: ${join("; ", local.lf_settings_problems)}. Apply terraform/environments/account first (terraform/README.md, \"First deploy in an account\")."
}

# ---------------------------------------------------------------- Glue databases
resource "aws_glue_catalog_database" "this" {
  for_each = toset(local.glue_dbs)

  name         = each.value
  description  = "lakepipe ${var.environment}: ${contains(local.glue_table_dbs, each.value) ? "Iceberg tables" : ""}${contains(local.glue_table_dbs, each.value) && contains(local.view_dbs, each.value) ? " and " : ""}${contains(local.view_dbs, each.value) ? "multi-dialect views" : ""}"
  location_uri = contains(local.glue_table_dbs, each.value) ? "s3://${var.warehouse_bucket_name}/${var.warehouse_prefix}${each.value}/" : null
  tags         = var.tags

  lifecycle {
    precondition {
      condition     = length(local.lf_settings_problems) == 0
      error_message = local.lf_settings_error
    }
  }
}

# Role Lake Formation uses to vend credentials for the registered warehouse location (a custom role
# rather than the service-linked one, because the bucket is SSE-KMS with a customer key).
resource "aws_iam_role" "lf_data_access" {
  name = "${local.base}-lf-data-access"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lakeformation.amazonaws.com" }
      Action    = ["sts:AssumeRole", "sts:SetContext", "sts:SetSourceIdentity"]
      Condition = { StringEquals = { "aws:SourceAccount" = var.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "lf_data_access" {
  name   = "warehouse-location"
  role   = aws_iam_role.lf_data_access.id
  policy = jsonencode(local.lf_data_access_policy)
}

locals {
  lf_data_access_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WarehouseObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${var.warehouse_bucket_arn}/${var.warehouse_prefix}*"
      },
      {
        Sid       = "WarehouseList"
        Effect    = "Allow"
        Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
        Resource  = var.warehouse_bucket_arn
        Condition = { StringLike = { "s3:prefix" = ["${var.warehouse_prefix}*"] } }
      },
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"]
        Resource = var.kms_key_arn
      },
    ]
  }
}

resource "aws_lakeformation_resource" "warehouse" {
  arn                   = local.warehouse_location_arn
  role_arn              = aws_iam_role.lf_data_access.arn
  hybrid_access_enabled = false

  lifecycle {
    precondition {
      condition     = length(local.lf_settings_problems) == 0
      error_message = local.lf_settings_error
    }
  }

  depends_on = [aws_iam_role_policy.lf_data_access]
}

# ---------------------------------------------------------------- view definer role
# Lake Formation "Prerequisites for creating views": only an IAM role can define a Glue Data Catalog
# view; it is assumed by glue.amazonaws.com and lakeformation.amazonaws.com, needs iam:PassRole to
# both, Glue read/create on the catalog objects, SELECT with grant option on every base table and
# CREATE_TABLE on the view database (grants below).
resource "aws_iam_role" "definer" {
  name = "${local.base}-view-definer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DataCatalogViewDefinerAssumeRole"
      Effect    = "Allow"
      Principal = { Service = ["glue.amazonaws.com", "lakeformation.amazonaws.com"] }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "definer" {
  name   = "glue-data-catalog-views"
  role   = aws_iam_role.definer.id
  policy = jsonencode(local.definer_policy)
}

locals {
  definer_catalog_resources = concat(
    ["${local.glue_arn}:catalog"],
    [for db in local.glue_dbs : "${local.glue_arn}:database/${db}"],
    [for db in local.glue_dbs : "${local.glue_arn}:table/${db}/*"],
    var.s3tables_catalog_id == null ? [] : concat(
      ["${local.glue_arn}:catalog/s3tablescatalog", "${local.glue_arn}:catalog/${split(":", var.s3tables_catalog_id)[1]}"],
      [for ns in local.s3t_namespaces : "${local.glue_arn}:database/${split(":", var.s3tables_catalog_id)[1]}/${ns}"],
      [for ns in local.s3t_namespaces : "${local.glue_arn}:table/${split(":", var.s3tables_catalog_id)[1]}/${ns}/*"],
    ),
  )

  definer_s3tables_statements = var.s3tables_table_bucket_arn == null || length(local.s3t_namespaces) == 0 ? [] : [{
    Sid      = "S3TablesReadBaseTables"
    Effect   = "Allow"
    Action   = ["s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:GetTable", "s3tables:GetTableMetadataLocation", "s3tables:GetTableData"]
    Resource = [var.s3tables_table_bucket_arn, "${var.s3tables_table_bucket_arn}/table/*"]
  }]

  definer_policy = {
    Version = "2012-10-17"
    Statement = concat(local.definer_s3tables_statements, [
      {
        Sid    = "GlueCatalogForViews"
        Effect = "Allow"
        Action = [
          "glue:GetCatalog", "glue:GetDatabase", "glue:GetDatabases", "glue:CreateTable", "glue:UpdateTable",
          "glue:GetTable", "glue:GetTables", "glue:BatchGetPartition", "glue:GetPartition", "glue:GetPartitions",
          "glue:GetTableVersion", "glue:GetTableVersions",
        ]
        Resource = local.definer_catalog_resources
      },
      {
        # lakeformation:GetDataAccess has no resource-level permissions; Lake Formation grants scope it.
        Sid      = "LakeFormationDataAccess"
        Effect   = "Allow"
        Action   = "lakeformation:GetDataAccess"
        Resource = "*"
      },
      {
        Sid       = "PassSelfToGlueAndLakeFormation"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = aws_iam_role.definer.arn
        Condition = { StringEquals = { "iam:PassedToService" = ["glue.amazonaws.com", "lakeformation.amazonaws.com"] } }
      },
    ])
  }
}

# ---------------------------------------------------------------- Lake Formation grants
# Tables of target s3tables live in the federated catalog <account>:s3tablescatalog/<bucket>. The AWS
# provider 5.100 rejects that catalog id in aws_lakeformation_permissions (it must be 12 digits), so
# those tables use the S3 Tables integration's IAM access-control mode: the job role's IAM policy
# (modules/glue_jobs) and the definer policy above carry the s3tables and Glue permissions.
locals {
  # The ingest job creates and writes the base tables; the view job reads them and manages the views.
  ingest_database_permissions = ["CREATE_TABLE", "DESCRIBE", "ALTER"]
  ingest_table_permissions    = ["SELECT", "INSERT", "DELETE", "DESCRIBE", "ALTER"]
  view_job_view_permissions   = ["ALTER", "DROP", "DESCRIBE", "SELECT"]

  database_grants = merge(
    { for db in local.glue_table_dbs : "ingest/${db}" => {
      principal   = var.ingest_role_arn, role = "ingest", catalog_id = null, database = db
      permissions = local.ingest_database_permissions, grantable = []
    } },
    # DESCRIBE of the base tables' databases; CREATE_TABLE in the view databases.
    { for db in local.glue_dbs : "views/${db}" => {
      principal   = var.view_role_arn, role = "views", catalog_id = null, database = db
      permissions = contains(local.view_dbs, db) ? ["CREATE_TABLE", "DESCRIBE"] : ["DESCRIBE"], grantable = []
    } },
    { for db in local.view_dbs : "definer/${db}" => {
      principal   = aws_iam_role.definer.arn, role = "definer", catalog_id = null, database = db
      permissions = ["CREATE_TABLE", "DESCRIBE"], grantable = []
    } },
    { for pair in setproduct(range(length(var.analyst_principals)), local.view_dbs) : "analyst${pair[0]}/${pair[1]}" => {
      principal   = var.analyst_principals[pair[0]], role = "analyst", catalog_id = null, database = pair[1]
      permissions = ["DESCRIBE"], grantable = []
    } },
    # Athena "Considerations and limitations for querying data registered with Lake Formation": the
    # DESCRIBE permission is required on the default database. Glue creates no default database by
    # itself (Athena does on first use); the grant fails until it exists (terraform/README.md).
    { for i in range(length(var.analyst_principals)) : "analyst${i}/default" => {
      principal   = var.analyst_principals[i], role = "analyst", catalog_id = null, database = "default"
      permissions = ["DESCRIBE"], grantable = []
    } },
    { for m in local.group_members : "${m.key}/default" => {
      principal   = m.principal, role = "analyst_group", catalog_id = null, database = "default"
      permissions = ["DESCRIBE"], grantable = []
    } },
  )

  # Wildcard (all tables) grants: tables are created by the ingest job, views by the view job. Where a
  # database holds both (view_database null), the view job's grant is the union of both needs.
  table_grants = merge(
    { for db in local.glue_table_dbs : "ingest/${db}" => {
      principal   = var.ingest_role_arn, role = "ingest", catalog_id = null, database = db
      permissions = local.ingest_table_permissions, grantable = []
    } },
    { for db in local.glue_dbs : "views/${db}" => {
      principal   = var.view_role_arn, role = "views", catalog_id = null, database = db
      permissions = sort(distinct(concat(contains(local.glue_table_dbs, db) ? ["SELECT", "DESCRIBE"] : [], contains(local.view_dbs, db) ? local.view_job_view_permissions : [])))
      grantable   = []
    } },
    # SELECT with grant option on every base table (all columns) for the view definer.
    { for db in local.glue_table_dbs : "definer/${db}" => {
      principal   = aws_iam_role.definer.arn, role = "definer", catalog_id = null, database = db
      permissions = ["SELECT", "DESCRIBE"], grantable = ["SELECT", "DESCRIBE"]
    } },
    # Analysts read the views: wildcard table grants on view-only databases (analyst_principals refuses
    # datasets whose views share their table's database, where a wildcard would expose the table).
    { for pair in setproduct(range(length(var.analyst_principals)), local.view_only_dbs) : "analyst${pair[0]}/${pair[1]}" => {
      principal   = var.analyst_principals[pair[0]], role = "analyst", catalog_id = null, database = pair[1]
      permissions = ["SELECT", "DESCRIBE"], grantable = []
    } },
  )
}

# The ingest job creates tables under the registered warehouse location.
resource "aws_lakeformation_permissions" "ingest_data_location" {
  principal   = var.ingest_role_arn
  permissions = ["DATA_LOCATION_ACCESS"]

  data_location {
    arn = aws_lakeformation_resource.warehouse.arn
  }
}

resource "aws_lakeformation_permissions" "database" {
  for_each = local.database_grants

  principal                     = each.value.principal
  permissions                   = each.value.permissions
  permissions_with_grant_option = each.value.grantable

  database {
    name       = contains(local.glue_dbs, each.value.database) ? aws_glue_catalog_database.this[each.value.database].name : each.value.database
    catalog_id = each.value.catalog_id
  }
}

resource "aws_lakeformation_permissions" "tables" {
  for_each = local.table_grants

  principal                     = each.value.principal
  permissions                   = each.value.permissions
  permissions_with_grant_option = each.value.grantable

  table {
    database_name = each.value.catalog_id == null ? aws_glue_catalog_database.this[each.value.database].name : each.value.database
    catalog_id    = each.value.catalog_id
    wildcard      = true
  }
}

moved {
  from = aws_lakeformation_permissions.job_data_location
  to   = aws_lakeformation_permissions.ingest_data_location
}

# ---------------------------------------------------------------- analyst groups (fine-grained access)
# A dataset's analyst_groups (datasets/*.json) say what a group reads; var.analyst_groups says who is in
# it in this environment. A group with members gets a Lake Formation data cells filter on the base table
# (rows whose split value is one of its split_values, every column but its excluded_columns: Lake
# Formation "Data filters in Lake Formation"), SELECT on that filter, and SELECT/DESCRIBE on exactly the
# views of its split values. Both need the objects to exist (Lake Formation refuses grants on a table
# or view it does not know): the base table appears at the dataset's first load, a view at the first
# load holding its value, so members are added by an apply after those loads. A view of a value no group
# declares is granted to no group (analyst_principals see whole view databases).
locals {
  # lakepipe.naming.slugify for printable ASCII (the schema's split_values pattern): lowercase, each run of
  # other characters one "_", trimmed. A view keeps view_prefix + slug unless the name would be shortened
  # or two values share the slug (then naming adds a hash); analyst_group_problems refuses both for the
  # declared values (lakepipe.spec.analyst_group_errors refuses the same). A declared value owns its plain
  # name: an undeclared value of the same slug in the data gets the hashed one (view_names(declared=)).
  analyst_groups = { for pair in flatten([for d in var.datasets : [for g in d.analyst_groups : {
    key     = "${d.name}/${g.name}"
    dataset = d
    group   = g
    slugs   = [for v in g.split_values : trim(replace(lower(v), "/[^a-z0-9]+/", "_"), "_")]
    }]]) : pair.key => {
    dataset          = pair.dataset.name
    database         = pair.dataset.database
    table            = pair.dataset.table
    name             = pair.group.name
    view_database    = coalesce(pair.dataset.view_database, pair.dataset.database)
    views            = [for slug in pair.slugs : "${pair.dataset.view_prefix}${slug}"]
    excluded_columns = pair.group.excluded_columns
    members          = lookup(var.analyst_groups, pair.group.name, [])
    # PartiQL string literals: single quotes, a quote inside doubled (Lake Formation "PartiQL support in
    # row filter expressions"); the schema limits values to printable ASCII and split_column to an identifier.
    row_filter = "${pair.dataset.split_column} IN (${join(", ", [for v in pair.group.split_values : format("'%s'", replace(v, "'", "''"))])})"
  } }

  analyst_group_problems = flatten([for d in var.datasets : length(d.analyst_groups) == 0 ? [] : concat(
    d.target == "glue" ? [] : ["${d.name}: analyst groups need target glue (provider 5.100 cannot grant in the S3 Tables catalog)"],
    length(distinct([for g in d.analyst_groups : g.name])) == length(d.analyst_groups) ? [] : ["${d.name}: analyst group names repeat"],
    [for slug, values in { for v in distinct(flatten([for g in d.analyst_groups : g.split_values])) : trim(replace(lower(v), "/[^a-z0-9]+/", "_"), "_") => v... } :
      "${d.name}: split values ${jsonencode(values)} have no view name of their own" if slug == "" || length(values) > 1 || length(d.view_prefix) + length(slug) > 128
    ],
    # Views are read with the definer's rights, so a column they read reaches the group whatever its
    # filter excludes (lakepipe.viewsql: split and id columns, key values as column names, value cells).
    [for g in d.analyst_groups : "dataset ${d.name} group ${g.name} excludes ${join(", ", sort(setintersection(g.excluded_columns, concat([d.split_column, d.key_column, d.value_column], d.id_columns))))}, which its views show (views are read with the definer's rights; only columns no view reads, such as the lakepipe_* ingestion metadata, can be excluded)"
      if length(setintersection(g.excluded_columns, concat([d.split_column, d.key_column, d.value_column], d.id_columns))) > 0
    ],
  )])

  # Groups with members in this environment, and one entry per (group, member).
  member_groups = { for k, g in local.analyst_groups : k => g if length(g.members) > 0 }
  group_members = flatten([for k, g in local.member_groups : [for i in range(length(g.members)) : {
    key = "${k}/${i}", group = k, principal = g.members[i]
  }]])
}

resource "aws_lakeformation_data_cells_filter" "analyst_group" {
  for_each = local.member_groups

  table_data {
    database_name    = aws_glue_catalog_database.this[each.value.database].name
    table_name       = each.value.table
    name             = each.value.name
    table_catalog_id = var.account_id

    column_wildcard {
      excluded_column_names = each.value.excluded_columns
    }
    row_filter {
      filter_expression = each.value.row_filter
    }
  }
}

resource "aws_lakeformation_permissions" "analyst_group_filter" {
  for_each = { for m in local.group_members : m.key => m }

  principal   = each.value.principal
  permissions = ["SELECT"]

  data_cells_filter {
    database_name    = aws_lakeformation_data_cells_filter.analyst_group[each.value.group].table_data[0].database_name
    table_name       = aws_lakeformation_data_cells_filter.analyst_group[each.value.group].table_data[0].table_name
    name             = aws_lakeformation_data_cells_filter.analyst_group[each.value.group].table_data[0].name
    table_catalog_id = var.account_id
  }
}

resource "aws_lakeformation_permissions" "analyst_group_view" {
  for_each = { for pair in flatten([for m in local.group_members : [for view in local.member_groups[m.group].views : {
    key = "${m.key}/${view}", principal = m.principal, database = local.member_groups[m.group].view_database, view = view
  }]]) : pair.key => pair }

  principal   = each.value.principal
  permissions = ["SELECT", "DESCRIBE"]

  table {
    database_name = aws_glue_catalog_database.this[each.value.database].name
    name          = each.value.view
  }
}
