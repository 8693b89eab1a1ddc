# Local Spark + Iceberg runtime and the local Glue job runner (localcloud/spark_runtime.py,
# localcloud/glue/). The runtime is built from PyPI wheels (pyspark, snowpark-connect-deps-*) and
# Debian packages (apt-get, as root) into .cache/spark-runtime; rebuilding is a no-op when its
# stamp matches the recipe.
SPARK_RUNTIME := $(CACHE)/spark-runtime
# 2 shared cores: Spark suites take this lock so that only one heavy job runs at a time.
HEAVY_LOCK := flock /tmp/lakepipe-heavy.lock

.PHONY: spark-runtime test-spark-runtime
spark-runtime: venv ## build the local Spark/Iceberg runtime jars into .cache/spark-runtime
	$(PY) -m localcloud.spark_runtime build

test-spark-runtime: venv spark-runtime ## Spark runtime + local Glue runner tests (marker spark)
	$(HEAVY_LOCK) $(PY) -m pytest tests/localcloud/test_spark_runtime.py tests/localcloud/test_glue_runner.py

TEST_TARGETS += test-spark-runtime
