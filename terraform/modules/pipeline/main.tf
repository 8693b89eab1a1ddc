data "aws_partition" "current" {}

locals {
  partition          = data.aws_partition.current.partition
  region             = var.region
  base               = "${var.name_prefix}-${var.environment}"
  state_machine_name = "${local.base}-pipeline"
  state_machine_arn  = "arn:${local.partition}:states:${local.region}:${var.account_id}:stateMachine:${local.state_machine_name}"
  recorder_name      = "${local.base}-run-recorder"
  glue_job_arns = [
    "arn:${local.partition}:glue:${local.region}:${var.account_id}:job/${var.ingest_job_name}",
    "arn:${local.partition}:glue:${local.region}:${var.account_id}:job/${var.view_job_name}",
  ]
  template_path = coalesce(var.definition_template_path, "${path.module}/../../../state_machines/pipeline.asl.json")

  definition = templatefile(local.template_path, {
    partition                 = local.partition
    ingest_job_name           = var.ingest_job_name
    view_job_name             = var.view_job_name
    run_recorder_function_arn = module.recorder.function_arn
    failure_topic_arn         = aws_sns_topic.failures.arn
  })
}

# ---------------------------------------------------------------- failure topic
resource "aws_sns_topic" "failures" {
  name              = "${local.base}-pipeline-failures"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "failures" {
  arn    = aws_sns_topic.failures.arn
  policy = jsonencode(local.topic_policy)
}

locals {
  topic_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountUse"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${var.account_id}:root" }
        Action    = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
        Resource  = aws_sns_topic.failures.arn
      },
      {
        Sid       = "CloudWatchAlarms"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.failures.arn
        Condition = {
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${local.region}:${var.account_id}:alarm:${local.base}-*" }
          StringEquals = { "aws:SourceAccount" = var.account_id }
        }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sns:Publish"
        Resource  = aws_sns_topic.failures.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  }
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_email_subscriptions)
  topic_arn = aws_sns_topic.failures.arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------- run recorder Lambda
# The statements of what the recorder does; modules/lambda_function adds the lake key, its logs and
# X-Ray. No dead-letter queue: Step Functions invokes it synchronously and retries in the ASL.
locals {
  recorder_environment = {
    RUNS_LOCATION           = "s3://${var.artifacts_bucket_name}/${var.runs_prefix}"
    POWERTOOLS_SERVICE_NAME = "lakepipe-run-recorder"
    LOG_LEVEL               = var.log_level
  }
  recorder_statements = [
    {
      Sid      = "RunRecords"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = "${var.artifacts_bucket_arn}/${var.runs_prefix}*"
    },
    {
      Sid       = "ListRuns"
      Effect    = "Allow"
      Action    = "s3:ListBucket"
      Resource  = var.artifacts_bucket_arn
      Condition = { StringLike = { "s3:prefix" = ["${var.runs_prefix}*"] } }
    },
  ]
}

module "recorder" {
  source = "../lambda_function"

  function_name        = local.recorder_name
  description          = "lakepipe: merge the jobs' reports into the run record (called by the state machine)"
  handler              = "run_recorder.handler.lambda_handler"
  zip_path             = var.lambda_zip_path
  timeout_seconds      = 60
  reserved_concurrency = var.recorder_reserved_concurrency
  kms_key_arn          = var.kms_key_arn
  log_retention_days   = var.log_retention_days
  policy_name          = "run-recorder"
  policy_statements    = local.recorder_statements
  tags                 = var.tags

  environment_variables = local.recorder_environment
}

# The run recorder moved into modules/lambda_function: state follows it.
moved {
  from = aws_cloudwatch_log_group.recorder
  to   = module.recorder.aws_cloudwatch_log_group.this
}

moved {
  from = aws_iam_role.recorder
  to   = module.recorder.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.recorder
  to   = module.recorder.aws_iam_role_policy.this
}

moved {
  from = aws_lambda_function.recorder
  to   = module.recorder.aws_lambda_function.this
}

# ---------------------------------------------------------------- state machine
resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${local.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_iam_role" "state_machine" {
  name = local.state_machine_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = var.account_id }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "pipeline"
  role   = aws_iam_role.state_machine.id
  policy = jsonencode(local.state_machine_policy)
}

locals {
  state_machine_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        # Run a Job (.sync) for Glue polls GetJobRun; it needs no EventBridge managed rule (unlike ECS/Batch .sync).
        Sid      = "GlueJobsSync"
        Effect   = "Allow"
        Action   = ["glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
        Resource = local.glue_job_arns
      },
      {
        Sid      = "InvokeRunRecorder"
        Effect   = "Allow"
        Action   = "lambda:InvokeFunction"
        Resource = [module.recorder.function_arn, "${module.recorder.function_arn}:*"]
      },
      {
        Sid      = "NotifyFailure"
        Effect   = "Allow"
        Action   = "sns:Publish"
        Resource = aws_sns_topic.failures.arn
      },
      {
        # Publishing to the KMS-encrypted topic and encrypting the state machine's own data.
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.kms_key_arn
      },
      {
        # CloudWatch Logs vended delivery: these actions have no resource-level permissions.
        Sid    = "LogDelivery"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = "*"
      },
      {
        # X-Ray tracing actions have no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      },
    ]
  }
}

resource "aws_sfn_state_machine" "pipeline" {
  name       = local.state_machine_name
  role_arn   = aws_iam_role.state_machine.arn
  type       = "STANDARD"
  definition = local.definition
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = true
    level                  = var.execution_log_level
  }

  tracing_configuration {
    enabled = true
  }

  dynamic "encryption_configuration" {
    for_each = var.encrypt_state_machine ? [1] : []
    content {
      type                              = "CUSTOMER_MANAGED_KMS_KEY"
      kms_key_id                        = var.kms_key_arn
      kms_data_key_reuse_period_seconds = 300
    }
  }

  depends_on = [aws_iam_role_policy.state_machine]
}

# ---------------------------------------------------------------- alarms
resource "aws_cloudwatch_metric_alarm" "failed" {
  alarm_name          = "${local.base}-pipeline-executions-failed"
  alarm_description   = "lakepipe ${var.environment}: at least one pipeline execution failed (run records under ${var.runs_prefix})."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.pipeline.arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.failures.arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "timed_out" {
  alarm_name          = "${local.base}-pipeline-executions-timed-out"
  alarm_description   = "lakepipe ${var.environment}: at least one pipeline execution timed out."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.pipeline.arn }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.failures.arn]
  tags                = var.tags
}
