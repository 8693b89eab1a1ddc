"""JSON feeds (`format: json`): NDJSON or one top-level array, gzip or not -> rows of the dataset's columns.

The spec's `json` object says how a nested record becomes rows (paths in Spark's get_json_object syntax,
restricted to names and indexes: `$.company.name`, `$.items[0].id`):
- `columns`: dataset column -> path. `$` is the record, `@` the element of the exploded array.
- `explode` (optional): path of an array in the record; each element gives one row (`@`). A record
  whose array is missing or empty gives one row without its `@` columns (so it is rejected, not lost).
- `leaves` (optional): path of an object (`$...` or `@...`); each leaf field under it gives one row,
  the key column holding its path below that object (`revenue.q1`), the value column its value (text;
  arrays as JSON). Objects are followed MAX_DEPTH levels deep; deeper objects are leaves (JSON text).

A line that is not a JSON object (NDJSON) is rejected as `unparseable` with its line number; a
top-level array that does not parse fails the run (there are no records to tell apart). Records of an
array are numbered by their place in it (`line` = element number, 1-based).
"""

from __future__ import annotations

from lakepipe.spec import DatasetSpec

MAX_DEPTH = 8
MALFORMED = "_lp_malformed"


class JsonSourceError(ValueError):
    """The file cannot be read as JSON records; nothing is loaded."""


def _path(path: str) -> str:
    """A spec path (`$...` or `@...`) as get_json_object's path on the record or the element."""
    return "$" + path[1:]


def read_records(spark, uri: str, first_line: str | None):
    """One row per JSON record: `_lp_line` (its JSON text), `_lp_pid`, `_lp_block`, `_lp_idx` like
    ingest._read_lines, and `_lp_malformed`. `first_line`: the file's first line (an array starts with `[`)."""
    from pyspark.sql import functions as F

    if first_line is not None and first_line.lstrip("\ufeff \t").startswith("["):
        whole = spark.read.text(uri, wholetext=True)
        elements = whole.select(F.posexplode(F.from_json("value", "ARRAY<STRING>")).alias("pos", "rec"))
        if not whole.select(F.from_json("value", "ARRAY<STRING>").isNotNull()).head(1)[0][0]:
            raise JsonSourceError(f"{uri}: the file starts with [ but is not a JSON array; nothing was loaded")
        return elements.select(F.col("rec").alias("_lp_line"), F.lit(0).alias("_lp_pid"),
                               F.lit(0).cast("long").alias("_lp_block"), F.col("pos").cast("long").alias("_lp_idx"),
                               F.json_object_keys("rec").isNull().alias(MALFORMED))
    from lakepipe.ingest import _read_lines

    lines = _read_lines(spark, uri)
    # json_object_keys is NULL for anything but a valid JSON object; a blank line is neither (NULL)
    malformed = F.when(F.trim("_lp_line") != "", F.json_object_keys("_lp_line").isNull())
    return lines.select("*", malformed.alias(MALFORMED))


def flatten(records, spec: DatasetSpec):
    """Records -> one row per (record, exploded element, leaf): the position columns, `_lp_sub` (the row's
    place within its record, for "last wins"), the dataset's columns as strings, `_lp_malformed`.
    A malformed record and a blank line give one row each, with null columns."""
    from pyspark.sql import functions as F

    rule = spec.json
    rec = F.col("_lp_line")
    rows = records.select("*", F.lit(None).cast("string").alias("_lp_elem"), F.lit(0).alias("_lp_e"))
    if rule.get("explode"):
        elements = F.from_json(F.get_json_object(rec, _path(rule["explode"])), "ARRAY<STRING>")
        # a malformed record keeps one row, so it is rejected with its line
        elements = F.when(F.coalesce(F.col(MALFORMED), F.lit(True)), F.array(F.lit(None).cast("string"))).otherwise(
            elements)
        rows = records.select("*", F.posexplode_outer(elements).alias("_lp_e", "_lp_elem"))

    def value(path: str):
        return F.get_json_object(rec if path.startswith("$") else F.col("_lp_elem"), _path(path))

    leaves = rule.get("leaves")
    mapped = {c: value(p) for c, p in rule.get("columns", {}).items()}
    if leaves:
        entry = F.struct(F.lit("").alias("k"), value(leaves).alias("v"), F.lit(True).alias("top"))
        rows = rows.select("*", F.array(entry).alias("_lp_leaves"))
        for _ in range(MAX_DEPTH):
            rows = rows.select("*", F.transform("_lp_leaves", _expand).alias("_lp_next")).select(
                *[c for c in rows.columns if c != "_lp_leaves"], F.flatten("_lp_next").alias("_lp_leaves"))
        rows = rows.select("*", F.posexplode_outer("_lp_leaves").alias("_lp_l", "_lp_leaf"))
        mapped[spec.key_column] = F.col("_lp_leaf.k")
        mapped[spec.value_column] = F.col("_lp_leaf.v")
        sub = F.coalesce(F.col("_lp_e"), F.lit(0)) * F.lit(1 << 20) + F.coalesce(F.col("_lp_l"), F.lit(0))
    else:
        sub = F.coalesce(F.col("_lp_e"), F.lit(0))
    malformed = F.col(MALFORMED)  # NULL: a blank line
    return rows.select(
        "_lp_pid", "_lp_block", "_lp_idx", "_lp_bad_utf8", sub.cast("long").alias("_lp_sub"),
        # an id column without a path is NULL, like an empty CSV field
        *[F.when(~malformed, mapped.get(c, F.lit(None).cast("string"))).alias(c) for c in spec.data_columns],
        malformed.alias(MALFORMED))


def _expand(entry):
    """One level of `leaves`: an object becomes its fields (keys joined with "."), anything else stays."""
    from pyspark.sql import functions as F

    fields = F.from_json(entry["v"], "MAP<STRING,STRING>")
    is_object = entry["v"].startswith("{") & fields.isNotNull()
    children = F.transform(F.map_entries(fields), lambda e: F.struct(
        F.when(entry["top"], e["key"]).otherwise(F.concat(entry["k"], F.lit("."), e["key"])).alias("k"),
        e["value"].alias("v"), F.lit(False).alias("top")))
    leaf = F.array(F.struct(entry["k"].alias("k"), entry["v"].alias("v"), F.lit(False).alias("top")))
    return F.when(is_object, children).otherwise(F.when(entry["v"].isNotNull() & ~entry["top"], leaf).otherwise(
        F.array().cast("array<struct<k:string,v:string,top:boolean>>")))
