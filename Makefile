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

# Cheap and fast first, so a broken change fails in seconds; anything not listed runs last.
TEST_ORDER := lint test-unit tf-check test-localcloud test-spark test-e2e
TEST_RUN := $(foreach t,$(TEST_ORDER),$(filter $(t),lint $(TEST_TARGETS))) $(filter-out $(TEST_ORDER),$(TEST_TARGETS))

test: ## run every test (lint, unit, terraform, spark, local endpoint, end to end)
	@for t in $(TEST_RUN); do echo "== make $$t"; $(MAKE) --no-print-directory $$t || exit 1; done
	@echo "make test: all of [$(TEST_RUN)] passed"

clean: ## remove build outputs and caches (keeps .venv)
	rm -rf $(BUILD) .pytest_cache
