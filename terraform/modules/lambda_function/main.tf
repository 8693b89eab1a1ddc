# One Lambda function with what every lakepipe function needs: an execution role holding the caller's
# statements plus the module's own (lake key, own log group, X-Ray), a KMS-encrypted log group with
# retention that the function logs to as JSON, active X-Ray tracing, reserved concurrency, and, for
# asynchronously invoked functions, an SQS dead-letter queue that is also the on-failure destination.
locals {
  # Asynchronous invocations that fail every retry land in the queue; the role may send there.
  dead_letter_statements = var.dead_letter_queue == null ? [] : [{
    Sid      = "DeadLetter"
    Effect   = "Allow"
    Action   = "sqs:SendMessage"
    Resource = var.dead_letter_queue.arn
  }]

  policy = {
    Version = "2012-10-17"
    Statement = concat(var.policy_statements, local.dead_letter_statements, [
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
      },
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.this.arn}:*"
      },
      {
        # X-Ray tracing actions have no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ])
  }
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name = var.function_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = jsonencode(local.policy)
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  runtime                        = var.runtime
  handler                        = var.handler
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = var.environment_variables
  }

  dynamic "dead_letter_config" {
    for_each = var.dead_letter_queue == null ? [] : [var.dead_letter_queue.arn]
    content {
      target_arn = dead_letter_config.value
    }
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  depends_on = [aws_iam_role_policy.this]

  # checkov:skip=CKV_AWS_116: A dead-letter queue only applies to asynchronous invocations; callers invoked that way pass dead_letter_queue, synchronous ones (Step Functions' Lambda task, which retries in the ASL) do not.
  # checkov:skip=CKV_AWS_117: lakepipe's functions only call AWS APIs over their public endpoints; they touch no VPC resource, and a VPC would need NAT or endpoints for nothing.
  # checkov:skip=CKV_AWS_272: Code signing needs an AWS Signer profile the offline build does not have; the zip's hash is pinned with source_code_hash.
}

# Asynchronous invocations: bounded retries and age, then the event goes to the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "this" {
  count = var.dead_letter_queue == null ? 0 : 1

  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.dead_letter_queue.maximum_retry_attempts
  maximum_event_age_in_seconds = var.dead_letter_queue.maximum_event_age_in_seconds

  destination_config {
    on_failure {
      destination = var.dead_letter_queue.arn
    }
  }
}
