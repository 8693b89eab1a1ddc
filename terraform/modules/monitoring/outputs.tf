output "dashboard_name" {
  description = "Name of the environment's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_arn" {
  description = "ARN of the environment's CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_arn
}

output "alarm_names" {
  description = "Names of the module's alarms by kind: lambda_errors and lambda_throttles (by function label), glue_job_failed (by job label), reject_ratio and no_successful_run (by dataset)."
  value = {
    lambda_errors     = { for k, a in aws_cloudwatch_metric_alarm.lambda_errors : k => a.alarm_name }
    lambda_throttles  = { for k, a in aws_cloudwatch_metric_alarm.lambda_throttles : k => a.alarm_name }
    glue_job_failed   = { for k, a in aws_cloudwatch_metric_alarm.glue_job_failed : k => a.alarm_name }
    reject_ratio      = { for k, a in aws_cloudwatch_metric_alarm.reject_ratio : k => a.alarm_name }
    no_successful_run = { for k, a in aws_cloudwatch_metric_alarm.no_successful_run : k => a.alarm_name }
  }
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the jobs' custom metrics (dimension Dataset)."
  value       = var.metrics_namespace
}
