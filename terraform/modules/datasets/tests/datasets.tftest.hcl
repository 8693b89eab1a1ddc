# Reads the repository's real dataset specs: the same files the jobs and Lambdas use.
variables {
  datasets_dir = "../../../datasets"
}

run "repository_specs_get_schema_defaults" {
  command = plan

  assert {
    condition     = length(output.datasets) >= 2 && contains([for d in output.datasets : d.name], "entities")
    error_message = "Expected the repository's dataset specs (entities, regulatory)."
  }
  assert {
    condition     = output.by_name["entities"].split_column == "entity1" && output.by_name["entities"].id_columns == ["entity2", "entity3", "entity4"]
    error_message = "Schema defaults were not applied to entities."
  }
  assert {
    condition     = output.by_name["entities"].view_database == "lake_views" && output.by_name["regulatory"].view_database == "lake_views" && output.by_name["entities"].view_prefix == "entity_view_"
    error_message = "The bundled datasets put their views in lake_views (a view-only database analysts can be granted), view_prefix default."
  }
  assert {
    condition     = output.by_name["regulatory"].split_column == "seriesid" && output.by_name["regulatory"].view_prefix == "report_view_"
    error_message = "A spec's own values must win over the schema defaults."
  }
  assert {
    condition     = alltrue([for d in output.datasets : endswith(d.raw_prefix, "/") && contains(["glue", "s3tables"], d.target)])
    error_message = "raw_prefix must end with / and target must be glue or s3tables."
  }
}

run "analyst_groups_default_to_none_and_keep_their_values" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/analyst_groups"
  }
  assert {
    condition     = output.by_name["entities"].analyst_groups == []
    error_message = "A spec without analyst_groups has none."
  }
  assert {
    condition     = output.by_name["acme"].analyst_groups[1] == { name = "quoted", split_values = ["O'Brien & Co", "Globex"], excluded_columns = [] }
    error_message = "A group's split values are kept as written; excluded_columns defaults to none."
  }
}

run "analyst_group_with_a_field_the_schema_does_not_know_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/analyst_groups_bad"
  }
  expect_failures = [output.datasets]
}

run "empty_dataset_list_is_rejected" {
  command = plan
  variables {
    datasets_dir = "tests/fixtures/empty"
    schema_file  = "../../../datasets/dataset.schema.json"
  }
  expect_failures = [output.datasets]
}

run "unknown_field_is_rejected" {
  command = plan
  variables {
    datasets_dir = "tests/fixtures/unknown_field"
    schema_file  = "../../../datasets/dataset.schema.json"
  }
  expect_failures = [output.datasets]
}

run "overlapping_raw_prefixes_are_rejected" {
  command = plan
  variables {
    datasets_dir = "tests/fixtures/overlap"
    schema_file  = "../../../datasets/dataset.schema.json"
  }
  expect_failures = [output.datasets]
}

run "extra_datasets_dir_adds_specs_after_the_repository_ones" {
  command = plan
  variables {
    extra_datasets_dir = "../../../tests/e2e/datasets"
  }
  assert {
    condition     = output.by_name["entities_s3t"].target == "s3tables" && output.by_name["entities_s3t"].split_column == "entity1" && contains([for d in output.datasets : d.name], "regulatory")
    error_message = "The extra folder's specs must be added, with the schema defaults, next to the repository's."
  }
}

run "extra_spec_reusing_a_dataset_name_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/extra_duplicate"
  }
  expect_failures = [output.datasets]
}

run "monitoring_fields_default_one_by_one" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/monitoring"
  }
  assert {
    condition     = output.by_name["entities"].monitoring == { max_reject_ratio = 0.05, expected_cadence_hours = null }
    error_message = "A spec without monitoring gets the schema's defaults (5% rejects, no cadence)."
  }
  assert {
    condition     = output.by_name["hourly"].monitoring.expected_cadence_hours == 2 && output.by_name["hourly"].monitoring.max_reject_ratio == 0.05
    error_message = "A spec setting one monitoring field keeps the default of the other."
  }
  assert {
    condition     = output.by_name["strict"].monitoring.max_reject_ratio == 0 && output.by_name["strict"].monitoring.expected_cadence_hours == null
    error_message = "A spec's own monitoring values (0 included, null cadence) win."
  }
}

run "monitoring_reject_ratio_above_one_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/monitoring_bad_ratio"
  }
  expect_failures = [output.datasets]
}

run "monitoring_cadence_beyond_seven_days_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/monitoring_bad_cadence"
  }
  expect_failures = [output.datasets]
}

run "monitoring_unknown_field_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/monitoring_unknown_field"
  }
  expect_failures = [output.datasets]
}

run "schema_drift_fields_default_and_keep_their_values" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/drift"
  }
  assert {
    condition     = output.by_name["entities"].rename == tomap({}) && output.by_name["entities"].keep_extra_columns == false
    error_message = "A spec without rename/keep_extra_columns gets no aliases and does not keep extra columns."
  }
  assert {
    condition     = output.by_name["drift"].rename == tomap({ "Entity 1" = "entity1", val = "value" }) && output.by_name["drift"].keep_extra_columns == true
    error_message = "A spec's rename map and keep_extra_columns are kept as written."
  }
}

run "rename_to_a_column_the_dataset_does_not_have_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/drift_bad_rename"
  }
  expect_failures = [output.datasets]
}

run "quality_rules_get_every_field_and_the_default_severity" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/quality"
  }
  assert {
    condition     = output.by_name["entities"].quality_rules == []
    error_message = "A spec without quality_rules has none."
  }
  assert {
    condition     = output.by_name["checked"].quality_rules[0] == { name = null, type = "not_null", severity = "error", column = "value", values = null, pattern = null, min = null, max = null }
    error_message = "A rule gets severity error by default and null for the fields it does not set."
  }
  assert {
    condition     = output.by_name["checked"].quality_rules[1].severity == "warn" && output.by_name["checked"].quality_rules[1].values == ["EMEA", "APAC"]
    error_message = "A rule's own severity and values are kept."
  }
}

run "a_regex_rule_without_a_pattern_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/quality_bad"
  }
  expect_failures = [output.datasets]
}

run "json_format_and_its_rule" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/json_feed"
  }
  assert {
    condition     = output.by_name["entities"].format == "csv" && output.by_name["entities"].json == null
    error_message = "A spec without format is csv and has no json rule."
  }
  assert {
    condition     = output.by_name["feed"].format == "json" && output.by_name["feed"].json.explode == "$.figures" && output.by_name["feed"].json.columns["key"] == "@.metric" && output.by_name["feed"].json.leaves == null
    error_message = "A json spec keeps its rule, unset fields null."
  }
}

run "json_format_without_its_rule_is_rejected" {
  command = plan
  variables {
    extra_datasets_dir = "tests/fixtures/json_bad"
  }
  expect_failures = [output.datasets]
}
