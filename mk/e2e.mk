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
export LOCAL_TF_PARALLELISM

.PHONY: deploy-local plan-local destroy-local test-e2e
# Skips terraform when nothing it deploys changed since the last apply into the running endpoint
# (tools/terraform/deploy-local.sh; LOCAL_TF_FORCE=1 applies anyway).
deploy-local: venv package up tf-cli-config ## make up + terraform apply of environments/local into the local endpoint (skipped when nothing changed)
	@TF_CLI_CONFIG_FILE=$(CACHE)/terraform/cli.tfrc tools/terraform/deploy-local.sh

plan-local: tf-cli-config ## terraform plan of environments/local against the running endpoint (exit 2 = changes)
	$(LOCAL_TF) plan -input=false -no-color -detailed-exitcode $(LOCAL_TF_VARS)

destroy-local: tf-cli-config ## terraform destroy of environments/local (make down forgets everything anyway)
	rm -f $(LOCAL_TF_DIR)/applied-inputs.sha256
	$(LOCAL_TF) destroy -auto-approve -input=false -no-color $(LOCAL_TF_VARS)

test-e2e: venv package spark-runtime tf-cli-config ## apply the stack into a fresh endpoint, upload the sample, the execution SUCCEEDS
	flock /tmp/lakepipe-heavy.lock $(PY) -m pytest tests/e2e -q -p no:cacheprovider --durations=15

TEST_TARGETS += test-e2e
