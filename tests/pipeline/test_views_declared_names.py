"""The view job names a value an analyst group declares `view_prefix` + slug, the name modules/catalog grants
the group, even when the data holds an undeclared value of the same slug (local Spark + Iceberg, moto Glue)."""

from pathlib import Path

from lakepipe.naming import short_hash
from lakepipe.spec import load_spec_file, parse_spec
from lakepipe.views import P_SPLIT_VALUE

from .helpers import write_csv
from .test_views import ingest, views

ROOT = Path(__file__).resolve().parents[2]


def rows_for(spec, split_values):
    def row(split, key, value):
        cells = {c: "x" for c in spec.data_columns}
        cells.update({spec.split_column: split, spec.key_column: key, spec.value_column: value})
        return [cells[c] for c in spec.data_columns]
    return [row(s, k, f"{s}-{k}") for s in split_values for k in ("k1", "k2")]


def test_a_declared_value_gets_the_granted_view_name_beside_an_undeclared_same_slug(spark, glue, tmp_path):
    raw = load_spec_file(ROOT / "datasets/entities.json").to_dict()
    spec = parse_spec({**raw, "name": "declared", "table": "declared", "view_prefix": "declared_view_",
                       "analyst_groups": [{"name": "acme_only", "split_values": ["ACME"]}]})
    db = spec.views_database

    # `acme` (its own slug, which naming would otherwise leave plain) arrives before ACME's first row.
    first_file = write_csv(tmp_path / "first.csv", list(spec.data_columns), rows_for(spec, ["acme", "Globex"]))
    ingest(spark, spec, first_file, "d1", tmp_path)
    first = {v["split_value"]: v["view"] for v in views(spark, spec, glue)["views"]}
    assert first == {"acme": f"{db}.declared_view_acme_{short_hash('acme')}", "Globex": f"{db}.declared_view_globex"}

    second_file = write_csv(tmp_path / "second.csv", list(spec.data_columns), rows_for(spec, ["ACME"]))
    ingest(spark, spec, second_file, "d2", tmp_path)
    second = {v["split_value"]: v["view"] for v in views(spark, spec, glue)["views"]}
    assert second["ACME"] == f"{db}.declared_view_acme" and second["acme"] == first["acme"]
    granted = glue.get_table(DatabaseName=db, Name="declared_view_acme")["Table"]
    assert granted["Parameters"][P_SPLIT_VALUE] == "ACME"
