# Entry points. Each concern keeps its targets in mk/<concern>.mk; every target
# installs what it needs, so a fresh clone needs nothing but make, python3.11,
# java 17 and terraform.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
CACHE := $(CURDIR)/.cache
BUILD := $(CURDIR)/build
export CHECKPOINT_DISABLE := 1
export PYTHONDONTWRITEBYTECODE := 1

# Test targets that `make test` runs, in order; each mk file appends its own.
TEST_TARGETS :=

.PHONY: help venv test lint clean
help: ## list targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv with the project and its local/test dependencies

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[lambda,local,dev]'
	touch $@

lint: venv ## ruff over all Python
	$(VENV)/bin/ruff check lakepipe localcloud glue_jobs lambdas tests tools

include $(sort $(wildcard mk/*.mk))

# `make test` runs two lanes at once (make -j2; each step's output is printed whole when the step ends).
# The heavy lane holds the JVM suites, one after another (each takes /tmp/lakepipe-heavy.lock: the machine has
# 2 cores). The light lane runs the checks that need no Spark beside it, on the CPU the heavy lane leaves idle
# (terraform's waits, polling), cheapest first, so a broken change shows its failure within a minute.
# The end-to-end suite leads the heavy lane: it is the one that leaves most CPU idle (terraform apply waits,
# mostly one Glue run at a time), measured with vmstat: about 55% busy against 80-95% for test-spark.
# Every target in TEST_TARGETS (appended by mk/*.mk) must be in a lane.
LIGHT_LANE := lint test-unit tf-check test-localcloud-endpoint
HEAVY_LANE := test-e2e test-localcloud-spark test-spark
$(if $(filter-out $(LIGHT_LANE) $(HEAVY_LANE),$(TEST_TARGETS)),\
  $(error test targets in no lane of make test: $(filter-out $(LIGHT_LANE) $(HEAVY_LANE),$(TEST_TARGETS))))
TEST_STEPS := $(addprefix test-step/,$(LIGHT_LANE) $(HEAVY_LANE))

# Each step of a lane waits for the one before it.
define lane_order
$(if $(word 2,$(1)),$(eval test-step/$(word 2,$(1)): | test-step/$(word 1,$(1)))$(call lane_order,$(wordlist 2,$(words $(1)),$(1))))
endef
$(call lane_order,$(LIGHT_LANE))
$(call lane_order,$(HEAVY_LANE))

.PHONY: $(TEST_STEPS)
# Each step also says how much CPU it used, its own and every process it started (tools/cpu_time.py): on 2
# cores that, not its wall time, is what the other lane loses while it runs.
$(TEST_STEPS): test-step/%:
	@echo "== make $*"; $(PYTHON) tools/cpu_time.py "make $*" $(MAKE) --no-print-directory $*

# The closing line also says how busy the machine's CPUs were (/proc/stat): near 100%, only less work
# makes the run shorter; well below, the lanes leave CPU idle.
CPU_TICKS = read -r _ u n s idle io q sq st _ < /proc/stat; echo "$$((u + n + s + q + sq + st)) $$((idle + io))"
test: venv spark-runtime package tf-cli-config checkov-venv ## run every test (lint, unit, terraform, spark, local endpoint, end to end)
	@start=$$SECONDS; read -r b0 i0 < <($(CPU_TICKS)); \
	  $(MAKE) --no-print-directory -j2 --output-sync=target $(TEST_STEPS); \
	  read -r b1 i1 < <($(CPU_TICKS)); \
	  echo "make test: all of [$(LIGHT_LANE)] and [$(HEAVY_LANE)] passed in $$((SECONDS - start)) s;" \
	    "CPUs busy $$((100 * (b1 - b0) / (b1 - b0 + i1 - i0)))% of the time ($$(nproc) cores)"

clean: ## remove build outputs and caches (keeps .venv)
	rm -rf $(BUILD) .pytest_cache
