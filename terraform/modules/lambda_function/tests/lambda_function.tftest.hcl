mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-fn" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-dev-fn" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakepipe-dev-fn" }
  }
}

variables {
  function_name        = "lakepipe-dev-fn"
  handler              = "pkg.handler.lambda_handler"
  zip_path             = "tests/fixtures/lakepipe_lambda.zip"
  reserved_concurrency = 5
  kms_key_arn          = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  policy_name          = "fn"
  log_retention_days   = 14
  environment_variables = {
    SETTING = "value"
  }
  policy_statements = [{
    Sid      = "Work"
    Effect   = "Allow"
    Action   = "s3:GetObject"
    Resource = "arn:aws:s3:::bucket/prefix/*"
  }]
}

run "synchronous_function" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.handler == "pkg.handler.lambda_handler" && aws_lambda_function.this.runtime == "python3.11" && aws_lambda_function.this.role == aws_iam_role.this.arn
    error_message = "Handler, default runtime and the module's role."
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/lakepipe_lambda.zip")
    error_message = "The zip's hash must drive redeployments."
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == 5 && aws_lambda_function.this.environment[0].variables["SETTING"] == "value" && aws_lambda_function.this.kms_key_arn == var.kms_key_arn
    error_message = "Reserved concurrency and KMS-encrypted environment variables as given."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/lakepipe-dev-fn" && aws_cloudwatch_log_group.this.retention_in_days == 14 && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The function's own log group, with retention and the lake key."
  }
  assert {
    condition     = one(aws_lambda_function.this.logging_config).log_group == aws_cloudwatch_log_group.this.name && one(aws_lambda_function.this.logging_config).log_format == "JSON" && one(aws_lambda_function.this.tracing_config).mode == "Active"
    error_message = "JSON logs into the module's log group, X-Ray active."
  }
  assert {
    condition     = length(aws_lambda_function.this.dead_letter_config) == 0 && length(aws_lambda_function_event_invoke_config.this) == 0
    error_message = "Without dead_letter_queue: no dead-letter config and no asynchronous invoke config."
  }
  assert {
    condition     = [for s in local.policy.Statement : s.Sid] == ["Work", "LakeKey", "OwnLogs", "Tracing"]
    error_message = "The caller's statements first, then the lake key, the own logs and X-Ray; no dead-letter permission without a queue."
  }
  assert {
    condition     = one([for s in local.policy.Statement : s if s.Sid == "OwnLogs"]).Resource == "${aws_cloudwatch_log_group.this.arn}:*" && alltrue([for s in local.policy.Statement : s.Resource != "*" || s.Sid == "Tracing"])
    error_message = "Logs only into its own group; Resource * only for X-Ray."
  }
  assert {
    condition     = strcontains(aws_iam_role.this.assume_role_policy, "lambda.amazonaws.com") && aws_iam_role.this.name == "lakepipe-dev-fn" && aws_iam_role_policy.this.name == "fn"
    error_message = "A role only Lambda may assume, named after the function."
  }
}

run "asynchronous_function_with_dead_letter_queue" {
  command = apply
  variables {
    dead_letter_queue = {
      arn                    = "arn:aws:sqs:eu-west-1:123456789012:lakepipe-dev-fn-dlq"
      maximum_retry_attempts = 1
    }
  }

  assert {
    condition     = one(aws_lambda_function.this.dead_letter_config).target_arn == var.dead_letter_queue.arn
    error_message = "The dead-letter config points at the queue."
  }
  assert {
    condition     = one(one(aws_lambda_function_event_invoke_config.this[0].destination_config).on_failure).destination == var.dead_letter_queue.arn && aws_lambda_function_event_invoke_config.this[0].maximum_retry_attempts == 1 && aws_lambda_function_event_invoke_config.this[0].maximum_event_age_in_seconds == 3600
    error_message = "Failed asynchronous invocations go to the queue after the given retries (event age defaults to an hour)."
  }
  assert {
    condition     = one([for s in local.policy.Statement : s if s.Sid == "DeadLetter"]).Resource == var.dead_letter_queue.arn && one([for s in local.policy.Statement : s if s.Sid == "DeadLetter"]).Action == "sqs:SendMessage"
    error_message = "The role may send to its dead-letter queue."
  }
}

run "oversized_environment_is_rejected" {
  command = plan
  variables {
    environment_variables = { BIG = format("%4100s", "x") }
  }
  expect_failures = [var.environment_variables]
}

run "bad_retry_count_is_rejected" {
  command = plan
  variables {
    dead_letter_queue = { arn = "arn:aws:sqs:eu-west-1:123456789012:q", maximum_retry_attempts = 3 }
  }
  expect_failures = [var.dead_letter_queue]
}
