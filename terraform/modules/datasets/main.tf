# Reads datasets/*.json and applies the defaults of datasets/dataset.schema.json: the single source
# of truth shared with lakepipe.spec (Python). No resources; the checks below fail plan on bad specs.
locals {
  schema_file = coalesce(var.schema_file, "${var.datasets_dir}/dataset.schema.json")
  schema      = jsondecode(file(local.schema_file))
  properties  = local.schema.properties
  required    = local.schema.required

  # Only fields that declare a default (view_database's default is null, so test for the key).
  defaults = { for field, prop in local.properties : field => prop["default"] if contains(keys(prop), "default") }

  spec_files = concat(
    sort([for f in fileset(var.datasets_dir, "*.json") : "${var.datasets_dir}/${f}" if f != basename(local.schema_file)]),
    var.extra_datasets_dir == null ? [] : sort([for f in fileset(var.extra_datasets_dir, "*.json") : "${var.extra_datasets_dir}/${f}"]),
  )
  raw_specs = { for f in local.spec_files : f => jsondecode(file(f)) }

  merged = [for f in local.spec_files : merge(local.defaults, local.raw_specs[f])]

  # Normalised, fully typed objects (sorted by file name, which is the dataset name by convention).
  datasets = [for s in local.merged : {
    # Lake Formation analyst groups for modules/catalog, excluded_columns defaulted.
    analyst_groups = [for g in s.analyst_groups : {
      name             = g.name
      split_values     = [for v in g.split_values : v]
      excluded_columns = [for c in try(g.excluded_columns, []) : c]
    }]
    name          = s.name
    raw_prefix    = s.raw_prefix
    target        = s.target
    database      = s.database
    table         = s.table
    view_database = s.view_database
    split_column  = s.split_column
    id_columns    = [for c in s.id_columns : c]
    key_column    = s.key_column
    value_column  = s.value_column
    view_prefix   = s.view_prefix
    # Alarm thresholds for modules/monitoring, each field defaulted from the schema on its own.
    monitoring = { for field, prop in local.monitoring_properties : field => lookup(s.monitoring, field, prop["default"]) }
  }]

  unknown_fields = flatten([for f, s in local.raw_specs : [for k in keys(s) : "${f}: ${k}" if !contains(keys(local.properties), k)]])
  missing_fields = flatten([for f, s in local.raw_specs : [for k in local.required : "${f}: ${k}" if !contains(keys(s), k)]])

  pattern_fields = ["name", "raw_prefix", "database", "table", "split_column", "key_column", "value_column", "view_prefix"]
  pattern_errors = flatten([for s in local.datasets : concat(
    [for k in local.pattern_fields : "${s.name}.${k}" if length(regexall(local.properties[k].pattern, s[k])) == 0],
    s.view_database == null ? [] : [for x in [s.view_database] : "${s.name}.view_database" if length(regexall(local.properties.view_database.pattern, x)) == 0],
    [for c in s.id_columns : "${s.name}.id_columns" if length(regexall(local.properties.id_columns.items.pattern, c)) == 0],
    contains(local.properties.target.enum, s.target) ? [] : ["${s.name}.target"],
  )])

  monitoring_properties = local.properties.monitoring.properties
  monitoring_errors = flatten([for f, s in local.raw_specs : concat(
    [for k in keys(try(s.monitoring, {})) : "${f}: monitoring.${k} is unknown" if !contains(keys(local.monitoring_properties), k)],
  )])
  threshold_errors = flatten([for s in local.datasets : concat(
    s.monitoring.max_reject_ratio >= local.monitoring_properties.max_reject_ratio.minimum && s.monitoring.max_reject_ratio <= local.monitoring_properties.max_reject_ratio.maximum ? [] : ["${s.name}.monitoring.max_reject_ratio"],
    s.monitoring.expected_cadence_hours == null ? [] : [for h in [s.monitoring.expected_cadence_hours] : "${s.name}.monitoring.expected_cadence_hours" if h != floor(h) || h < local.monitoring_properties.expected_cadence_hours.minimum || h > local.monitoring_properties.expected_cadence_hours.maximum],
  )])

  names    = [for s in local.datasets : s.name]
  prefixes = [for s in local.datasets : s.raw_prefix]
  # S3 rejects two notification rules whose prefixes overlap for the same suffix.
  overlapping_prefixes = flatten([for a in local.prefixes : [for b in local.prefixes : "${a} / ${b}" if a != b && startswith(b, a)]])

  # analyst_groups items against the schema (modules/catalog checks the cross-field rules).
  group_schema = local.properties.analyst_groups.items
  analyst_group_errors = flatten([for f, s in local.raw_specs : [for i, g in try(s.analyst_groups, []) : concat(
    [for k in keys(g) : "${f}: analyst_groups[${i}].${k} is unknown" if !contains(keys(local.group_schema.properties), k)],
    [for k in local.group_schema.required : "${f}: analyst_groups[${i}].${k} is missing" if !contains(keys(g), k)],
    can(regex(local.group_schema.properties.name.pattern, g.name)) ? [] : ["${f}: analyst_groups[${i}].name"],
    length(try(g.split_values, [])) >= local.group_schema.properties.split_values.minItems ? [] : ["${f}: analyst_groups[${i}].split_values is empty"],
    [for v in try(g.split_values, []) : "${f}: analyst_groups[${i}].split_values ${jsonencode(v)}" if !can(regex(local.group_schema.properties.split_values.items.pattern, v))],
    [for c in try(g.excluded_columns, []) : "${f}: analyst_groups[${i}].excluded_columns ${c}" if !can(regex(local.group_schema.properties.excluded_columns.items.pattern, c))],
  )]])
}
