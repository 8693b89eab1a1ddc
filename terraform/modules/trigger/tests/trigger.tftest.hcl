mock_provider "aws" {
  mock_data "aws_partition" {
    defaults = { partition = "aws", dns_suffix = "amazonaws.com" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/lakepipe-dev-s3-trigger" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:lakepipe-dev-s3-trigger-dlq" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:lakepipe-dev-s3-trigger" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/lakepipe-dev-s3-trigger" }
  }
}

variables {
  region                = "eu-west-1"
  environment           = "dev"
  account_id            = "123456789012"
  raw_bucket_name       = "lakepipe-dev-raw"
  raw_bucket_arn        = "arn:aws:s3:::lakepipe-dev-raw"
  state_machine_arn     = "arn:aws:states:eu-west-1:123456789012:stateMachine:lakepipe-dev-pipeline"
  lambda_zip_path       = "tests/fixtures/lakepipe_lambda.zip"
  artifacts_bucket_name = "lakepipe-dev-artifacts"
  artifacts_bucket_arn  = "arn:aws:s3:::lakepipe-dev-artifacts"
  kms_key_arn           = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  alarm_topic_arn       = "arn:aws:sns:eu-west-1:123456789012:lakepipe-dev-pipeline-failures"
  datasets = [
    { name = "entities", raw_prefix = "incoming/entities/", target = "glue", database = "lake", table = "entities", view_database = null, split_column = "entity1", id_columns = ["entity2", "entity3", "entity4"], key_column = "key", value_column = "value", view_prefix = "entity_view_" },
    { name = "regulatory", raw_prefix = "incoming/regulatory/", target = "glue", database = "lake", table = "regulatory_reports", view_database = null, split_column = "seriesid", id_columns = ["aod", "rssdid", "submissionts"], key_column = "key", value_column = "value", view_prefix = "report_view_" },
  ]
}

run "notifications_match_every_dataset_prefix" {
  command = apply

  assert {
    condition     = length(aws_s3_bucket_notification.raw.lambda_function) == length(var.datasets)
    error_message = "One notification per dataset."
  }
  assert {
    condition = alltrue([for d in var.datasets : anytrue([for n in aws_s3_bucket_notification.raw.lambda_function :
    n.filter_prefix == d.raw_prefix && contains(n.events, "s3:ObjectCreated:*") && n.lambda_function_arn == module.function.function_arn])])
    error_message = "Each dataset's raw prefix must have an ObjectCreated notification to the trigger."
  }
  assert {
    # S3 filter rules are case-sensitive: a ".csv" suffix filter never delivers "REPORT.CSV".
    condition     = alltrue([for n in aws_s3_bucket_notification.raw.lambda_function : n.filter_suffix == null || n.filter_suffix == ""])
    error_message = "No suffix filter: S3 matches it case-sensitively, so REPORT.CSV would never reach the trigger (the Lambda checks the extension in any case)."
  }
  assert {
    condition     = aws_s3_bucket_notification.raw.bucket == var.raw_bucket_name
    error_message = "Notifications belong to the raw bucket."
  }
  assert {
    condition     = aws_lambda_permission.s3.principal == "s3.amazonaws.com" && aws_lambda_permission.s3.source_arn == var.raw_bucket_arn && aws_lambda_permission.s3.source_account == var.account_id
    error_message = "S3 may invoke the trigger only for the raw bucket of this account."
  }
}

run "lambda_configuration" {
  command = apply

  assert {
    condition     = local.function_environment["STATE_MACHINE_ARN"] == var.state_machine_arn && !contains(keys(local.function_environment), "DATASETS_JSON")
    error_message = "STATE_MACHINE_ARN must be set; the specs are not in the environment (Lambda's 4 KB limit)."
  }
  assert {
    condition     = local.function_environment["DATASETS_URI"] == "s3://lakepipe-dev-artifacts/lambda/s3-trigger/datasets/${sha256(aws_s3_object.datasets.content)}.json"
    error_message = "DATASETS_URI names the specs object in the artifacts bucket, keyed by the sha256 of its content."
  }
  assert {
    condition     = jsondecode(aws_s3_object.datasets.content)[0].split_column == "entity1" && aws_s3_object.datasets.kms_key_id == var.kms_key_arn
    error_message = "The specs object holds the specs with defaults, encrypted with the lake key."
  }
  assert {
    condition     = module.function.function_name == "lakepipe-dev-s3-trigger" && module.function.log_group_name == "/aws/lambda/lakepipe-dev-s3-trigger"
    error_message = "Function and log group named after the stack."
  }
  assert {
    condition     = one([for s in module.function.policy.Statement : s if s.Sid == "DeadLetter"]).Resource == aws_sqs_queue.dlq.arn && aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn
    error_message = "Failed asynchronous invocations go to the encrypted dead-letter queue (modules/lambda_function wires the config and the destination)."
  }
}

run "trigger_role_starts_only_the_pipeline" {
  command = apply

  assert {
    condition     = one([for s in module.function.policy.Statement : s if s.Action == "states:StartExecution"]).Resource == var.state_machine_arn
    error_message = "StartExecution only on the one state machine."
  }
  assert {
    condition     = length([for s in module.function.policy.Statement : s if strcontains(jsonencode(s.Action), "states:")]) == 1
    error_message = "No other Step Functions permissions."
  }
  assert {
    condition = (
      [for s in module.function.policy.Statement : s.Resource if strcontains(jsonencode(s.Action), "s3:")] ==
      ["arn:aws:s3:::lakepipe-dev-artifacts/${aws_s3_object.datasets.key}"] &&
      one([for s in module.function.policy.Statement : s if s.Sid == "ReadDatasetSpecs"]).Action == "s3:GetObject"
    )
    error_message = "The only S3 permission is s3:GetObject on exactly the specs object (not the bucket, not a prefix)."
  }
  assert {
    condition     = alltrue([for s in module.function.policy.Statement : s.Resource != "*" || s.Sid == "Tracing"])
    error_message = "Resource * only for X-Ray."
  }
}

run "bad_environment_is_rejected" {
  command = plan
  variables {
    environment = "dev1"
  }
  expect_failures = [var.environment]
}

run "empty_dataset_list_is_rejected" {
  command = plan
  variables {
    datasets = []
  }
  expect_failures = [var.datasets]
}

run "dead_letter_queue_alarm_notifies_the_failure_topic" {
  command = apply

  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.metric_name == "ApproximateNumberOfMessagesVisible" && aws_cloudwatch_metric_alarm.dlq_not_empty.namespace == "AWS/SQS"
    error_message = "the alarm watches the dead-letter queue's visible messages"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.dimensions["QueueName"] == aws_sqs_queue.dlq.name && aws_cloudwatch_metric_alarm.dlq_not_empty.threshold == 0 && aws_cloudwatch_metric_alarm.dlq_not_empty.comparison_operator == "GreaterThanThreshold"
    error_message = "one message in the dead-letter queue raises the alarm"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dlq_not_empty.alarm_actions == toset([var.alarm_topic_arn])
    error_message = "the alarm notifies the failure topic"
  }
}

run "alarm_topic_must_be_an_sns_arn" {
  command = plan

  variables {
    alarm_topic_arn = "lakepipe-dev-pipeline-failures"
  }

  expect_failures = [var.alarm_topic_arn]
}

run "the_lambda_passes_every_spec_property_on" {
  command = plan

  assert {
    # Terraform keeps only the attributes the variable's type lists: a new schema property missing there
    # would never reach the jobs (the trigger puts the specs object's spec in the execution input).
    condition = (
      toset(keys(jsondecode(aws_s3_object.datasets.content)[0])) ==
      toset(keys(jsondecode(file("../../../datasets/dataset.schema.json")).properties))
    )
    error_message = "The trigger's datasets type must list every property of datasets/dataset.schema.json."
  }
}

run "thirty_datasets_with_quality_rules_keep_the_environment_small" {
  command = plan

  variables {
    # ~30 KB of specs: over seven times what Lambda allows for all environment variables together.
    datasets = [for i in range(30) : {
      name          = "feed${i}", raw_prefix = "incoming/feed${i}/", target = "glue", database = "lake", table = "feed${i}",
      view_database = null, split_column = "series", id_columns = ["entity", "period"], key_column = "key",
      value_column  = "value", view_prefix = "feed${i}_view_",
      quality_rules = [
        { name = "series_set", type = "not_null", column = "series" },
        { name = "known_units", type = "accepted_values", column = "unit", values = ["usd", "eur", "pct"] },
        { name = "period_shape", type = "regex", column = "period", pattern = "^[0-9]{4}-Q[1-4]$" },
        { name = "value_range", type = "value_range", min = -1000000, max = 1000000 },
      ]
    }]
  }

  assert {
    condition     = length(jsondecode(aws_s3_object.datasets.content)) == 30 && length(aws_s3_object.datasets.content) > 4096
    error_message = "All 30 specs (more than 4 KB of JSON) go into the specs object."
  }
  assert {
    condition     = sum([for k, v in local.function_environment : length(k) + length(v)]) < 1024
    error_message = "The Lambda's environment stays small however many datasets there are."
  }
}
