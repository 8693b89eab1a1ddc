mock_provider "aws" {}

variables {
  environment         = "dev"
  account_id          = "123456789012"
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
