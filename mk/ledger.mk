# The datasets' ledgers (lakepipe/ledger.py): `make status DATASET=<name>` shows a dataset's latest ledger
# entries through the local Athena, then the endpoint's status (mk/localcloud.mk). Without DATASET on the
# command line (or in the environment), `make status` is only the endpoint check.
LEDGER_LIMIT ?= 20

.PHONY: ledger-status
ledger-status: venv ## make ledger-status DATASET=<name> [LEDGER_LIMIT=20]: a dataset's latest ledger entries (local Athena)
	$(PY) tools/ledger_status.py "$(DATASET)" --limit "$(LEDGER_LIMIT)" --print-sql

ifneq ($(filter command line environment,$(origin DATASET)),)
status: ledger-status
endif
