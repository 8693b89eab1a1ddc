"""The view job's checks of its definitions (lakepipe.views.prepare_and_check), without Spark: a stand-in
session answers each analysed SQL text with the schema a real analysis would give."""

import threading

import pytest
from pyspark.sql.types import IntegerType, StringType, StructField, StructType

from lakepipe.spec import parse_spec
from lakepipe.views import (
    P_HASH,
    P_MANAGED_BY,
    CatalogTarget,
    PreparedView,
    _unchanged,
    base_table,
    prepare_and_check,
    table_input,
)
from lakepipe.viewsql import ViewDefinitionError, build_view

SPEC = parse_spec({"name": "e", "raw_prefix": "in/e/", "database": "lake", "table": "entities"})
BASE, BASE_ARN = base_table(SPEC, CatalogTarget("aws", "us-east-1", "111122223333"), s3tables_catalog="s3t",
                            s3tables_table_bucket=None)


def prepared(split: str, keys: list[str]) -> PreparedView:
    view = build_view(SPEC, split, keys, f"entity_view_{split.lower()}", BASE)
    spark_sql, trino_sql = view.spark_sql(), view.trino_sql()
    return PreparedView(view, spark_sql, trino_sql, table_input(SPEC, view, spark_sql, trino_sql, "arn:definer",
                                                                BASE_ARN, 7))


class Catalog:
    def __init__(self):
        self.current = "spark_catalog"

    def currentCatalog(self):
        return self.current

    def setCurrentCatalog(self, name):
        self.current = name


class Session:
    """Answers spark.sql(text).schema from `schemas` (by the view's split literal) and records the catalog
    each analysis saw (analyses run on several threads)."""

    def __init__(self, schemas: dict[str, StructType]):
        self.catalog, self.schemas, self.seen = Catalog(), schemas, []
        self._lock = threading.Lock()

    def sql(self, text):
        split = next(s for s in self.schemas if f"'{s}'" in text)
        with self._lock:
            self.seen.append((split, self.catalog.current))
        if self.schemas[split] is None:
            raise RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] lake.entities")
        return type("DataFrame", (), {"schema": self.schemas[split]})()


def strings(view) -> StructType:
    return StructType([StructField(c, StringType()) for c in view.columns])


def check(spark, views: list[PreparedView], unchanged: tuple[str, ...] = ()) -> list[PreparedView]:
    by_split = {p.view.split_value: p for p in views}
    return prepare_and_check(spark, "glue_catalog", list(by_split), by_split.__getitem__,
                             lambda p: p.view.split_value in unchanged)


def test_every_definition_is_analysed_in_the_views_catalog_which_is_then_restored():
    views = [prepared(s, ["k1", "k2"]) for s in ("ACME", "Globex", "Initech")]
    spark = Session({p.view.split_value: strings(p.view) for p in views})
    assert check(spark, views) == views
    assert sorted(spark.seen) == [("ACME", "glue_catalog"), ("Globex", "glue_catalog"), ("Initech", "glue_catalog")]
    assert spark.catalog.current == "spark_catalog"


@pytest.mark.parametrize("bad, message", [
    ("refused", "Spark rejects its SQL"),
    ("columns", "Spark columns"),
    ("int", "non-string columns"),
])
def test_a_definition_spark_refuses_fails_naming_the_view(bad, message):
    views = [prepared("ACME", ["k1"]), prepared("Globex", ["k1"])]
    good = strings(views[1].view)
    schema = {"refused": None,
              "columns": StructType(good.fields[:1]),
              "int": StructType([StructField(f.name, IntegerType() if f.name == "k1" else StringType())
                                 for f in good.fields])}[bad]
    spark = Session({"ACME": strings(views[0].view), "Globex": schema})
    with pytest.raises(ViewDefinitionError, match=message) as e:
        check(spark, views)
    assert "entity_view_globex" in str(e.value)
    assert spark.catalog.current == "spark_catalog"


def test_an_unchanged_definition_is_prepared_but_not_checked_again():
    views = [prepared(s, ["k1"]) for s in ("ACME", "Globex", "Initech")]
    # Globex's analysis would fail: it is not run, since the view in Glue already holds this definition.
    spark = Session({"ACME": strings(views[0].view), "Globex": None, "Initech": strings(views[2].view)})
    assert check(spark, views, unchanged=("Globex",)) == views
    assert sorted(split for split, _ in spark.seen) == ["ACME", "Initech"]


def test_the_first_failure_in_the_split_values_order_is_raised():
    views = [prepared(s, ["k1"]) for s in ("ACME", "Globex", "Initech")]
    spark = Session({"ACME": strings(views[0].view), "Globex": StructType([]), "Initech": None})
    with pytest.raises(ViewDefinitionError, match="entity_view_globex: Spark columns"):
        check(spark, views)
    assert spark.catalog.current == "spark_catalog"


def test_only_the_same_datasets_view_with_the_same_definition_counts_as_unchanged():
    p = prepared("ACME", ["k1"])
    mine = {"Parameters": {P_MANAGED_BY: "e", P_HASH: p.table_input["Parameters"][P_HASH]}}
    assert _unchanged(mine, SPEC, p.table_input)
    assert not _unchanged(None, SPEC, p.table_input)
    assert not _unchanged({"Parameters": {**mine["Parameters"], P_HASH: "other"}}, SPEC, p.table_input)
    assert not _unchanged({"Parameters": {**mine["Parameters"], P_MANAGED_BY: "other-dataset"}}, SPEC,
                          p.table_input)
    # The hash leaves out the table state the view was built from: a newer load does not make it changed.
    later = prepared("ACME", ["k1"])
    assert later.table_input["Parameters"][P_HASH] == p.table_input["Parameters"][P_HASH]
