# End to end: the stack (terraform/environments/local) applied into the local endpoint, and a real
# pipeline run through it (tests/e2e). Terraform's state and data dir live under
# $(LOCALCLOUD_DIR)/terraform, next to the endpoint's state, so `make down` forgets both together
# (the endpoint keeps its resources in memory).
LOCAL_ROOT := terraform/environments/local
LOCAL_TF_DIR = $(LOCALCLOUD_DIR)/terraform
LOCAL_TF = TF_CLI_CONFIG_FILE=$(CACHE)/terraform/cli.tfrc TF_DATA_DIR=$(LOCAL_TF_DIR)/data TF_IN_AUTOMATION=1 \
	AWS_EC2_METADATA_DISABLED=true AWS_PROFILE= AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
	terraform -chdir=$(LOCAL_ROOT)
LOCAL_TF_VARS = -var endpoint=http://127.0.0.1:$(LOCALCLOUD_PORT)
# The provider waits 55 s on every bucket lifecycle configuration (10 consecutive equal reads, 5 s apart):
# enough parallel slots that the rest of the graph is not queued behind them.
LOCAL_TF_PARALLELISM ?= 32

.PHONY: deploy-local plan-local destroy-local test-e2e
deploy-local: venv package up tf-cli-config ## make up + terraform apply of environments/local into the local endpoint (a second run changes nothing)
	@mkdir -p $(LOCAL_TF_DIR)
	@$(LOCAL_TF) init -input=false -no-color -reconfigure \
		-backend-config=path=$(LOCAL_TF_DIR)/terraform.tfstate >$(LOCAL_TF_DIR)/init.log 2>&1 || { cat $(LOCAL_TF_DIR)/init.log; exit 1; }
	@start=$$EPOCHREALTIME; \
	$(LOCAL_TF) apply -auto-approve -input=false -no-color -parallelism=$(LOCAL_TF_PARALLELISM) $(LOCAL_TF_VARS) >$(LOCAL_TF_DIR)/apply.log 2>&1 || { cat $(LOCAL_TF_DIR)/apply.log; exit 1; }; \
	grep -E '^Apply complete' $(LOCAL_TF_DIR)/apply.log; \
	printf 'terraform apply of %s took %.1fs (log %s)\n' $(LOCAL_ROOT) "$$(awk "BEGIN{print $$EPOCHREALTIME - $$start}")" $(LOCAL_TF_DIR)/apply.log
	@$(LOCAL_TF) output -json > $(LOCALCLOUD_DIR)/stack.json  # read by tools/local_lake.py (make run/query/demo)
	@$(LOCAL_TF) output -no-color

plan-local: tf-cli-config ## terraform plan of environments/local against the running endpoint (exit 2 = changes)
	$(LOCAL_TF) plan -input=false -no-color -detailed-exitcode $(LOCAL_TF_VARS)

destroy-local: tf-cli-config ## terraform destroy of environments/local (make down forgets everything anyway)
	$(LOCAL_TF) destroy -auto-approve -input=false -no-color $(LOCAL_TF_VARS)

test-e2e: venv package spark-runtime tf-cli-config ## apply the stack into a fresh endpoint, upload the sample, the execution SUCCEEDS
	flock /tmp/lakepipe-heavy.lock $(PY) -m pytest tests/e2e -q -p no:cacheprovider

TEST_TARGETS += test-e2e
