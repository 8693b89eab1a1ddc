output "ingest_role_arn" {
  description = "ARN of the ingest job's role (gets the table databases' Lake Formation grants in modules/catalog)."
  value       = aws_iam_role.ingest.arn
}

output "ingest_role_name" {
  description = "Name of the ingest job's role."
  value       = aws_iam_role.ingest.name
}

output "view_role_arn" {
  description = "ARN of the view job's role (gets the base-table read and view databases' Lake Formation grants in modules/catalog)."
  value       = aws_iam_role.views.arn
}

output "view_role_name" {
  description = "Name of the view job's role."
  value       = aws_iam_role.views.name
}

output "ingest_job_name" {
  description = "Name of the ingest Glue job."
  value       = aws_glue_job.ingest.name
}

output "view_job_name" {
  description = "Name of the view Glue job."
  value       = aws_glue_job.views.name
}

output "ingest_job_arn" {
  description = "ARN of the ingest Glue job."
  value       = "${local.glue_arn}:job/${aws_glue_job.ingest.name}"
}

output "view_job_arn" {
  description = "ARN of the view Glue job."
  value       = "${local.glue_arn}:job/${aws_glue_job.views.name}"
}

output "spark_conf" {
  description = "The packed --conf value of both jobs."
  value       = local.spark_conf
}

output "runs_location" {
  description = "s3:// URI of the run records and job reports."
  value       = local.common_arguments["--runs_location"]
}

output "rejects_location" {
  description = "s3:// URI of the rejected rows."
  value       = local.ingest_arguments["--rejects_location"]
}

output "staging_location" {
  description = "s3:// URI under which the ingest job stages the exact source version it reads."
  value       = local.ingest_arguments["--staging_location"]
}

output "log_group_name" {
  description = "CloudWatch log group of the jobs' continuous logging."
  value       = aws_cloudwatch_log_group.jobs.name
}

output "security_configuration_name" {
  description = "Glue security configuration of the jobs."
  value       = aws_glue_security_configuration.this.name
}

output "package_s3_uri" {
  description = "s3:// URI of the uploaded lakepipe package (content-addressed)."
  value       = "s3://${var.artifacts_bucket_name}/${aws_s3_object.package.key}"
}

output "maintenance_job_arguments" {
  description = "Default arguments of the maintenance job (modules/maintenance), rendered from job_arguments.json like the others."
  value       = local.maintenance_arguments
}
