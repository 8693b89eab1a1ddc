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
