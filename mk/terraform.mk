# Terraform (terraform/modules, terraform/environments): offline checks with the real AWS provider
# from the machine's filesystem mirror (located by tools/terraform/write-cli-config.sh).
TF_CLI_CONFIG := $(CACHE)/terraform/cli.tfrc
CHECKOV_VERSION := 3.3.30
CHECKOV_VENV := $(CACHE)/checkov-venv
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

.PHONY: tf-check tf-cli-config checkov-venv tf-docs-check tf-plan-dev tf-plan-prod tf-plan-snapshots

tf-cli-config: $(TF_CLI_CONFIG) ## write the project's Terraform CLI config (.cache/terraform/cli.tfrc)

$(TF_CLI_CONFIG): tools/terraform/write-cli-config.sh
	tools/terraform/write-cli-config.sh $@ >/dev/null

checkov-venv: $(CHECKOV_STAMP) ## checkov in its own venv (.cache/checkov-venv)

$(CHECKOV_STAMP):
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip >$(CACHE)/checkov-install.log 2>&1 || { cat $(CACHE)/checkov-install.log; exit 1; }
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION) >>$(CACHE)/checkov-install.log 2>&1 || { cat $(CACHE)/checkov-install.log; exit 1; }
	touch $@

tf-check: $(TF_CLI_CONFIG) $(CHECKOV_STAMP) ## terraform fmt, init (all roots), validate (environments), terraform test (all modules, validates them), dev/prod plans vs snapshots, checkov
	TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) CHECKOV=$(CHECKOV_VENV)/bin/checkov tools/terraform/check.sh

tf-docs-check: $(CHECKOV_STAMP) ## module READMEs' Inputs/Outputs tables match variables.tf and outputs.tf (also in tf-check)
	$(CHECKOV_VENV)/bin/python tools/terraform/module-docs.py --check terraform/modules/*/

tf-plan-dev: $(TF_CLI_CONFIG) ## offline plan -refresh=false of environments/dev (fake credentials, placeholder build outputs); prints the resource count
	TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) tools/terraform/plan-offline.sh dev

tf-plan-prod: $(TF_CLI_CONFIG) ## offline plan -refresh=false of environments/prod (fake credentials)
	TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) tools/terraform/plan-offline.sh prod

tf-plan-snapshots: $(TF_CLI_CONFIG) ## rewrite terraform/plan-snapshots/{dev,prod}.json from offline plans (review the diff)
	@for env in dev prod; do \
	  TF_CLI_CONFIG_FILE=$(TF_CLI_CONFIG) tools/terraform/plan-offline.sh $$env $(CACHE)/terraform/plan-$$env.json; \
	  python3 tools/terraform/plan-snapshot.py write terraform/plan-snapshots/$$env.json $(CACHE)/terraform/plan-$$env.json; \
	done

TEST_TARGETS += tf-check
