# One CloudWatch dashboard per environment and the alarms issue 13 asks for; every alarm notifies the
# pipeline's failure topic. The failed and timed-out execution alarms live in modules/pipeline, the
# trigger's dead-letter queue alarm in modules/trigger (both notify the same topic).
locals {
  base     = "${var.name_prefix}-${var.environment}"
  custom   = jsondecode(file("${path.module}/metrics.json"))
  names    = local.custom.metrics
  datasets = { for d in var.datasets : d.name => d.monitoring }
  # Freshness alarms only where a dataset declares how often it is loaded.
  cadences = { for name, m in local.datasets : name => m.expected_cadence_hours if m.expected_cadence_hours != null }

  # The reject ratio of a period: rejected rows over rows read, 0 when nothing was read.
  reject_ratio_expression       = "IF(rowsread > 0, rowsrejected / rowsread, 0)"
  glue_observability_dimensions = { JobRunId = "ALL", Type = "count", ObservabilityGroup = "error" }
}

# ---------------------------------------------------------------- dashboard
locals {
  custom_metric = { for key in ["rows_read", "rows_loaded", "rows_rejected", "ingest_seconds", "view_seconds"] :
  key => [var.metrics_namespace, local.names[key], local.custom.dimension] }

  widgets = concat(
    [
      {
        title = "Pipeline executions"
        stat  = "Sum"
        metrics = [for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionsTimedOut"] :
        ["AWS/States", m, "StateMachineArn", var.state_machine_arn, { label = m }]]
      },
      {
        title = "Execution time (ms)"
        stat  = "Maximum"
        metrics = [
          ["AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn, { label = "maximum" }],
          ["AWS/States", "ExecutionTime", "StateMachineArn", var.state_machine_arn, { label = "average", stat = "Average" }],
        ]
      },
      {
        title = "Job durations per dataset (s)"
        stat  = "Maximum"
        metrics = concat([for name in keys(local.datasets) : [
          concat(local.custom_metric.ingest_seconds, [name, { label = "${name} ingest" }]),
          concat(local.custom_metric.view_seconds, [name, { label = "${name} views" }]),
        ]]...)
      },
      {
        title = "Trigger dead-letter queue depth"
        stat  = "Maximum"
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dead_letter_queue_name, { label = "messages" }],
        ]
      },
      {
        title = "Lambda errors and throttles"
        stat  = "Sum"
        metrics = concat([for key, fn in var.lambda_function_names : [
          ["AWS/Lambda", "Errors", "FunctionName", fn, { label = "${key} errors" }],
          ["AWS/Lambda", "Throttles", "FunctionName", fn, { label = "${key} throttles" }],
        ]]...)
      },
    ],
    [{
      # Failing rows per failed quality rule (lakepipe.quality), whatever the datasets' rules are.
      title = "Quality rules: failing rows per dataset and rule"
      stat  = "Sum"
      metrics = [[{
        expression = "SEARCH('{\"${var.metrics_namespace}\",${local.custom.dimension},Rule} MetricName=\"${local.custom.quality_rule_failed_rows}\"', 'Sum', ${var.dashboard_period_seconds})"
        id         = "quality"
      }]]
    }],
    # Rows per dataset, with the reject ratio its alarm watches on the right axis.
    [for name, m in local.datasets : {
      title = "${name}: rows read, loaded, rejected"
      stat  = "Sum"
      metrics = [
        concat(local.custom_metric.rows_read, [name, { id = "rowsread", label = "read" }]),
        concat(local.custom_metric.rows_loaded, [name, { id = "rowsloaded", label = "loaded" }]),
        concat(local.custom_metric.rows_rejected, [name, { id = "rowsrejected", label = "rejected" }]),
        [{ expression = local.reject_ratio_expression, id = "ratio", label = "reject ratio (alarm above ${m.max_reject_ratio})", yAxis = "right" }],
      ]
    }],
  )

  dashboard_body = {
    widgets = [for i, w in local.widgets : {
      type   = "metric"
      x      = (i % 2) * 12
      y      = floor(i / 2) * 6
      width  = 12
      height = 6
      properties = {
        title   = w.title
        region  = var.region
        view    = "timeSeries"
        stacked = false
        period  = var.dashboard_period_seconds
        stat    = w.stat
        metrics = w.metrics
      }
    }]
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${local.base}-pipeline"
  dashboard_body = jsonencode(local.dashboard_body)
}

# ---------------------------------------------------------------- alarms
resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  for_each = var.lambda_function_names

  alarm_name          = "${local.base}-${each.key}-lambda-errors"
  alarm_description   = "lakepipe ${var.environment}: the ${each.key} Lambda (${each.value}) failed; see its log group /aws/lambda/${each.value}."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  for_each = var.lambda_function_names

  alarm_name          = "${local.base}-${each.key}-lambda-throttles"
  alarm_description   = "lakepipe ${var.environment}: the ${each.key} Lambda (${each.value}) was throttled (reserved concurrency reached)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

# Glue observability metrics (the jobs run with --enable-observability-metrics): glue.error.ALL counts failed runs.
resource "aws_cloudwatch_metric_alarm" "glue_job_failed" {
  for_each = var.glue_job_names

  alarm_name          = "${local.base}-${each.key}-job-failed"
  alarm_description   = "lakepipe ${var.environment}: a run of the Glue job ${each.value} failed; the execution's run record names the file."
  namespace           = "Glue"
  metric_name         = "glue.error.ALL"
  dimensions          = merge(local.glue_observability_dimensions, { JobName = each.value })
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "reject_ratio" {
  for_each = local.datasets

  alarm_name          = "${local.base}-${each.key}-reject-ratio"
  alarm_description   = "lakepipe ${var.environment}: the share of rows of dataset ${each.key} rejected in ${var.alarm_period_seconds} s exceeded ${each.value.max_reject_ratio} (rejects under rejects/${each.key}/ in the raw bucket)."
  threshold           = each.value.max_reject_ratio
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = local.reject_ratio_expression
    label       = "${each.key} reject ratio"
    return_data = true
  }

  metric_query {
    id = "rowsread"
    metric {
      namespace   = var.metrics_namespace
      metric_name = local.names.rows_read
      dimensions  = { (local.custom.dimension) = each.key }
      period      = var.alarm_period_seconds
      stat        = "Sum"
    }
  }

  metric_query {
    id = "rowsrejected"
    metric {
      namespace   = var.metrics_namespace
      metric_name = local.names.rows_rejected
      dimensions  = { (local.custom.dimension) = each.key }
      period      = var.alarm_period_seconds
      stat        = "Sum"
    }
  }
}

# No successful ingest run of the dataset in the last N hours: N hourly periods, each without an
# IngestSucceeded datum (missing data breaches), all breaching.
resource "aws_cloudwatch_metric_alarm" "no_successful_run" {
  for_each = local.cadences

  alarm_name          = "${local.base}-${each.key}-no-successful-run"
  alarm_description   = "lakepipe ${var.environment}: no ingest run of dataset ${each.key} succeeded in the last ${each.value} hours (its expected cadence)."
  namespace           = var.metrics_namespace
  metric_name         = local.names.ingest_succeeded
  dimensions          = { (local.custom.dimension) = each.key }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = each.value
  datapoints_to_alarm = each.value
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
