data "aws_partition" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  region        = var.region
  base          = "${var.name_prefix}-${var.environment}"
  function_name = "${local.base}-s3-trigger"
  log_group     = "/aws/lambda/${local.function_name}"
  datasets_json = jsonencode(var.datasets)
  # One notification per dataset prefix, keyed by dataset name. Prefix only: S3 suffix filters are
  # case-sensitive (".csv" misses "REPORT.CSV"), so the trigger checks the extension in any case and
  # skips other keys with a log line (lakepipe/events.py).
  notifications = { for d in var.datasets : d.name => d.raw_prefix }
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.function_name}-dlq"
  message_retention_seconds = var.dlq_retention_seconds
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

resource "aws_cloudwatch_log_group" "trigger" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "trigger" {
  name = local.function_name
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

resource "aws_iam_role_policy" "trigger" {
  name   = "s3-trigger"
  role   = aws_iam_role.trigger.id
  policy = jsonencode(local.trigger_policy)
}

locals {
  trigger_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartPipeline"
        Effect   = "Allow"
        Action   = "states:StartExecution"
        Resource = var.state_machine_arn
      },
      {
        Sid      = "DeadLetter"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.dlq.arn
      },
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
        Resource = "${aws_cloudwatch_log_group.trigger.arn}:*"
      },
      {
        # X-Ray tracing actions have no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ]
  }
}

resource "aws_lambda_function" "trigger" {
  function_name                  = local.function_name
  description                    = "lakepipe: S3 ObjectCreated (CSV under a dataset prefix) -> StartExecution of the pipeline"
  role                           = aws_iam_role.trigger.arn
  runtime                        = var.runtime
  handler                        = "s3_trigger.handler.lambda_handler"
  filename                       = var.lambda_zip_path
  source_code_hash               = filebase64sha256(var.lambda_zip_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout_seconds
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  tags                           = var.tags

  environment {
    variables = {
      STATE_MACHINE_ARN       = var.state_machine_arn
      DATASETS_JSON           = local.datasets_json
      POWERTOOLS_SERVICE_NAME = "lakepipe-s3-trigger"
      LOG_LEVEL               = var.log_level
    }
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.trigger.name
  }

  lifecycle {
    precondition {
      condition     = length(local.datasets_json) <= 3500
      error_message = "DATASETS_JSON would exceed the Lambda's 4 KB environment limit; ship the specs differently."
    }
  }

  depends_on = [aws_iam_role_policy.trigger]

  # checkov:skip=CKV_AWS_117: The trigger only calls the Step Functions API; it touches no VPC resource, and a VPC would need NAT or endpoints for nothing.
  # checkov:skip=CKV_AWS_272: Code signing needs an AWS Signer profile the offline build does not have; the zip's hash is pinned with source_code_hash.
}

# Asynchronous (S3) invocations: bounded retries, then the event lands in the dead-letter queue.
resource "aws_lambda_function_event_invoke_config" "trigger" {
  function_name                = aws_lambda_function.trigger.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dlq.arn
    }
  }
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowRawBucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.trigger.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = var.raw_bucket_arn
  source_account = var.account_id
}

resource "aws_s3_bucket_notification" "raw" {
  bucket = var.raw_bucket_name

  dynamic "lambda_function" {
    for_each = local.notifications
    content {
      id                  = "lakepipe-${lambda_function.key}"
      lambda_function_arn = aws_lambda_function.trigger.arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = lambda_function.value
    }
  }

  depends_on = [aws_lambda_permission.s3]
}
