output "kms_key_arn" {
  description = "ARN of the lake KMS key (S3, S3 Tables, Glue, logs, SNS, SQS, Lambda)."
  value       = aws_kms_key.lake.arn
}

output "kms_key_id" {
  description = "ID of the lake KMS key."
  value       = aws_kms_key.lake.key_id
}

output "bucket_names" {
  description = "Bucket names by role: raw, warehouse, artifacts, athena_results, access_logs."
  value       = merge({ for k, b in aws_s3_bucket.data : k => b.bucket }, { access_logs = aws_s3_bucket.access_logs.bucket })
}

output "bucket_arns" {
  description = "Bucket ARNs by role: raw, warehouse, artifacts, athena_results, access_logs."
  value       = merge({ for k, b in aws_s3_bucket.data : k => b.arn }, { access_logs = aws_s3_bucket.access_logs.arn })
}

output "raw_bucket_name" {
  description = "Raw (landing) bucket name."
  value       = aws_s3_bucket.data["raw"].bucket
}

output "raw_bucket_arn" {
  description = "Raw (landing) bucket ARN."
  value       = aws_s3_bucket.data["raw"].arn
}

output "warehouse_bucket_name" {
  description = "Iceberg warehouse bucket name (target glue)."
  value       = aws_s3_bucket.data["warehouse"].bucket
}

output "warehouse_bucket_arn" {
  description = "Iceberg warehouse bucket ARN."
  value       = aws_s3_bucket.data["warehouse"].arn
}

output "artifacts_bucket_name" {
  description = "Artifacts bucket name (Glue scripts and packages, run records under runs/)."
  value       = aws_s3_bucket.data["artifacts"].bucket
}

output "artifacts_bucket_arn" {
  description = "Artifacts bucket ARN."
  value       = aws_s3_bucket.data["artifacts"].arn
}

output "athena_results_bucket_name" {
  description = "Athena query results bucket name."
  value       = aws_s3_bucket.data["athena_results"].bucket
}

output "athena_results_bucket_arn" {
  description = "Athena query results bucket ARN."
  value       = aws_s3_bucket.data["athena_results"].arn
}

output "rejects_prefix" {
  description = "Prefix of rejected rows in the raw bucket."
  value       = var.rejects_prefix
}

output "staging_prefix" {
  description = "Prefix in the raw bucket of the ingest job's per-run staged source copies."
  value       = var.staging_prefix
}

output "bucket_policies" {
  description = "Bucket policy documents by bucket role (decoded), for tests and reviews."
  value       = local.bucket_policies
}
