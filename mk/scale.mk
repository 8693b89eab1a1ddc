# Issue 11 at scale: the burst e2e test (tests/e2e/test_burst_e2e.py, 12 files in `make test`) with 200 small
# uploads to one dataset, in a fresh endpoint. Not part of `make test` (it takes the machine for a long while);
# prints the figures (wall time, most Glue runs at once, commit races redone).
SCALE_FILES ?= 200

.PHONY: test-scale
test-scale: venv package spark-runtime tf-cli-config ## 200 uploads at once to one dataset: all SUCCEEDED, ledger 200 entries, exact rows (SCALE_FILES=N)
	LAKEPIPE_BURST_FILES=$(SCALE_FILES) flock /tmp/lakepipe-heavy.lock $(PY) -m pytest tests/e2e/test_burst_e2e.py \
		-q -s -p no:cacheprovider
