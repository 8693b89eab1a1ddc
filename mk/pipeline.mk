# The pipeline: lakepipe package, Glue job scripts, Lambdas (see lakepipe/README.md).
TEST_TARGETS += test-unit test-spark

GLUE_ZIP := $(BUILD)/glue/lakepipe.zip
LAMBDA_ZIP := $(BUILD)/lambda/lakepipe_lambda.zip
PIPELINE_SOURCES := $(shell find lakepipe lambdas -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null) datasets/dataset.schema.json pyproject.toml

.PHONY: package test-unit test-spark bench-jobs
package: $(GLUE_ZIP) $(LAMBDA_ZIP) ## build build/glue/lakepipe.zip and build/lambda/lakepipe_lambda.zip (reproducible)

$(GLUE_ZIP) $(LAMBDA_ZIP) &: $(PIPELINE_SOURCES) | venv
	$(PY) -m lakepipe.packaging --build $(BUILD)

test-unit: venv ## unit tests: pure logic, state machine, Lambdas against moto (no Spark)
	$(PY) -m pytest tests/unit -q -p no:cacheprovider

test-spark: venv spark-runtime package ## Spark integration tests of both Glue jobs (local Iceberg, moto)
	flock /tmp/lakepipe-heavy.lock $(PY) -m pytest tests/pipeline -q -m spark -p no:cacheprovider --durations=10

bench-jobs: venv spark-runtime ## the jobs' logic in-process vs the DuckDB reference, checked equal (1,000,000 rows; 20 x 50 views)
	flock /tmp/lakepipe-heavy.lock $(PY) tools/bench_jobs.py
