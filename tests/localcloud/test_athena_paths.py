"""metadata_location forms the local Athena accepts (Spark/Hadoop writes file:/x, PyIceberg file:///x)."""

import pytest

from localcloud.executors.athena_exec import QueryError, _local_path


@pytest.mark.parametrize("location", ["file:/tmp/w/t/metadata/v1.json", "file:///tmp/w/t/metadata/v1.json",
                                      "/tmp/w/t/metadata/v1.json"])
def test_local_forms(location):
    assert _local_path(location) == "/tmp/w/t/metadata/v1.json"


def test_s3_location_is_a_clear_error():
    with pytest.raises(QueryError, match="not a local path"):
        _local_path("s3://bucket/t/metadata/v1.json")
