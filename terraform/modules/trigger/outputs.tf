output "function_name" {
  description = "Name of the S3 trigger Lambda."
  value       = module.function.function_name
}

output "function_arn" {
  description = "ARN of the S3 trigger Lambda."
  value       = module.function.function_arn
}

output "role_arn" {
  description = "ARN of the trigger's execution role."
  value       = module.function.role_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue for events the trigger could not handle."
  value       = aws_sqs_queue.dlq.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dlq.url
}

output "notification_filters" {
  description = "Notification filters by dataset name: {prefix} (no suffix filter: the trigger checks the .csv extension in any case)."
  value       = { for k, p in local.notifications : k => { prefix = p } }
}

output "datasets_uri" {
  description = "s3:// URI of the dataset specs object the trigger reads (DATASETS_URI; content-addressed by sha256)."
  value       = "s3://${aws_s3_object.datasets.bucket}/${aws_s3_object.datasets.key}"
}
