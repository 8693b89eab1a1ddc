mock_provider "aws" {}

variables {
  region                 = "eu-west-1"
  environment            = "dev"
  metrics_namespace      = "lakepipe/dev"
  state_machine_arn      = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakepipe-dev-pipeline"
  glue_job_names         = { ingest = "lakepipe-dev-ingest", views = "lakepipe-dev-views" }
  lambda_function_names  = { trigger = "lakepipe-dev-s3-trigger", recorder = "lakepipe-dev-run-recorder" }
  dead_letter_queue_name = "lakepipe-dev-s3-trigger-dlq"
  alarm_topic_arn        = "arn:aws:sns:eu-west-1:123456789012:lakepipe-dev-pipeline-failures"
  datasets = [
    { name = "entities", monitoring = { max_reject_ratio = 0.05, expected_cadence_hours = null } },
    { name = "regulatory", monitoring = { max_reject_ratio = 0.2, expected_cadence_hours = 26 } },
  ]
}

run "dashboard_charts_executions_durations_rows_dlq_and_lambdas" {
  command = apply

  assert {
    condition     = aws_cloudwatch_dashboard.this.dashboard_name == "lakepipe-dev-pipeline"
    error_message = "One dashboard per environment, named after the stack."
  }
  assert {
    condition = alltrue([for m in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"] :
    contains(local.dashboard_body.widgets[0].properties.metrics, ["AWS/States", m, "StateMachineArn", var.state_machine_arn, { label = m }])])
    error_message = "Executions started, succeeded and failed of the state machine."
  }
  assert {
    condition = alltrue([for d in ["entities", "regulatory"] : alltrue([for m in ["IngestSeconds", "ViewSeconds"] :
    anytrue([for w in local.dashboard_body.widgets : anytrue([for q in w.properties.metrics : slice(q, 0, 4) == ["lakepipe/dev", m, "Dataset", d] if length(q) == 5])])])])
    error_message = "Job durations per dataset (ingest and views) from the jobs' custom metrics."
  }
  assert {
    condition = alltrue([for d in ["entities", "regulatory"] : alltrue([for m in ["RowsRead", "RowsLoaded", "RowsRejected"] :
    anytrue([for q in one([for w in local.dashboard_body.widgets : w if w.properties.title == "${d}: rows read, loaded, rejected"]).properties.metrics : try(slice(q, 0, 4), null) == ["lakepipe/dev", m, "Dataset", d]])])])
    error_message = "Rows read, loaded and rejected per dataset, one widget each."
  }
  assert {
    condition = anytrue([for w in local.dashboard_body.widgets : anytrue([for q in w.properties.metrics :
    try(slice(q, 0, 4), null) == ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dead_letter_queue_name]])])
    error_message = "The trigger's dead-letter queue depth."
  }
  assert {
    condition = alltrue([for fn in values(var.lambda_function_names) : alltrue([for m in ["Errors", "Throttles"] :
    anytrue([for w in local.dashboard_body.widgets : anytrue([for q in w.properties.metrics : try(slice(q, 0, 4), null) == ["AWS/Lambda", m, "FunctionName", fn]])])])])
    error_message = "Errors and throttles of both Lambdas."
  }
  assert {
    condition     = one([for w in local.dashboard_body.widgets : w if startswith(w.properties.title, "Quality rules")]).properties.metrics[0][0].expression == "SEARCH('{\"lakepipe/dev\",Dataset,Rule} MetricName=\"QualityRuleFailedRows\"', 'Sum', 300)"
    error_message = "The quality rules' failing rows, every dataset and rule (a SEARCH over the namespace)."
  }
  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : w.properties.region == var.region && w.x + w.width <= 24])
    error_message = "Every widget names the region and fits the 24-column grid."
  }
}

run "every_alarm_notifies_the_failure_topic_under_the_stack_prefix" {
  command = apply

  assert {
    condition = alltrue(flatten([for alarms in [aws_cloudwatch_metric_alarm.lambda_errors, aws_cloudwatch_metric_alarm.lambda_throttles,
      aws_cloudwatch_metric_alarm.glue_job_failed, aws_cloudwatch_metric_alarm.reject_ratio, aws_cloudwatch_metric_alarm.no_successful_run] :
    [for a in values(alarms) : a.alarm_actions == toset([var.alarm_topic_arn]) && startswith(a.alarm_name, "lakepipe-dev-")]]))
    error_message = "Every alarm notifies the failure topic, and is named lakepipe-dev-* (the topic policy lets only those alarms publish)."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.lambda_errors) == 2 && length(aws_cloudwatch_metric_alarm.lambda_throttles) == 2 && length(aws_cloudwatch_metric_alarm.glue_job_failed) == 2 && length(aws_cloudwatch_metric_alarm.reject_ratio) == 2
    error_message = "Errors and throttles of both Lambdas, failures of both jobs, a reject ratio per dataset."
  }
}

run "lambda_and_glue_failure_alarms" {
  command = apply

  assert {
    condition = alltrue([for k, fn in var.lambda_function_names : aws_cloudwatch_metric_alarm.lambda_errors[k].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.lambda_errors[k].metric_name == "Errors" && aws_cloudwatch_metric_alarm.lambda_errors[k].dimensions == tomap({ FunctionName = fn }) &&
    aws_cloudwatch_metric_alarm.lambda_throttles[k].metric_name == "Throttles" && aws_cloudwatch_metric_alarm.lambda_throttles[k].dimensions == tomap({ FunctionName = fn })])
    error_message = "Lambda Errors and Throttles per function."
  }
  assert {
    condition = alltrue([for a in values(merge(aws_cloudwatch_metric_alarm.lambda_errors, aws_cloudwatch_metric_alarm.lambda_throttles)) :
    a.statistic == "Sum" && a.threshold == 0 && a.comparison_operator == "GreaterThanThreshold" && a.treat_missing_data == "notBreaching"])
    error_message = "One error or throttle is enough; no data is no problem."
  }
  assert {
    condition = alltrue([for k, job in var.glue_job_names : aws_cloudwatch_metric_alarm.glue_job_failed[k].namespace == "Glue" &&
      aws_cloudwatch_metric_alarm.glue_job_failed[k].metric_name == "glue.error.ALL" && aws_cloudwatch_metric_alarm.glue_job_failed[k].threshold == 0 &&
    aws_cloudwatch_metric_alarm.glue_job_failed[k].dimensions == tomap({ JobName = job, JobRunId = "ALL", Type = "count", ObservabilityGroup = "error" })])
    error_message = "Each job's failed runs (Glue observability metric glue.error.ALL, all runs)."
  }
}

run "reject_ratio_is_metric_math_on_the_custom_metrics" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.reject_ratio["entities"].threshold == 0.05 && aws_cloudwatch_metric_alarm.reject_ratio["regulatory"].threshold == 0.2
    error_message = "Each dataset's own max_reject_ratio is its threshold."
  }
  assert {
    condition = alltrue([for d, a in aws_cloudwatch_metric_alarm.reject_ratio : a.comparison_operator == "GreaterThanThreshold" &&
      a.metric_name == null && length([for q in a.metric_query : q if q.return_data == true]) == 1 &&
    one([for q in a.metric_query : q if q.return_data == true]).expression == "IF(rowsread > 0, rowsrejected / rowsread, 0)"])
    error_message = "The alarm watches rejected / read (0 without rows), the only query returning data."
  }
  assert {
    condition = alltrue([for d, a in aws_cloudwatch_metric_alarm.reject_ratio : alltrue([for id, name in { rowsread = "RowsRead", rowsrejected = "RowsRejected" } :
      one([for q in a.metric_query : q.metric[0] if q.id == id]).metric_name == name &&
      one([for q in a.metric_query : q.metric[0] if q.id == id]).namespace == var.metrics_namespace &&
      one([for q in a.metric_query : q.metric[0] if q.id == id]).dimensions == tomap({ Dataset = d }) &&
    one([for q in a.metric_query : q.metric[0] if q.id == id]).stat == "Sum"])])
    error_message = "Rows read and rejected are the dataset's custom metrics (Sum over the period)."
  }
}

run "no_successful_run_only_where_a_cadence_is_declared" {
  command = apply

  assert {
    condition     = keys(aws_cloudwatch_metric_alarm.no_successful_run) == ["regulatory"]
    error_message = "Only regulatory declares an expected cadence."
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].metric_name == "IngestSucceeded" &&
      aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].namespace == var.metrics_namespace &&
    aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].dimensions == tomap({ Dataset = "regulatory" }))
    error_message = "The alarm counts the dataset's successful ingest runs."
  }
  assert {
    condition = (aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].period * aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].evaluation_periods == 26 * 3600 &&
      aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].datapoints_to_alarm == aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].evaluation_periods &&
      aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].treat_missing_data == "breaching" &&
      aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].comparison_operator == "LessThanThreshold" &&
    aws_cloudwatch_metric_alarm.no_successful_run["regulatory"].threshold == 1)
    error_message = "Alarm when every one of the last 26 hours had no successful run (an hour without data breaches)."
  }
}

run "a_reserved_namespace_is_refused" {
  command = plan
  variables {
    metrics_namespace = "AWS/Glue"
  }
  expect_failures = [var.metrics_namespace]
}

run "a_reject_ratio_above_one_is_refused" {
  command = plan
  variables {
    datasets = [{ name = "entities", monitoring = { max_reject_ratio = 1.5, expected_cadence_hours = null } }]
  }
  expect_failures = [var.datasets]
}

run "a_cadence_beyond_seven_days_is_refused" {
  command = plan
  variables {
    datasets = [{ name = "entities", monitoring = { max_reject_ratio = 0.05, expected_cadence_hours = 169 } }]
  }
  expect_failures = [var.datasets]
}

run "the_alarm_topic_must_be_an_sns_arn" {
  command = plan
  variables {
    alarm_topic_arn = "lakepipe-dev-pipeline-failures"
  }
  expect_failures = [var.alarm_topic_arn]
}
