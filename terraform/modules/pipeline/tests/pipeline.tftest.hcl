mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-pipeline" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-dev-run-recorder" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:lakepipe-dev-pipeline-failures" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:lakepipe" }
  }
  mock_resource "aws_sfn_state_machine" {
    defaults = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakepipe-dev-pipeline" }
  }
}

variables {
  region                = "eu-west-1"
  environment           = "dev"
  account_id            = "123456789012"
  ingest_job_name       = "lakepipe-dev-ingest"
  view_job_name         = "lakepipe-dev-views"
  lambda_zip_path       = "tests/fixtures/lakepipe_lambda.zip"
  artifacts_bucket_name = "lakepipe-dev-artifacts"
  artifacts_bucket_arn  = "arn:aws:s3:::lakepipe-dev-artifacts"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
}

run "definition_is_valid_json_naming_jobs_recorder_and_topic" {
  command = apply

  assert {
    condition     = can(jsondecode(aws_sfn_state_machine.pipeline.definition))
    error_message = "The rendered definition must be valid JSON."
  }
  assert {
    condition     = jsondecode(local.definition).States.Ingest.Parameters.JobName == "lakepipe-dev-ingest" && jsondecode(local.definition).States.BuildViews.Parameters.JobName == "lakepipe-dev-views"
    error_message = "Both Glue jobs must be named in the definition."
  }
  assert {
    condition     = jsondecode(local.definition).States.NotifyFailure.Parameters.TopicArn == aws_sns_topic.failures.arn
    error_message = "The failure topic must be named in the definition."
  }
  assert {
    condition     = jsondecode(local.definition).States.RecordSuccess.Parameters.FunctionName == module.recorder.function_arn && jsondecode(local.definition).States.RecordFailure.Parameters.FunctionName == module.recorder.function_arn
    error_message = "Both record states must call the run recorder."
  }
  assert {
    condition     = jsondecode(local.definition).States.Ingest.Resource == "arn:aws:states:::glue:startJobRun.sync" && !strcontains(local.definition, join("", ["$", "{"]))
    error_message = "Every template variable must be rendered (partition included)."
  }
}

run "state_machine_role_is_scoped" {
  command = apply

  assert {
    condition = toset(one([for s in local.state_machine_policy.Statement : s if s.Sid == "GlueJobsSync"]).Resource) == toset([
      "arn:aws:glue:eu-west-1:123456789012:job/lakepipe-dev-ingest", "arn:aws:glue:eu-west-1:123456789012:job/lakepipe-dev-views",
    ])
    error_message = "Glue actions only on the two jobs."
  }
  assert {
    condition     = toset(one([for s in local.state_machine_policy.Statement : s if s.Sid == "GlueJobsSync"]).Action) == toset(["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"])
    error_message = "The .sync Glue integration needs StartJobRun, GetJobRun, GetJobRuns and BatchStopJobRun."
  }
  assert {
    condition     = one([for s in local.state_machine_policy.Statement : s if s.Sid == "NotifyFailure"]).Resource == aws_sns_topic.failures.arn
    error_message = "sns:Publish only on the failure topic."
  }
  assert {
    condition     = alltrue([for s in local.state_machine_policy.Statement : s.Resource != "*" || contains(["LogDelivery", "Tracing"], s.Sid)])
    error_message = "Resource * only for log delivery and X-Ray (no resource-level permissions)."
  }
  assert {
    condition     = one(aws_sfn_state_machine.pipeline.logging_configuration).log_destination == "${aws_cloudwatch_log_group.state_machine.arn}:*" && one(aws_sfn_state_machine.pipeline.tracing_configuration).enabled
    error_message = "Execution logging and tracing must be on."
  }
}

run "failures_alarm_and_topic" {
  command = apply
  variables {
    alarm_email_subscriptions = ["oncall@example.com"]
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.failed.metric_name == "ExecutionsFailed" && aws_cloudwatch_metric_alarm.failed.dimensions["StateMachineArn"] == aws_sfn_state_machine.pipeline.arn
    error_message = "The alarm must watch ExecutionsFailed of this state machine."
  }
  assert {
    condition     = tolist(aws_cloudwatch_metric_alarm.failed.alarm_actions) == tolist([aws_sns_topic.failures.arn])
    error_message = "The alarm notifies the failure topic."
  }
  assert {
    condition     = aws_sns_topic.failures.kms_master_key_id == var.kms_key_arn && length(aws_sns_topic_subscription.email) == 1
    error_message = "Encrypted topic with the requested subscriptions."
  }
  assert {
    condition     = local.recorder_environment["RUNS_LOCATION"] == "s3://lakepipe-dev-artifacts/runs/" && module.recorder.function_name == "lakepipe-dev-run-recorder"
    error_message = "Run recorder RUNS_LOCATION per docs/design.md."
  }
}

run "bad_log_level_is_rejected" {
  command = plan
  variables {
    execution_log_level = "OFF"
  }
  expect_failures = [var.execution_log_level]
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = ""
  }
  expect_failures = [var.environment]
}
