output "state_machine_arn" {
  description = "ARN of the pipeline state machine (the trigger's STATE_MACHINE_ARN)."
  value       = aws_sfn_state_machine.pipeline.arn
}

output "state_machine_name" {
  description = "Name of the pipeline state machine."
  value       = aws_sfn_state_machine.pipeline.name
}

output "definition" {
  description = "The rendered state machine definition (JSON)."
  value       = local.definition
}

output "failure_topic_arn" {
  description = "ARN of the SNS topic that receives failed runs and alarms."
  value       = aws_sns_topic.failures.arn
}

output "run_recorder_function_arn" {
  description = "ARN of the run recorder Lambda."
  value       = module.recorder.function_arn
}

output "run_recorder_function_name" {
  description = "Name of the run recorder Lambda."
  value       = module.recorder.function_name
}

output "failed_alarm_name" {
  description = "Name of the failed-executions alarm."
  value       = aws_cloudwatch_metric_alarm.failed.alarm_name
}

output "role_arn" {
  description = "ARN of the state machine's role."
  value       = aws_iam_role.state_machine.arn
}
