mock_provider "aws" {
  mock_resource "aws_s3tables_table_bucket" {
    defaults = { arn = "arn:aws:s3tables:eu-west-1:123456789012:bucket/lakepipe-dev-tables" }
  }
}

variables {
  environment = "dev"
  account_id  = "123456789012"
  namespaces  = ["lake_tables", "finance"]
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "table_bucket_is_kms_encrypted_with_maintenance" {
  command = apply

  assert {
    condition     = aws_s3tables_table_bucket.this.name == "lakepipe-dev-tables"
    error_message = "Default table bucket name must be <prefix>-<env>-tables."
  }
  assert {
    condition     = aws_s3tables_table_bucket.this.encryption_configuration.sse_algorithm == "aws:kms" && aws_s3tables_table_bucket.this.encryption_configuration.kms_key_arn == var.kms_key_arn
    error_message = "The table bucket must use SSE-KMS with the given key."
  }
  assert {
    condition     = aws_s3tables_table_bucket.this.maintenance_configuration.iceberg_unreferenced_file_removal.status == "enabled" && aws_s3tables_table_bucket.this.maintenance_configuration.iceberg_unreferenced_file_removal.settings.non_current_days == 10
    error_message = "Unreferenced file removal must be enabled with the configured days."
  }
  assert {
    condition     = output.namespaces == tolist(["finance", "lake_tables"])
    error_message = "One namespace per requested name."
  }
  assert {
    condition     = output.glue_catalog_id == "123456789012:s3tablescatalog/lakepipe-dev-tables"
    error_message = "glue_catalog_id must be <account>:s3tablescatalog/<bucket>."
  }
}

run "no_namespaces_is_allowed" {
  command = plan
  variables {
    namespaces = []
  }
  assert {
    condition     = length(aws_s3tables_namespace.this) == 0
    error_message = "An empty namespace list creates only the bucket."
  }
}

run "bad_namespace_is_rejected" {
  command = plan
  variables {
    namespaces = ["Bad-Name"]
  }
  expect_failures = [var.namespaces]
}

run "bad_kms_key_is_rejected" {
  command = plan
  variables {
    kms_key_arn = "alias/foo"
  }
  expect_failures = [var.kms_key_arn]
}
