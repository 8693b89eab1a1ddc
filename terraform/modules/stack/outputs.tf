output "datasets" {
  description = "Dataset names deployed."
  value       = [for d in local.datasets : d.name]
}

output "dataset_specs" {
  description = "The deployed dataset specs (schema defaults applied), as the trigger Lambda gets them."
  value       = local.datasets
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

output "dataset_raw_prefixes" {
  description = "Raw (landing) prefix in the raw bucket, by dataset name."
  value       = { for d in local.datasets : d.name => d.raw_prefix }
}

output "state_machine_name" {
  description = "Pipeline state machine name."
  value       = module.pipeline.state_machine_name
}

output "run_recorder_function_name" {
  description = "Run recorder Lambda name."
  value       = module.pipeline.run_recorder_function_name
}

output "runs_location" {
  description = "S3 URI under which the jobs and the run recorder write reports and run records."
  value       = module.glue_jobs.runs_location
}

output "athena_output_location" {
  description = "Athena workgroup result location."
  value       = module.athena.output_location
}

output "ingest_role_arn" {
  description = "IAM role of the ingest Glue job."
  value       = module.glue_jobs.ingest_role_arn
}

output "view_role_arn" {
  description = "IAM role of the view Glue job."
  value       = module.glue_jobs.view_role_arn
}

output "analyst_policy_arn" {
  description = "IAM policy analysts need to query the views in the stack's Athena workgroup (Lake Formation grants via analyst_principals)."
  value       = module.athena.analyst_policy_arn
}

output "monitoring" {
  description = "The environment's CloudWatch dashboard, its alarms by kind and the jobs' metrics namespace."
  value = {
    dashboard_name    = module.monitoring.dashboard_name
    alarm_names       = module.monitoring.alarm_names
    metrics_namespace = module.monitoring.metrics_namespace
  }
}

output "maintenance_state_machine_arn" {
  description = "Table maintenance state machine ARN (the schedule starts it; by hand: the maintenance_schedule_input output as input)."
  value       = module.maintenance.state_machine_arn
}

output "maintenance_schedule_input" {
  description = "The input the maintenance schedule starts the state machine with."
  value       = module.maintenance.schedule_input
}

output "maintenance_job_name" {
  description = "Table maintenance Glue job name."
  value       = module.maintenance.job_name
}
