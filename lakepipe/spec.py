"""Dataset specs: load, apply the schema's defaults, validate.

`datasets/dataset.schema.json` is the single source of truth for the shape and the
defaults (Terraform applies the same defaults). The Glue and Lambda zips carry a copy
at `lakepipe/dataset.schema.json` (made by `make package`); in a checkout we read the
repository's file. The validator implements exactly the JSON-Schema keywords that file
uses, because neither the Glue runtime nor the Lambda zip ships `jsonschema`; a unit test
proves it agrees with `jsonschema` on the real schema.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Columns the ingest job adds to every table; a dataset may not use these names.
METADATA_COLUMNS = ("lakepipe_source_file", "lakepipe_ingested_at", "lakepipe_run_id")
# The order of the source a row came from (lakepipe.ordering): its S3 event's eventTime and sequencer.
# Kept apart from METADATA_COLUMNS, which the ingest job unpacks as exactly three names.
SOURCE_ORDER_COLUMNS = ("lakepipe_source_event_time", "lakepipe_source_sequencer")
RESERVED_COLUMNS = (*METADATA_COLUMNS, *SOURCE_ORDER_COLUMNS)


class SpecError(ValueError):
    """A dataset spec that does not satisfy the schema or the cross-field rules."""


def _schema_text() -> str:
    # importlib.resources, not Path(__file__): inside Glue, lakepipe is imported from a zip
    # (--extra-py-files), where __file__ is not a real path.
    packaged = importlib.resources.files("lakepipe").joinpath("dataset.schema.json")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parent.parent / "datasets" / "dataset.schema.json"
    if checkout.is_file():
        return checkout.read_text(encoding="utf-8")
    raise FileNotFoundError(
        "dataset.schema.json not found inside the lakepipe package (packaged) or in ../datasets/ (checkout)"
    )


_SCHEMA_CACHE: dict[str, Any] | None = None


def load_schema() -> dict[str, Any]:
    global _SCHEMA_CACHE
    if _SCHEMA_CACHE is None:
        _SCHEMA_CACHE = json.loads(_schema_text())
    return copy.deepcopy(_SCHEMA_CACHE)


_TYPES = {
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _validate(value: Any, schema: dict[str, Any], path: str, errors: list[str]) -> None:
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_TYPES[t](value) for t in types):
            errors.append(f"{path}: expected {' or '.join(types)}, got {type(value).__name__}")
            return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path}: {value!r} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path}: {value!r} is greater than the maximum {schema['maximum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{path}: needs at least {schema['minItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                _validate(item, schema["items"], f"{path}[{i}]", errors)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}: missing required property {name!r}")
        if schema.get("additionalProperties") is False:
            for name in sorted(set(value) - set(props)):
                errors.append(f"{path}: unknown property {name!r}")
        elif isinstance(schema.get("additionalProperties"), dict):  # a map: every other value has this schema
            for name in sorted(set(value) - set(props)):
                _validate(value[name], schema["additionalProperties"], f"{path}.{name}", errors)
        for name, sub in props.items():
            if name in value:
                _validate(value[name], sub, f"{path}.{name}", errors)


def schema_errors(value: Any, schema: dict[str, Any] | None = None) -> list[str]:
    """Schema violations only (no cross-field rules)."""
    errors: list[str] = []
    _validate(value, schema or load_schema(), "$", errors)
    return errors


def apply_defaults(raw: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = schema or load_schema()
    out = copy.deepcopy(raw)
    for name, sub in schema["properties"].items():
        if name not in out and "default" in sub:
            out[name] = copy.deepcopy(sub["default"])
    return out


# What each quality rule type needs besides `type` (lakepipe.quality); terraform/modules/datasets checks the same.
QUALITY_RULE_NEEDS = {"not_null": ("column",), "accepted_values": ("column", "values"), "regex": ("column", "pattern"),
                      "unique": (), "value_range": ("min|max",), "row_count": ("min|max",), "max_reject_ratio": ("max",)}


def quality_rule_errors(rules: list[dict[str, Any]], columns: list[str]) -> list[str]:
    """Cross-field rules of `quality_rules`: the fields a type needs, a dataset column, unique names."""
    errors = []
    for i, rule in enumerate(rules):
        where = f"$.quality_rules[{i}]"
        for need in QUALITY_RULE_NEEDS[rule["type"]]:
            if all(rule.get(n) is None for n in need.split("|")):
                errors.append(f"{where}: a {rule['type']} rule needs {' or '.join(need.split('|'))}")
        if rule.get("column") is not None and rule["column"] not in columns:
            errors.append(f"{where}: column {rule['column']!r} is not a column of the dataset")
        if rule["type"] == "max_reject_ratio" and rule.get("max") is not None and not 0 <= rule["max"] <= 1:
            errors.append(f"{where}: max must be between 0 and 1")
    from lakepipe.quality import rule_name

    names = [rule_name(r) for r in rules]
    if len(set(names)) != len(names):
        errors.append(f"$.quality_rules: rule names must be unique (give a `name`): {sorted(names)}")
    return errors


def json_rule_errors(spec: dict[str, Any], columns: list[str]) -> list[str]:
    """format json needs `json`: every path maps a dataset column; the split column is mapped, and so are the
    key and value columns unless `leaves` fills them; `@` paths need `explode`."""
    rule = spec.get("json")
    if spec.get("format", "csv") != "json":
        return ["$.json: only for format json"] if rule else []
    if not rule:
        return ["$.json: format json needs it (columns, explode, leaves)"]
    errors = []
    mapped = rule.get("columns") or {}
    unknown = sorted(set(mapped) - set(columns))
    if unknown:
        errors.append(f"$.json.columns: not columns of the dataset: {unknown}")
    needed = [spec["split_column"]] + ([] if rule.get("leaves") else [spec["key_column"], spec["value_column"]])
    missing = [c for c in needed if c not in mapped]
    if missing:
        errors.append(f"$.json.columns: must map {missing}")
    if rule.get("leaves") and ({spec["key_column"], spec["value_column"]} & set(mapped)):
        errors.append("$.json: leaves fills the key and value columns; do not map them in columns")
    paths = [*mapped.values(), rule.get("leaves") or ""]
    if any(p.startswith("@") for p in paths) and not rule.get("explode"):
        errors.append("$.json: @ paths need explode")
    if (rule.get("explode") or "$").startswith("@"):
        errors.append("$.json.explode: a path in the record ($...)")
    return errors


def validate_spec(spec: dict[str, Any], schema: dict[str, Any] | None = None) -> None:
    """Raise SpecError listing every problem (schema and cross-field)."""
    schema = schema or load_schema()
    errors: list[str] = []
    if not isinstance(spec, dict):
        raise SpecError(f"dataset spec must be a JSON object, got {type(spec).__name__}")
    _validate(spec, schema, "$", errors)
    if not errors:
        cols = [spec["split_column"], *spec["id_columns"], spec["key_column"], spec["value_column"]]
        dupes = sorted({c for c in cols if cols.count(c) > 1})
        if dupes:
            errors.append(f"$: split/id/key/value columns must be distinct; repeated: {dupes}")
        clash = sorted(set(cols) & set(RESERVED_COLUMNS))
        if clash:
            errors.append(f"$: column names reserved for ingestion metadata: {clash}")
        unknown = sorted({c for c in spec.get("rename", {}).values() if c not in cols})
        if unknown:
            errors.append(f"$.rename: renames to columns the dataset does not have: {unknown}")
        errors += quality_rule_errors(spec.get("quality_rules", []), cols)
        errors += json_rule_errors(spec, cols)
        errors.extend(analyst_group_errors(spec))
    if errors:
        name = spec.get("name", "<unnamed>") if isinstance(spec, dict) else "<unnamed>"
        raise SpecError(f"invalid dataset spec {name!r}: " + "; ".join(errors))


def analyst_group_errors(spec: dict[str, Any]) -> list[str]:
    """Cross-field rules of `analyst_groups` (Terraform's modules/catalog checks the same): Lake Formation
    grants on a glue target only; excluded columns are the table's and no view reads them; each split
    value's view is named view_prefix + slug, unshortened and unique among the declared values, so
    Terraform can name it."""
    from .naming import MAX_VIEW_NAME, slugify

    groups = spec.get("analyst_groups") or []
    errors: list[str] = []
    if groups and spec["target"] != "glue":
        errors.append("$.analyst_groups: only datasets with target glue can have analyst groups")
    names = [g["name"] for g in groups]
    if len(set(names)) != len(names):
        errors.append(f"$.analyst_groups: group names must be unique: {sorted(names)}")
    columns = {spec["split_column"], *spec["id_columns"], spec["key_column"], spec["value_column"], *RESERVED_COLUMNS}
    values = sorted({v for g in groups for v in g["split_values"]})
    by_slug: dict[str, list[str]] = {}
    for v in values:
        by_slug.setdefault(slugify(v), []).append(v)
    # Views are read with the definer's rights, so what they read reaches the group whatever its filter
    # excludes: lakepipe.viewsql projects the split and id columns, names view columns after the key
    # column's values and fills them from the value column.
    read_by_views = {spec["split_column"], *spec["id_columns"], spec["key_column"], spec["value_column"]}
    for i, g in enumerate(groups):
        unknown = sorted(set(g.get("excluded_columns", [])) - columns)
        if unknown:
            errors.append(f"$.analyst_groups[{i}].excluded_columns: not columns of the table: {unknown}")
        shown = sorted(set(g.get("excluded_columns", [])) & read_by_views)
        if shown:
            errors.append(f"$.analyst_groups[{i}].excluded_columns: dataset {spec['name']!r} group {g['name']!r} "
                          f"excludes {shown}, which its views show (views are read with the definer's rights); "
                          f"only columns no view reads can be excluded: {list(RESERVED_COLUMNS)}")
    for slug, same in sorted(by_slug.items()):
        if not slug or len(spec["view_prefix"] + slug) > MAX_VIEW_NAME or len(same) > 1:
            errors.append(f"$.analyst_groups: split values {same} have no view name of their own "
                          f"({spec['view_prefix']}<slug>: a slug of letters or digits, at most {MAX_VIEW_NAME} "
                          f"characters, one value per slug)")
    return errors


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    raw_prefix: str
    target: str
    database: str
    table: str
    view_database: str | None
    split_column: str
    id_columns: tuple[str, ...]
    key_column: str
    value_column: str
    view_prefix: str
    # Lake Formation analyst groups (terraform/modules/catalog), excluded_columns filled in; the jobs ignore them.
    analyst_groups: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    # Alarm thresholds (terraform/modules/monitoring), every field present; the jobs do not read them.
    monitoring: dict[str, Any] = field(default_factory=lambda: monitoring_with_defaults({}), hash=False)
    # Schema drift (lakepipe.rules.match_header): header alias -> dataset column; extra columns loaded too.
    rename: dict[str, str] = field(default_factory=dict, hash=False)
    keep_extra_columns: bool = False
    # Data-quality rules (lakepipe.quality), severity filled in.
    quality_rules: tuple[dict[str, Any], ...] = field(default=(), hash=False)
    format: str = "csv"
    json: dict[str, Any] | None = field(default=None, hash=False)  # format json: lakepipe.jsonsource

    @property
    def data_columns(self) -> tuple[str, ...]:
        """The dataset's CSV columns, in table order."""
        return (self.split_column, *self.id_columns, self.key_column, self.value_column)

    @property
    def natural_key(self) -> tuple[str, ...]:
        return (self.split_column, *self.id_columns, self.key_column)

    @property
    def views_database(self) -> str:
        return self.view_database or self.database

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "raw_prefix": self.raw_prefix,
            "target": self.target,
            "database": self.database,
            "table": self.table,
            "view_database": self.view_database,
            "split_column": self.split_column,
            "id_columns": list(self.id_columns),
            "key_column": self.key_column,
            "value_column": self.value_column,
            "view_prefix": self.view_prefix,
            "analyst_groups": [copy.deepcopy(g) for g in self.analyst_groups],
            "monitoring": dict(self.monitoring),
            "rename": dict(self.rename),
            "keep_extra_columns": self.keep_extra_columns,
            "quality_rules": [dict(r) for r in self.quality_rules],
            "format": self.format,
            "json": copy.deepcopy(self.json),
        }


def monitoring_with_defaults(monitoring: dict[str, Any], schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A spec's `monitoring` object with the schema's per-field defaults filled in (as modules/datasets does)."""
    props = (schema or load_schema())["properties"]["monitoring"]["properties"]
    return {name: monitoring.get(name, prop["default"]) for name, prop in props.items()}


def parse_spec(raw: dict[str, Any] | str) -> DatasetSpec:
    """Spec from a dict or JSON text: defaults applied, validated."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as e:
            raise SpecError(f"dataset spec is not valid JSON: {e}") from e
    if not isinstance(raw, dict):
        raise SpecError(f"dataset spec must be a JSON object, got {type(raw).__name__}")
    schema = load_schema()
    full = apply_defaults(raw, schema)
    validate_spec(full, schema)
    return DatasetSpec(
        name=full["name"],
        raw_prefix=full["raw_prefix"],
        target=full["target"],
        database=full["database"],
        table=full["table"],
        view_database=full["view_database"],
        split_column=full["split_column"],
        id_columns=tuple(full["id_columns"]),
        key_column=full["key_column"],
        value_column=full["value_column"],
        view_prefix=full["view_prefix"],
        analyst_groups=tuple({"name": g["name"], "split_values": list(g["split_values"]),
                              "excluded_columns": list(g.get("excluded_columns", []))}
                             for g in full["analyst_groups"]),
        monitoring=monitoring_with_defaults(full["monitoring"], schema),
        rename=dict(full["rename"]),
        keep_extra_columns=full["keep_extra_columns"],
        quality_rules=tuple({**r, "severity": r.get("severity") or "error"} for r in full["quality_rules"]),
        format=full["format"],
        json=full["json"],
    )


def load_spec_file(path: str | Path) -> DatasetSpec:
    path = Path(path)
    try:
        return parse_spec(json.loads(path.read_text(encoding="utf-8")))
    except json.JSONDecodeError as e:
        raise SpecError(f"{path}: not valid JSON: {e}") from e
    except SpecError as e:
        raise SpecError(f"{path}: {e}") from e


def load_specs_list(text: str, source: str = "dataset specs") -> list[DatasetSpec]:
    """A JSON list of specs (the trigger's specs object, named by `source` in errors) -> specs;
    names and prefixes must be unique."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpecError(f"{source} is not valid JSON: {e}") from e
    if not isinstance(items, list):
        raise SpecError(f"{source} must be a JSON list of dataset specs")
    specs = [parse_spec(item) for item in items]
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SpecError(f"{source} has duplicate dataset names: {sorted(names)}")
    prefixes = [s.raw_prefix for s in specs]
    if len(set(prefixes)) != len(prefixes):
        raise SpecError(f"{source} has duplicate raw prefixes: {sorted(prefixes)}")
    return specs
