data "aws_partition" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  region        = var.region
  base          = "${var.name_prefix}-${var.environment}"
  function_name = "${local.base}-s3-trigger"
  datasets_json = jsonencode(var.datasets)
  # Content-addressed: a new spec list is a new object, so a container still running the previous
  # configuration keeps reading its own (create_before_destroy below) and the handler can verify the content.
  datasets_key = "${var.artifacts_prefix}datasets/${sha256(local.datasets_json)}.json"
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

# The specs go to S3, not into the environment: Lambda allows 4 KB of environment variables in all, and a
# dataset with its quality rules is ~0.5-1 KB of JSON.
resource "aws_s3_object" "datasets" {
  bucket       = var.artifacts_bucket_name
  key          = local.datasets_key
  content      = local.datasets_json
  content_type = "application/json"
  kms_key_id   = var.kms_key_arn
  tags         = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

# The statements of what the trigger does; modules/lambda_function adds the lake key, its logs, X-Ray
# and sqs:SendMessage on the dead-letter queue.
locals {
  function_environment = {
    STATE_MACHINE_ARN       = var.state_machine_arn
    DATASETS_URI            = "s3://${aws_s3_object.datasets.bucket}/${aws_s3_object.datasets.key}"
    POWERTOOLS_SERVICE_NAME = "lakepipe-s3-trigger"
    LOG_LEVEL               = var.log_level
  }
  trigger_statements = [
    {
      Sid      = "StartPipeline"
      Effect   = "Allow"
      Action   = "states:StartExecution"
      Resource = var.state_machine_arn
    },
    {
      Sid      = "ReadDatasetSpecs"
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = "${var.artifacts_bucket_arn}/${aws_s3_object.datasets.key}"
    },
  ]
}

module "function" {
  source = "../lambda_function"

  function_name        = local.function_name
  description          = "lakepipe: S3 ObjectCreated (CSV under a dataset prefix) -> StartExecution of the pipeline"
  handler              = "s3_trigger.handler.lambda_handler"
  zip_path             = var.lambda_zip_path
  reserved_concurrency = var.reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  policy_name          = "s3-trigger"
  policy_statements    = local.trigger_statements
  tags                 = var.tags

  environment_variables = local.function_environment

  # S3 invokes asynchronously: bounded retries, then the event lands in the dead-letter queue.
  dead_letter_queue = {
    arn                    = aws_sqs_queue.dlq.arn
    maximum_retry_attempts = var.maximum_retry_attempts
  }
}

# Events that still failed after the trigger's retries wait here for `make replay`: somebody must know.
resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${local.function_name}-dlq-not-empty"
  alarm_description   = "lakepipe ${var.environment}: S3 events the trigger could not start are in ${aws_sqs_queue.dlq.name}; re-drive them with make replay (README, Many files at once)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = var.dlq_alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_lambda_permission" "s3" {
  statement_id   = "AllowRawBucketNotifications"
  action         = "lambda:InvokeFunction"
  function_name  = module.function.function_name
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
      lambda_function_arn = module.function.function_arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = lambda_function.value
    }
  }

  depends_on = [aws_lambda_permission.s3]
}

# The function moved into modules/lambda_function: state follows it.
moved {
  from = aws_cloudwatch_log_group.trigger
  to   = module.function.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.trigger
  to   = module.function.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.trigger
  to   = module.function.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.trigger
  to   = module.function.aws_lambda_function.this
}

moved {
  from = aws_lambda_function_event_invoke_config.trigger
  to   = module.function.aws_lambda_function_event_invoke_config.this[0]
}
