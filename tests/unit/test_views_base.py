"""Where the view job says the dataset's table is: per engine, and as the views' SubObject ARN."""

import pytest

from lakepipe.spec import parse_spec
from lakepipe.views import CatalogTarget, ViewJobError, base_table

TARGET = CatalogTarget("aws-cn", "cn-north-1", "111122223333")
GLUE = parse_spec({"name": "e", "raw_prefix": "in/e/", "target": "glue", "database": "lake", "table": "entities"})
S3T = parse_spec({"name": "s", "raw_prefix": "in/s/", "target": "s3tables", "database": "ns1", "table": "entities"})


def test_glue_target_uses_two_part_names_and_the_default_catalog_arn():
    base, arn = base_table(GLUE, TARGET, s3tables_catalog="s3tables_catalog", s3tables_table_bucket="ignored-here")
    assert base.spark.sql("spark") == "`lake`.`entities`"
    assert base.athena.sql("trino") == '"lake"."entities"'
    assert arn == "arn:aws-cn:glue:cn-north-1:111122223333:table/lake/entities"


def test_s3tables_target_names_the_federated_catalog():
    base, arn = base_table(S3T, TARGET, s3tables_catalog="s3t", s3tables_table_bucket="my-tables")
    assert base.spark.sql("spark") == "`s3t`.`ns1`.`entities`"
    assert base.athena.sql("trino") == '"s3tablescatalog/my-tables"."ns1"."entities"'
    assert arn == "arn:aws-cn:glue:cn-north-1:111122223333:table/s3tablescatalog/my-tables/ns1/entities"


@pytest.mark.parametrize("bucket, message", [(None, "--s3tables_table_bucket"), ("", "--s3tables_table_bucket"),
                                             ("Bad_Bucket", "not an S3 Tables table bucket name")])
def test_s3tables_target_without_a_valid_bucket_fails_naming_the_dataset(bucket, message):
    with pytest.raises(ViewJobError, match=message) as e:
        base_table(S3T, TARGET, s3tables_catalog="s3t", s3tables_table_bucket=bucket)
    assert str(e.value).startswith("dataset s")
