mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555" }
  }
}

variables {
  region      = "eu-west-1"
  environment = "dev"
  account_id  = "123456789012"
  datasets = [
    { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" },
    { name = "regulatory", raw_prefix = "incoming/regulatory/", target = "glue", database = "lake", table = "regulatory_reports", view_database = null, split_column = "seriesid", id_columns = ["aod"], key_column = "key", value_column = "value", view_prefix = "report_view_" },
  ]
}

run "buckets_are_private_encrypted_versioned_and_tls_only" {
  command = apply

  assert {
    condition     = length(aws_s3_bucket.data) == 4 && alltrue([for k in ["raw", "warehouse", "artifacts", "athena_results"] : contains(keys(aws_s3_bucket.data), k)])
    error_message = "Expected raw, warehouse, artifacts and athena_results buckets."
  }
  assert {
    condition = alltrue([for b in concat(values(aws_s3_bucket_public_access_block.data), [aws_s3_bucket_public_access_block.access_logs]) :
    b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "Every bucket must block all public access."
  }
  assert {
    condition = alltrue([for k, p in local.bucket_policies : anytrue([for s in p.Statement :
      s.Effect == "Deny" && s.Principal == "*" && s.Action == "s3:*" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
    ])]) && length(local.bucket_policies) == 5
    error_message = "Every bucket (including access logs) must deny non-TLS requests."
  }
  assert {
    condition     = alltrue([for k, p in aws_s3_bucket_policy.data : jsondecode(p.policy).Statement[0].Sid == "DenyInsecureTransport"])
    error_message = "The applied bucket policies must carry the TLS-only statement."
  }
  assert {
    condition = alltrue([for c in values(aws_s3_bucket_server_side_encryption_configuration.data) :
    one(one(c.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(c.rule).apply_server_side_encryption_by_default).kms_master_key_id == aws_kms_key.lake.arn])
    error_message = "Data buckets must use SSE-KMS with the lake key."
  }
  assert {
    condition     = alltrue([for v in values(aws_s3_bucket_versioning.data) : one(v.versioning_configuration).status == "Enabled"])
    error_message = "Versioning must be enabled."
  }
  assert {
    condition     = aws_kms_key.lake.enable_key_rotation
    error_message = "The lake key must rotate."
  }
  assert {
    condition     = alltrue([for b in values(aws_s3_bucket.data) : !b.force_destroy])
    error_message = "force_destroy must default to false."
  }
  assert {
    condition     = !strcontains(jsonencode(local.bucket_policies), "\"Effect\":\"Allow\",\"Principal\":\"*\"")
    error_message = "No bucket policy may allow everyone."
  }
}

run "lifecycle_rules_cover_raw_rejects_and_results" {
  command = apply

  assert {
    condition     = toset([for r in aws_s3_bucket_lifecycle_configuration.data["raw"].rule : one(r.filter).prefix if one(r.expiration) != null]) == toset(["incoming/entities/", "incoming/regulatory/", "rejects/", "staging/"])
    error_message = "Raw landing prefixes, rejects/ and staging/ need expiring lifecycle rules."
  }
  assert {
    condition = one([for r in aws_s3_bucket_lifecycle_configuration.data["raw"].rule : [one(r.expiration).days, one(r.noncurrent_version_expiration).noncurrent_days]
    if one(r.filter).prefix == "staging/" && r.status == "Enabled"]) == [1, 1]
    error_message = "Staged source copies (and their noncurrent versions) must expire after 1 day."
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.data["athena_results"].rule : one(r.expiration).days if r.id == "query-results"]) == 7
    error_message = "Athena query results must expire after query_results_retention_days."
  }
  assert {
    condition = alltrue([for c in values(aws_s3_bucket_lifecycle_configuration.data) : anytrue([for r in c.rule :
    one(r.filter).prefix == "" && length(r.abort_incomplete_multipart_upload) == 1 && try(one(r.abort_incomplete_multipart_upload).days_after_initiation, 0) == 7])])
    error_message = "Every bucket needs a whole-bucket rule aborting incomplete multipart uploads."
  }
  assert {
    # Iceberg tables reference their files until table maintenance expires them (lakepipe.maintenance): a
    # lifecycle rule expiring current objects in the warehouse would delete live table files.
    condition     = alltrue([for r in aws_s3_bucket_lifecycle_configuration.data["warehouse"].rule : length(r.expiration) == 0])
    error_message = "No lifecycle rule may expire current objects in the warehouse (live Iceberg table files)."
  }
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = "production!"
  }
  expect_failures = [var.environment]
}

run "empty_dataset_list_is_rejected" {
  command = plan
  variables {
    datasets = []
  }
  expect_failures = [var.datasets]
}

run "staging_prefix_overlapping_a_dataset_prefix_is_rejected" {
  command = plan
  variables {
    staging_prefix = "incoming/"
  }
  expect_failures = [var.staging_prefix]
}

run "dataset_prefix_under_the_staging_prefix_is_rejected" {
  command = plan
  variables {
    datasets = [{ name = "entities", raw_prefix = "staging/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" }]
  }
  expect_failures = [var.staging_prefix]
}

run "staging_prefix_equal_to_rejects_prefix_is_rejected" {
  command = plan
  variables {
    staging_prefix = "rejects/"
  }
  expect_failures = [var.staging_prefix]
}

run "dataset_prefix_under_the_rejects_prefix_is_rejected" {
  command = plan
  variables {
    datasets = [{ name = "entities", raw_prefix = "rejects/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2"], key_column = "key", value_column = "value", view_prefix = "entity_view_" }]
  }
  expect_failures = [var.rejects_prefix]
}
