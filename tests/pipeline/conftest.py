"""Fixtures for the Spark integration tests: one local Spark session with an Iceberg JDBC
catalog named like the Glue one, and a moto server for Glue/S3/STS."""

import os
import sys
from pathlib import Path

import pytest

from localcloud.net import free_port

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CATALOG = "glue_catalog"
REGION = "us-east-1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/pipeline/" in str(item.fspath):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def catalog_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("iceberg-catalog")


@pytest.fixture(scope="session")
def spark(catalog_dir):
    from localcloud.spark_runtime import local_spark_session

    session = local_spark_session("lakepipe-pipeline-tests", {CATALOG: str(catalog_dir)},
                                  {"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def aws_env(moto_endpoint):
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    yield moto_endpoint
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def glue(aws_env):
    import boto3

    client = boto3.client("glue", endpoint_url=aws_env, region_name=REGION)
    for db in ("lake", "lake_views"):  # the datasets' table and view databases, as Terraform makes them
        try:
            client.create_database(DatabaseInput={"Name": db})
        except client.exceptions.AlreadyExistsException:
            pass
    return client
