# The local AWS endpoint (localcloud/): moto server + real Lambda, Glue, Athena and Step Functions executors.
LOCALCLOUD_PORT ?= 4566
LOCALCLOUD_DIR ?= $(CURDIR)/.localcloud
export LOCALCLOUD_PORT LOCALCLOUD_DIR

.PHONY: up down status test-localcloud test-localcloud-endpoint test-localcloud-spark bench-athena
up: venv spark-runtime ## start the local AWS endpoint in the background on 127.0.0.1:$(LOCALCLOUD_PORT) (idempotent)
	$(PY) -m localcloud up

down: ## stop the local AWS endpoint and every process it started; forget the local Terraform state with it
	@if [ -x $(PY) ]; then $(PY) -m localcloud down; else echo "localcloud not running (no venv)"; fi
	@# The endpoint's resources lived in memory: the state of what `make deploy-local` applied is now stale.
	rm -rf $(LOCALCLOUD_DIR)/terraform

status: venv ## is the local endpoint answering?
	$(PY) -m localcloud status

# Every file under tests/localcloud: the endpoint's own tests (each module starts its own endpoint on a
# free port), the Spark runtime and the local Glue runner. Spark-marked tests take the heavy lock; make test
# runs the two halves in its two lanes.
test-localcloud: test-localcloud-endpoint test-localcloud-spark ## tests of the local endpoint, the Spark runtime and the local Glue runner

test-localcloud-endpoint: venv spark-runtime ## the local endpoint's tests that need no Spark
	$(PY) -m pytest -q -p no:cacheprovider -m 'not spark' tests/localcloud

test-localcloud-spark: venv spark-runtime ## the Spark runtime and local Glue runner tests (heavy lock)
	flock /tmp/lakepipe-heavy.lock $(PY) -m pytest -q -p no:cacheprovider -m spark tests/localcloud --durations=10

bench-athena: venv ## latency of one Athena query over a 1,000,000-row Iceberg table
	$(PY) -m localcloud.bench_athena

TEST_TARGETS += test-localcloud-endpoint test-localcloud-spark
