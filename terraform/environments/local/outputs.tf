output "dataset_specs" {
  description = "The deployed dataset specs (tools/local_lake.py uploads under their raw prefixes)."
  value       = module.stack.dataset_specs
}

output "datasets" {
  description = "Dataset names deployed."
  value       = module.stack.datasets
}

output "bucket_names" {
  description = "Bucket names by role."
  value       = module.stack.bucket_names
}

output "kms_key_arn" {
  description = "Lake KMS key ARN."
  value       = module.stack.kms_key_arn
}

output "table_bucket_arn" {
  description = "S3 table bucket ARN (null when S3 Tables are not in use)."
  value       = module.stack.table_bucket_arn
}

output "glue_databases" {
  description = "Glue databases."
  value       = module.stack.glue_databases
}

output "glue_job_names" {
  description = "Ingest and view Glue job names."
  value       = module.stack.glue_job_names
}

output "state_machine_arn" {
  description = "Pipeline state machine ARN."
  value       = module.stack.state_machine_arn
}

output "failure_topic_arn" {
  description = "SNS topic for failed runs."
  value       = module.stack.failure_topic_arn
}

output "trigger_function_name" {
  description = "S3 trigger Lambda name."
  value       = module.stack.trigger_function_name
}

output "trigger_dead_letter_queue_url" {
  description = "Dead-letter queue of the trigger."
  value       = module.stack.trigger_dead_letter_queue_url
}

output "athena_workgroup" {
  description = "Athena workgroup name."
  value       = module.stack.athena_workgroup
}

output "dataset_raw_prefixes" {
  description = "Raw (landing) prefix in the raw bucket, by dataset name."
  value       = module.stack.dataset_raw_prefixes
}

output "state_machine_name" {
  description = "Pipeline state machine name."
  value       = module.stack.state_machine_name
}

output "run_recorder_function_name" {
  description = "Run recorder Lambda name."
  value       = module.stack.run_recorder_function_name
}

output "runs_location" {
  description = "S3 URI under which the jobs and the run recorder write reports and run records."
  value       = module.stack.runs_location
}

output "athena_output_location" {
  description = "Athena workgroup result location."
  value       = module.stack.athena_output_location
}

output "ingest_role_arn" {
  description = "IAM role of the ingest Glue job."
  value       = module.stack.ingest_role_arn
}

output "view_role_arn" {
  description = "IAM role of the view Glue job."
  value       = module.stack.view_role_arn
}

output "analyst_policy_arn" {
  description = "IAM policy analysts need to query the views in the stack's Athena workgroup."
  value       = module.stack.analyst_policy_arn
}

output "analyst_role_arn" {
  description = "The local account's analyst role (granted like analyst_principals; the e2e tests query as it)."
  value       = aws_iam_role.analyst.arn
}
