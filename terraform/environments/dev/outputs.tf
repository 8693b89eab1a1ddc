output "datasets" {
  description = "Dataset names deployed."
  value       = [for d in local.datasets : d.name]
}

output "bucket_names" {
  description = "Bucket names by role."
  value       = module.storage.bucket_names
}

output "kms_key_arn" {
  description = "Lake KMS key ARN."
  value       = module.storage.kms_key_arn
}

output "table_bucket_arn" {
  description = "S3 table bucket ARN (null when S3 Tables are not in use)."
  value       = local.s3tables_in_use ? module.s3tables[0].table_bucket_arn : null
}

output "glue_databases" {
  description = "Glue databases."
  value       = module.catalog.database_names
}

output "glue_job_names" {
  description = "Ingest and view Glue job names."
  value       = { ingest = module.glue_jobs.ingest_job_name, views = module.glue_jobs.view_job_name }
}

output "state_machine_arn" {
  description = "Pipeline state machine ARN."
  value       = module.pipeline.state_machine_arn
}

output "failure_topic_arn" {
  description = "SNS topic for failed runs."
  value       = module.pipeline.failure_topic_arn
}

output "trigger_function_name" {
  description = "S3 trigger Lambda name."
  value       = module.trigger.function_name
}

output "trigger_dead_letter_queue_url" {
  description = "Dead-letter queue of the trigger."
  value       = module.trigger.dead_letter_queue_url
}

output "athena_workgroup" {
  description = "Athena workgroup name."
  value       = module.athena.workgroup_name
}
