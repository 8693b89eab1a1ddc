# The local lake from a user's side (tools/local_lake.py, tools/bench_local.py): demo, run, query, bench.
# They use the stack `make deploy-local` (mk/e2e.mk) applied into the local endpoint.
DATASET ?= entities
DIALECT ?= athena

.PHONY: demo run query bench bench-10m bench-warm bench-settings
demo: deploy-local ## the main command: sample CSV -> pipeline -> views, shown through Athena and Spark
	$(PY) tools/local_lake.py demo

run: deploy-local ## make run INPUT=<csv> [DATASET=entities]: upload and run the pipeline; last line is a JSON summary
	@test -n "$(INPUT)" || { echo "usage: make run INPUT=<csv> [DATASET=<name>]" >&2; exit 2; }
	$(PY) tools/local_lake.py run "$(INPUT)" --dataset "$(DATASET)"

query: venv spark-runtime ## make query DIALECT=athena|spark SQL='<sql>': print CSV, header first
	@test -n "$(SQL)" || { echo "usage: make query DIALECT=athena|spark SQL='<sql>'" >&2; exit 2; }
	$(PY) tools/local_lake.py query --dialect "$(DIALECT)" "$$LAKEPIPE_SQL"
query: export LAKEPIPE_SQL = $(SQL)

BENCH_ARGS ?=
bench: venv spark-runtime package ## ingest (new, re-load, 10% MERGE) + views: Spark vs the DuckDB reference on 1M rows, in-process and end to end; build/bench/bench.json
	flock /tmp/lakepipe-heavy.lock $(PY) tools/bench_local.py $(BENCH_ARGS)

bench-10m: venv spark-runtime package ## `make bench` at 1M and 10M rows in one run (end to end at 1M only; ~15 min)
	flock /tmp/lakepipe-heavy.lock $(PY) tools/bench_local.py --rows 1000000 --rows 10000000 $(BENCH_ARGS)

bench-settings: venv spark-runtime ## shuffle partitions (1-8 per task slot vs 200) and Parquet codecs on the 1M-row ingest (~6 min); build/bench/settings.json
	flock /tmp/lakepipe-heavy.lock $(PY) tools/bench_settings.py $(BENCH_ARGS)

bench-warm: venv spark-runtime package tf-cli-config ## first and warm `make run` of the sample on a fresh endpoint, Glue pre-warm off then on (~5 min); build/bench/warm.json
	flock /tmp/lakepipe-heavy.lock $(PY) tools/bench_warm.py $(BENCH_ARGS)
