"""One pivot-view definition, rendered for Spark and for Athena (Trino).

The query is built as a sqlglot expression tree. Data values (split values, keys) only
enter as `exp.Literal.string(...)`, names only as quoted identifiers, so the dialect's
own escaping applies (`\\'` in Spark, `''` in Trino) and a hostile value cannot change
the statement's structure. Both renderings come from the same tree:

    SELECT split, id1.., MAX(CASE WHEN key = '<k>' THEN value END) AS <col>, ...
    FROM <database>.<table>
    WHERE split = '<split value>'
    GROUP BY split, id1..

The base table is the one thing the two renderings name differently (`BaseTable`):
- target glue: two-part `database.table` in both. The view lives in the same catalog as its
  base table, so neither representation names an engine's catalog (Spark's `glue_catalog`,
  Athena's `AwsDataCatalog`).
- target s3tables: the table is in the federated catalog `s3tablescatalog/<table bucket>`, the
  view in a database of the default catalog (Athena cannot create views inside S3 Tables
  catalogs), so each engine gets a three-part name: Athena `"s3tablescatalog/<bucket>".ns.table`,
  Spark `<spark catalog>.ns.table` with the catalog name the jobs' `--conf` configures.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from lakepipe.naming import column_names
from lakepipe.spec import DatasetSpec

# Glue's limit on ViewOriginalText/ViewExpandedText (ViewRepresentationInput).
MAX_VIEW_TEXT = 409_600
# Glue's limit on one table parameter value.
MAX_PARAMETER_VALUE = 512_000


class ViewDefinitionError(ValueError):
    pass


def _ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def _col(name: str) -> exp.Column:
    return exp.Column(this=_ident(name))


# An S3 Tables table bucket name: 3-63 characters, lowercase letters, digits and hyphens.
_TABLE_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
ATHENA_S3TABLES_CATALOG = "s3tablescatalog"


@dataclass(frozen=True)
class BaseTable:
    """The view's one base table, as Spark and as Athena name it."""

    spark: exp.Table
    athena: exp.Table


def glue_base_table(database: str, table: str) -> BaseTable:
    ref = exp.Table(this=_ident(table), db=_ident(database))
    return BaseTable(spark=ref, athena=ref.copy())


def s3tables_base_table(namespace: str, table: str, *, spark_catalog: str, table_bucket: str) -> BaseTable:
    if not _TABLE_BUCKET.match(table_bucket or ""):
        raise ViewDefinitionError(f"{table_bucket!r} is not an S3 Tables table bucket name")
    if not spark_catalog:
        raise ViewDefinitionError("the Spark catalog name of the S3 Tables catalog is empty")
    return BaseTable(
        spark=exp.Table(this=_ident(table), db=_ident(namespace), catalog=_ident(spark_catalog)),
        athena=exp.Table(this=_ident(table), db=_ident(namespace),
                         catalog=_ident(f"{ATHENA_S3TABLES_CATALOG}/{table_bucket}")),
    )


@dataclass(frozen=True)
class ViewDefinition:
    split_value: str
    view_name: str
    columns: tuple[str, ...]  # view column names, in order
    column_map: dict[str, str]  # key column name -> key (only the pivoted key columns)
    query: exp.Select = field(compare=False, repr=False)  # FROM the Spark name of the base table
    # Both texts, rendered once by build_view.
    spark_text: str = field(compare=False, repr=False)
    trino_text: str = field(compare=False, repr=False)

    def spark_sql(self) -> str:
        return self.spark_text

    def trino_sql(self) -> str:
        return self.trino_text


def build_view(
    spec: DatasetSpec, split_value: str, keys: list[str], view_name: str, base: BaseTable | None = None
) -> ViewDefinition:
    """base: where the table is; None means `spec.database`.`spec.table` (target glue)."""
    base = base or glue_base_table(spec.database, spec.table)
    if not keys:
        raise ViewDefinitionError(f"split value {split_value!r} has no keys; nothing to pivot")
    fixed = [spec.split_column, *spec.id_columns]
    names = column_names(keys, fixed)
    ordered_keys = sorted(keys, key=lambda k: (names[k], k))
    projections: list[exp.Expression] = [_col(c) for c in fixed]
    for k in ordered_keys:
        case = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=_col(spec.key_column), expression=exp.Literal.string(k)),
                    true=_col(spec.value_column),
                )
            ]
        )
        projections.append(exp.alias_(exp.Max(this=case), _ident(names[k]), copy=False))
    # copy=False: the builders would otherwise copy every new node, and the whole growing tree at each step.
    query = (
        exp.select(*projections, copy=False)
        .from_(base.spark.copy(), copy=False)
        .where(exp.EQ(this=_col(spec.split_column), expression=exp.Literal.string(split_value)), copy=False)
        .group_by(*[_col(c) for c in fixed], copy=False)
    )
    athena = query.copy()
    athena.set("from_", exp.From(this=base.athena.copy()))
    return ViewDefinition(
        split_value=split_value,
        view_name=view_name,
        columns=tuple(fixed + [names[k] for k in ordered_keys]),
        column_map={names[k]: k for k in ordered_keys},
        query=query,
        # copy=False renders without the generator's defensive copy: `athena` is rendered once and
        # discarded; for `query` a test checks that rendering it leaves it as it was.
        trino_text=athena.sql(dialect="trino", copy=False),
        spark_text=query.sql(dialect="spark", copy=False),
    )


def check_trino(sql: str, expected_columns: tuple[str, ...]) -> None:
    """Parse the Athena representation back as Trino and check its output columns."""
    try:
        parsed = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.ParseError as e:
        raise ViewDefinitionError(f"Athena representation does not parse as Trino: {e}") from e
    if not isinstance(parsed, exp.Select):
        raise ViewDefinitionError("Athena representation is not a single SELECT")
    got = tuple(p.alias_or_name for p in parsed.expressions)
    if got != expected_columns:
        raise ViewDefinitionError(f"Athena representation columns differ: {got[:5]}... != {expected_columns[:5]}...")


def definition_sha256(payload: dict) -> str:
    """Hash of what we submit (both SQL texts, columns, definer, sub-objects, map).

    Stored as `lakepipe.definition_sha256`; "unchanged" is decided on it, never on the stored
    ViewOriginalText, which Glue rewrites for ATHENA.
    """
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_sizes(view: ViewDefinition, spark_sql: str, trino_sql: str) -> None:
    for dialect, text in (("SPARK", spark_sql), ("ATHENA", trino_sql)):
        if len(text) > MAX_VIEW_TEXT:
            raise ViewDefinitionError(
                f"view {view.view_name} ({len(view.column_map)} keys): {dialect} SQL is {len(text)} "
                f"characters, over Glue's {MAX_VIEW_TEXT} limit"
            )
    cmap = json.dumps(view.column_map, ensure_ascii=False, sort_keys=True)
    if len(cmap.encode("utf-8")) > MAX_PARAMETER_VALUE:
        raise ViewDefinitionError(
            f"view {view.view_name}: column map is {len(cmap)} characters, over Glue's parameter limit"
        )
