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
    # Schema drift (lakepipe.rules): header alias -> dataset column; extra columns loaded too.
    rename             = tomap({ for alias, column in s.rename : alias => column })
    keep_extra_columns = s.keep_extra_columns
    # Data-quality rules (lakepipe.quality), every field present (null when unset), severity defaulted.
    quality_rules = [for r in s.quality_rules : {
      name     = try(r.name, null)
      type     = try(r.type, null)
      severity = coalesce(try(r.severity, null), "error")
      column   = try(r.column, null)
      values   = try(r["values"], null)
      pattern  = try(r.pattern, null)
      min      = try(r.min, null)
      max      = try(r.max, null)
    }]
    # format json: how a nested record becomes rows (lakepipe.jsonsource); null for csv.
    format = s.format
    json = s.json == null ? null : {
      columns = tomap({ for column, path in try(s.json.columns, {}) : column => path })
      explode = try(s.json.explode, null)
      leaves  = try(s.json.leaves, null)
    }
  }]

  unknown_fields = flatten([for f, s in local.raw_specs : [for k in keys(s) : "${f}: ${k}" if !contains(keys(local.properties), k)]])
  missing_fields = flatten([for f, s in local.raw_specs : [for k in local.required : "${f}: ${k}" if !contains(keys(s), k)]])

  pattern_fields = ["name", "raw_prefix", "database", "table", "split_column", "key_column", "value_column", "view_prefix"]
  pattern_errors = flatten([for s in local.datasets : concat(
    [for k in local.pattern_fields : "${s.name}.${k}" if length(regexall(local.properties[k].pattern, s[k])) == 0],
    s.view_database == null ? [] : [for x in [s.view_database] : "${s.name}.view_database" if length(regexall(local.properties.view_database.pattern, x)) == 0],
    [for c in s.id_columns : "${s.name}.id_columns" if length(regexall(local.properties.id_columns.items.pattern, c)) == 0],
    contains(local.properties.target.enum, s.target) ? [] : ["${s.name}.target"],
    contains(local.properties.format.enum, s.format) ? [] : ["${s.name}.format"],
    (s.format == "json") == (s.json != null) ? [] : ["${s.name}.json (required for format json, only for it)"],
    s.json == null ? [] : [for k in keys(s.json) : "${s.name}.json.${k} is unknown" if !contains(keys(local.properties.json.properties), k)],
    s.json == null ? [] : [for p in concat(values(try(s.json.columns, {})), compact([try(s.json.explode, null), try(s.json.leaves, null)])) : "${s.name}.json path ${p}" if !can(regex(local.properties.json.properties.explode.pattern, p))],
    [for a, c in s.rename : "${s.name}.rename.${a}" if !can(regex(local.properties.rename.additionalProperties.pattern, c)) || !contains(concat([s.split_column, s.key_column, s.value_column], s.id_columns), c)],
    s.keep_extra_columns == true || s.keep_extra_columns == false ? [] : ["${s.name}.keep_extra_columns"],
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

  # quality_rules items against the schema and the cross-field rules of lakepipe.spec.quality_rule_errors.
  rule_schema = local.properties.quality_rules.items
  rule_needs = {
    not_null    = ["column"], accepted_values = ["column", "values"], regex = ["column", "pattern"], unique = [],
    value_range = ["min|max"], row_count = ["min|max"], max_reject_ratio = ["max"],
  }
  quality_rule_errors = flatten([for s in local.merged : concat(
    [for i, r in s.quality_rules : concat(
      [for k in keys(r) : "${s.name}: quality_rules[${i}].${k} is unknown" if !contains(keys(local.rule_schema.properties), k)],
      contains(local.rule_schema.properties.type.enum, try(r.type, "")) ? [] : ["${s.name}: quality_rules[${i}].type"],
      try(r.severity, null) == null || contains(["error", "warn"], try(r.severity, "")) ? [] : ["${s.name}: quality_rules[${i}].severity"],
      try(r.name, null) == null || can(regex(local.rule_schema.properties.name.pattern, r.name)) ? [] : ["${s.name}: quality_rules[${i}].name"],
      try(r.column, null) == null || contains(concat([s.split_column, s.key_column, s.value_column], s.id_columns), try(r.column, "")) ? [] : ["${s.name}: quality_rules[${i}].column is not a column of the dataset"],
      [for need in lookup(local.rule_needs, try(r.type, ""), []) : "${s.name}: quality_rules[${i}] needs ${replace(need, "|", " or ")}" if alltrue([for n in split("|", need) : try(r[n], null) == null])],
      try(r["values"], null) == null || length(try(r["values"], [])) >= 1 ? [] : ["${s.name}: quality_rules[${i}].values is empty"],
      try(r.type, "") != "max_reject_ratio" || try(r.max >= 0 && r.max <= 1, false) ? [] : ["${s.name}: quality_rules[${i}].max must be between 0 and 1"],
    )],
    length(distinct([for r in s.quality_rules : coalesce(try(r.name, null), join("_", compact([try(r.type, ""), try(r.column, "")])))])) == length(s.quality_rules) ? [] : ["${s.name}: quality rule names must be unique"],
  )])

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
