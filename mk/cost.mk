# What the stack costs a month for a usage profile (tools/cost_model.py; cost/README.md explains the inputs).
# `make cost` prints the estimate for the bundled profile, `make cost PROFILE=cost/regulatory-period-end.json`
# for another; the unit tests (tests/unit/test_cost_model.py, in test-unit) check the model and its output.
PROFILE ?= cost/usage-profile.json

.PHONY: cost
cost: venv ## monthly cost estimate from a usage profile (PROFILE=cost/usage-profile.json): every line, its unit price and source
	$(PY) tools/cost_model.py --profile "$(PROFILE)"
