output "job_name" {
  description = "Name of the maintenance Glue job."
  value       = aws_glue_job.maintenance.name
}

output "job_role_arn" {
  description = "ARN of the maintenance job's role."
  value       = aws_iam_role.job.arn
}

output "state_machine_arn" {
  description = "ARN of the maintenance state machine (start it by hand with the schedule's input)."
  value       = aws_sfn_state_machine.maintenance.arn
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule that starts the maintenance runs."
  value       = aws_scheduler_schedule.maintenance.name
}

output "schedule_input" {
  description = "The input the schedule starts the state machine with: settings and one entry per dataset."
  value       = local.schedule_input
}
