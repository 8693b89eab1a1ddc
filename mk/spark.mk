# Local Spark + Iceberg runtime and the local Glue job runner (localcloud/spark_runtime.py,
# localcloud/glue/). The runtime is built from PyPI wheels (pyspark, snowpark-connect-deps-*) and
# Debian packages (apt-get, as root) into .cache/spark-runtime; rebuilding is a no-op when its
# stamp matches the recipe.
SPARK_RUNTIME := $(CACHE)/spark-runtime

.PHONY: spark-runtime
spark-runtime: venv ## build the local Spark/Iceberg runtime jars into .cache/spark-runtime
	$(PY) -m localcloud.spark_runtime build
