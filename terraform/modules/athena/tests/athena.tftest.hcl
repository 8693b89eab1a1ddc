mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_athena_workgroup" {
    defaults = { arn = "arn:aws:athena:eu-west-1:123456789012:workgroup/lakepipe-dev" }
  }
  mock_resource "aws_iam_policy" {
    defaults = { arn = "arn:aws:iam::123456789012:policy/lakepipe-dev-analyst" }
  }
}

variables {
  environment         = "dev"
  account_id          = "123456789012"
  region              = "eu-west-1"
  view_databases      = ["lake_views"]
  results_bucket_name = "lakepipe-dev-athena"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "workgroup_enforces_encrypted_results_and_a_scan_limit" {
  command = apply

  assert {
    condition     = one(aws_athena_workgroup.this.configuration).enforce_workgroup_configuration
    error_message = "The workgroup configuration must be enforced."
  }
  assert {
    condition     = one(one(aws_athena_workgroup.this.configuration).result_configuration).output_location == "s3://lakepipe-dev-athena/athena/"
    error_message = "Results go to the results bucket."
  }
  assert {
    condition     = one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).encryption_option == "SSE_KMS" && one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).kms_key_arn == var.kms_key_arn
    error_message = "Results must be SSE-KMS encrypted with the lake key."
  }
  assert {
    condition     = one(aws_athena_workgroup.this.configuration).bytes_scanned_cutoff_per_query == 10737418240
    error_message = "A per-query bytes-scanned limit must be set."
  }
}

run "too_small_scan_limit_is_rejected" {
  command = plan
  variables {
    bytes_scanned_cutoff_per_query = 1024
  }
  expect_failures = [var.bytes_scanned_cutoff_per_query]
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = "test"
  }
  expect_failures = [var.environment]
}

# Issue 9 item 4: the IAM half of analyst access (Lake Formation grants are in modules/catalog).
run "analyst_policy_queries_this_workgroup_and_reads_only_views" {
  command = apply

  variables {
    analyst_role_names = ["data-analyst", "bi-tool"]
  }

  assert {
    condition     = one([for s in output.analyst_policy.Statement : s if s.Sid == "QueryInThisWorkgroup"]).Resource == aws_athena_workgroup.this.arn && contains(one([for s in output.analyst_policy.Statement : s if s.Sid == "QueryInThisWorkgroup"]).Action, "athena:StartQueryExecution")
    error_message = "Athena query actions on the stack's workgroup only."
  }
  assert {
    condition = toset(one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadViews"]).Resource) == toset([
      "arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/default",
      "arn:aws:glue:eu-west-1:123456789012:database/lake_views", "arn:aws:glue:eu-west-1:123456789012:table/lake_views/*",
    ]) && alltrue([for a in one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadViews"]).Action : startswith(a, "glue:Get") || startswith(a, "glue:BatchGet")])
    error_message = "Glue read only: the catalog, default (Athena) and the view databases with their views, not the base tables."
  }
  assert {
    condition     = one([for s in output.analyst_policy.Statement : s if s.Sid == "LakeFormationDataAccess"]).Action == "lakeformation:GetDataAccess"
    error_message = "Athena over Lake Formation data needs lakeformation:GetDataAccess."
  }
  assert {
    condition     = one([for s in output.analyst_policy.Statement : s if s.Sid == "QueryResults"]).Resource == "arn:aws:s3:::lakepipe-dev-athena/athena/*" && one([for s in output.analyst_policy.Statement : s if s.Sid == "ListQueryResults"]).Condition.StringLike["s3:prefix"] == ["athena/*"]
    error_message = "S3 read/write only under the workgroup's results prefix."
  }
  assert {
    condition     = one([for s in output.analyst_policy.Statement : s if s.Sid == "LakeKey"]).Resource == var.kms_key_arn && toset(one([for s in output.analyst_policy.Statement : s if s.Sid == "LakeKey"]).Action) == toset(["kms:Decrypt", "kms:GenerateDataKey"])
    error_message = "Decrypt and generate data keys of the lake key (SSE-KMS results)."
  }
  assert {
    condition     = alltrue([for s in output.analyst_policy.Statement : s.Resource != "*" || s.Action == "lakeformation:GetDataAccess"])
    error_message = "Resource * only for lakeformation:GetDataAccess (no resource-level permissions)."
  }
  assert {
    condition     = toset(keys(aws_iam_role_policy_attachment.analyst)) == toset(["data-analyst", "bi-tool"]) && alltrue([for a in aws_iam_role_policy_attachment.analyst : a.policy_arn == output.analyst_policy_arn])
    error_message = "The policy is attached to every given role name."
  }
}

# Issue 13 part 3: an analyst group member reads the base table through its data cells filter; Athena reads
# that table's Glue metadata with the member's identity, so IAM must allow exactly those tables.
run "analyst_groups_read_the_metadata_of_exactly_their_filtered_tables" {
  command = apply

  variables {
    filtered_tables = [
      { database = "lake", table = "entities" }, { database = "lake", table = "entities" },
      { database = "finance", table = "ledger" },
    ]
  }

  assert {
    condition = toset(one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadFilteredTables"]).Resource) == toset([
      "arn:aws:glue:eu-west-1:123456789012:database/lake", "arn:aws:glue:eu-west-1:123456789012:table/lake/entities",
      "arn:aws:glue:eu-west-1:123456789012:database/finance", "arn:aws:glue:eu-west-1:123456789012:table/finance/ledger",
    ]) && length(one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadFilteredTables"]).Resource) == 4
    error_message = "Glue metadata of exactly the filtered tables and their databases, each once (no table/<db>/*)."
  }
  assert {
    condition     = toset(one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadFilteredTables"]).Action) == toset(["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"])
    error_message = "Read of the named tables only: GetTables would list the whole base database."
  }
  assert {
    condition     = toset(one([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadViews"]).Resource) == toset(["arn:aws:glue:eu-west-1:123456789012:catalog", "arn:aws:glue:eu-west-1:123456789012:database/default", "arn:aws:glue:eu-west-1:123456789012:database/lake_views", "arn:aws:glue:eu-west-1:123456789012:table/lake_views/*"])
    error_message = "The views statement is unchanged (the catalog ARN, which GetTable also needs, is there)."
  }
}

run "without_filtered_tables_no_base_table_is_readable" {
  command = plan

  assert {
    condition     = length([for s in output.analyst_policy.Statement : s if s.Sid == "GlueReadFilteredTables"]) == 0
    error_message = "No analyst group with members: the policy names no base table (IAM refuses an empty Resource list)."
  }
}
