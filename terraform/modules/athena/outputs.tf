output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.this.name
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = aws_athena_workgroup.this.arn
}

output "output_location" {
  description = "Enforced query result location."
  value       = "s3://${var.results_bucket_name}/${var.results_prefix}"
}

output "analyst_policy_arn" {
  description = "ARN of the IAM policy analysts need to query the views in this workgroup (attach to analyst roles, users or groups)."
  value       = aws_iam_policy.analyst.arn
}

output "analyst_policy" {
  description = "The analyst policy document (decoded), for tests and reviews."
  value       = local.analyst_policy
}
