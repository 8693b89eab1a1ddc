output "datasets" {
  description = "List of dataset specs with the schema defaults applied (every field present, view_database may be null)."
  value       = local.datasets

  precondition {
    condition     = length(local.datasets) > 0
    error_message = "No dataset specs found in ${var.datasets_dir}."
  }
  precondition {
    condition     = length(local.unknown_fields) == 0
    error_message = "Dataset specs carry fields the schema does not know: ${join(", ", local.unknown_fields)}."
  }
  precondition {
    condition     = length(local.missing_fields) == 0
    error_message = "Dataset specs miss required fields: ${join(", ", local.missing_fields)}."
  }
  precondition {
    condition     = length(local.pattern_errors) == 0
    error_message = "Dataset spec fields do not match the schema patterns/enums: ${join(", ", local.pattern_errors)}."
  }
  precondition {
    condition     = length(local.monitoring_errors) == 0 && length(local.threshold_errors) == 0
    error_message = "Dataset monitoring fields the schema does not know or out of range (max_reject_ratio 0-1, expected_cadence_hours an integer 1-168 or null): ${join(", ", concat(local.monitoring_errors, local.threshold_errors))}."
  }
  precondition {
    condition     = length(distinct(local.names)) == length(local.names)
    error_message = "Dataset names must be unique."
  }
  precondition {
    condition     = length(distinct(local.prefixes)) == length(local.prefixes) && length(local.overlapping_prefixes) == 0
    error_message = "Dataset raw prefixes must be unique and must not overlap: ${join(", ", local.overlapping_prefixes)}."
  }
  precondition {
    condition     = length(local.quality_rule_errors) == 0
    error_message = "Dataset quality_rules do not match the schema: ${join("; ", local.quality_rule_errors)}."
  }
  precondition {
    condition     = length(local.analyst_group_errors) == 0
    error_message = "Dataset analyst_groups do not match the schema: ${join("; ", local.analyst_group_errors)}."
  }
}

output "by_name" {
  description = "Map of dataset name to spec (defaults applied)."
  # Grouped, so that a duplicate name fails output.datasets' precondition instead of erroring here.
  value = { for name, specs in { for s in local.datasets : s.name => s... } : name => specs[0] }
}

output "defaults" {
  description = "The defaults read from the schema (properties.<field>.default)."
  value       = local.defaults
}

output "spec_files" {
  description = "Spec files read (paths), datasets_dir's first."
  value       = local.spec_files
}
