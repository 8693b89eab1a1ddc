import pytest
import sqlglot
from sqlglot import exp

from lakepipe.naming import view_names
from lakepipe.spec import parse_spec
from lakepipe.viewsql import (
    ViewDefinitionError,
    build_view,
    check_sizes,
    check_trino,
    definition_sha256,
    s3tables_base_table,
)

SPEC = parse_spec({"name": "entities", "raw_prefix": "in/e/", "target": "glue", "database": "lake", "table": "entities"})
REG = parse_spec(
    {"name": "regulatory", "raw_prefix": "in/r/", "target": "glue", "database": "lake", "table": "regulatory_reports",
     "split_column": "seriesid", "id_columns": ["aod", "rssdid", "submissionts"], "view_prefix": "report_view_"}
)

HOSTILE = [
    "O'Brien",
    "it''s",
    "back\\slash\\",
    "trailing\\",
    "a`b`",
    'dq"x"',
    "select",
    "FROM",
    "'; DROP TABLE lake.entities; --",
    "*/ SELECT 1 /*",
    "ünïcödé 東京",
    "tab\there",
    "x" * 3000,
    "\\u0041",
    "${x}",
    "%s {0}",
]


def _literals(tree):
    return [lit.this for lit in tree.find_all(exp.Literal) if lit.is_string]


@pytest.mark.parametrize("split_value", HOSTILE)
def test_hostile_values_survive_both_dialects_as_literals(split_value):
    keys = HOSTILE + ["Key", "key"]
    v = build_view(SPEC, split_value, keys, "entity_view_x")
    for dialect, sql in (("spark", v.spark_sql()), ("trino", v.trino_sql())):
        statements = sqlglot.parse(sql, read=dialect)
        assert len(statements) == 1, dialect
        tree = statements[0]
        assert isinstance(tree, exp.Select)
        # every value comes back exactly, as a string literal, and nothing else is a literal
        assert sorted(_literals(tree)) == sorted(keys + [split_value]), dialect
        assert [t.name for t in tree.find_all(exp.Table)] == ["entities"]
        assert tuple(p.alias_or_name for p in tree.expressions) == v.columns
    check_trino(v.trino_sql(), v.columns)


def test_dialect_specific_quoting():
    v = build_view(SPEC, "O'Brien", ["a`b"], "entity_view_o_brien")
    assert "`entity1` = 'O\\'Brien'" in v.spark_sql()
    assert "FROM `lake`.`entities`" in v.spark_sql()
    assert "\"entity1\" = 'O''Brien'" in v.trino_sql()
    assert 'FROM "lake"."entities"' in v.trino_sql()
    assert "GROUP BY" in v.trino_sql()



def test_the_texts_rendered_once_without_copies_equal_a_fresh_rendering_of_the_tree():
    """build_view renders each dialect once without sqlglot's defensive copy; the kept tree must come out of
    that as it was built, and a rendering from copies must give the same texts."""
    base = s3tables_base_table("lake_ns", "entities", spark_catalog="s3tables_catalog", table_bucket="lp-dev-tables")
    for spec, view_base in ((SPEC, None), (S3T, base)):
        v = build_view(spec, "O'Brien", HOSTILE + ["Key", "key"], "entity_view_x", view_base)
        assert v.query.sql(dialect="spark") == v.spark_sql()
        athena = v.query.copy()
        athena.set("from_", exp.From(this=(view_base.athena if view_base else v.query.args["from_"].this).copy()))
        assert athena.sql(dialect="trino") == v.trino_sql()


S3T = parse_spec({"name": "entities_s3t", "raw_prefix": "in/s/", "target": "s3tables", "database": "lake_ns",
                  "table": "entities"})


def test_s3tables_base_table_is_named_per_engine():
    base = s3tables_base_table("lake_ns", "entities", spark_catalog="s3tables_catalog", table_bucket="lp-dev-tables")
    v = build_view(S3T, "O'Brien", ["a", "b"], "entity_view_o_brien", base)
    assert "FROM `s3tables_catalog`.`lake_ns`.`entities`" in v.spark_sql()
    assert 'FROM "s3tablescatalog/lp-dev-tables"."lake_ns"."entities"' in v.trino_sql()
    for dialect, sql in (("spark", v.spark_sql()), ("trino", v.trino_sql())):
        tree = sqlglot.parse_one(sql, read=dialect)
        (table,) = list(tree.find_all(exp.Table))
        assert (table.db, table.name) == ("lake_ns", "entities"), dialect
        assert sorted(_literals(tree)) == ["O'Brien", "a", "b"], dialect
    check_trino(v.trino_sql(), v.columns)
    # the Athena rendering must not leak into the Spark one (the tree is shared)
    assert "s3tablescatalog/" not in v.spark_sql()


@pytest.mark.parametrize("bucket", ["", "Upper", "a", "x" * 64, 'b"; DROP', "-lead", "trail-"])
def test_s3tables_base_table_refuses_bad_bucket_names(bucket):
    with pytest.raises(ViewDefinitionError, match="table bucket name"):
        s3tables_base_table("ns", "t", spark_catalog="s3tables_catalog", table_bucket=bucket)


def test_columns_and_map_for_other_column_names():
    v = build_view(REG, "FFIEC031", ["RCON2170", "rcon2170", "seriesid"], "report_view_ffiec031")
    assert v.columns[:4] == ("seriesid", "aod", "rssdid", "submissionts")
    assert v.column_map["rcon2170"] == "rcon2170"
    assert sorted(v.column_map.values()) == ["RCON2170", "rcon2170", "seriesid"]
    assert "seriesid" not in v.column_map  # the key named like the split column got a suffix
    assert len({c.lower() for c in v.columns}) == len(v.columns)


def test_two_thousand_keys_fit_glue_limits():
    keys = [f"RCON{i:04d}" for i in range(2000)]
    v = build_view(REG, "FFIEC031", keys, "report_view_ffiec031")
    assert len(v.columns) == 2004
    check_sizes(v, v.spark_sql(), v.trino_sql())
    check_trino(v.trino_sql(), v.columns)


def test_oversized_definition_is_refused_clearly():
    keys = [f"{i:05d}" + "k" * 300 for i in range(2000)]
    v = build_view(REG, "S", keys, "report_view_s")
    with pytest.raises(ViewDefinitionError, match="over Glue's 409600 limit"):
        check_sizes(v, v.spark_sql(), v.trino_sql())


def test_no_keys_is_an_error():
    with pytest.raises(ViewDefinitionError, match="no keys"):
        build_view(SPEC, "a", [], "v")


def test_check_trino_detects_column_mismatch():
    v = build_view(SPEC, "a", ["k"], "v")
    with pytest.raises(ViewDefinitionError, match="columns differ"):
        check_trino(v.trino_sql(), v.columns + ("extra",))
    with pytest.raises(ViewDefinitionError):
        check_trino("SELECT FROM WHERE (", v.columns)


def test_definition_hash_is_canonical():
    a = definition_sha256({"x": 1, "y": ["é"]})
    assert a == definition_sha256({"y": ["é"], "x": 1})
    assert a != definition_sha256({"x": 2, "y": ["é"]})


def test_view_names_for_hostile_split_values_are_unique():
    names = view_names(HOSTILE, "entity_view_")
    assert len(set(names.values())) == len(HOSTILE)
