#!/usr/bin/env bash
# Offline `terraform plan -refresh=false` of an environment root with fake credentials. Works on a copy
# of the repository's Terraform inputs under a temp dir, so nothing is written into the root. Offline-only
# settings come from override files written into the copy (the roots declare no variables for them):
# a local backend, the provider's skip flags, and module "stack" with a fixed account ID and no read of
# the account's Lake Formation settings. Build outputs and Glue scripts are fixed placeholders at the
# stack's default paths, so the plan does not depend on what `make package` built or on script edits.
# Prints the plan summary and the planned resource count.
# Usage: plan-offline.sh <dev|prod> [plan.json]   (needs TF_CLI_CONFIG_FILE, see mk/terraform.mk)
#        with a second argument, also writes `terraform show -json` of the plan there.
set -euo pipefail
env=${1:?usage: plan-offline.sh <dev|prod> [plan.json]}
json_out=${2:-}
repo=${PLAN_SOURCE_REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
work=$(mktemp -d "${TMPDIR:-/tmp}/lakepipe-plan-$env.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A copy of what the root reads: modules, the root itself, dataset specs, the ASL template.
copy="$work/repo"
mkdir -p "$copy/terraform/environments" "$copy/build/lambda" "$copy/build/glue" "$copy/glue_jobs"
cp -r "$repo/terraform/modules" "$copy/terraform/"
cp -r "$repo/terraform/environments/$env" "$copy/terraform/environments/"
cp -r "$repo/datasets" "$repo/state_machines" "$copy/"
find "$copy" -name .terraform -type d -prune -exec rm -rf {} +
for f in build/lambda/lakepipe_lambda.zip build/glue/lakepipe.zip glue_jobs/ingest_job.py glue_jobs/view_job.py glue_jobs/maintenance_job.py; do
  printf 'placeholder for an offline plan\n' >"$copy/$f"
done

root="$copy/terraform/environments/$env"
cat >"$root/offline_override.tf" <<HCL
terraform {
  backend "local" {
    path = "$work/terraform.tfstate"
  }
}

provider "aws" {
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

module "stack" {
  account_id               = "123456789012"
  check_data_lake_settings = false
}
HCL

unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
unset TF_DATA_DIR

terraform -chdir="$root" init -input=false -no-color >"$work/init.log" || { cat "$work/init.log"; exit 1; }
terraform -chdir="$root" plan -input=false -refresh=false -no-color -out="$work/plan.bin" \
  >"$work/plan.log" || { cat "$work/plan.log"; exit 1; }
grep -E '^Plan:' "$work/plan.log"
terraform -chdir="$root" show -json "$work/plan.bin" >"$work/plan.json"
count=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1])); print(sum(1 for r in p.get("resource_changes",[]) if "create" in r["change"]["actions"]))' "$work/plan.json")
echo "environments/$env: $count resources planned"
if [[ -n "$json_out" ]]; then
  # Paths inside the temp copy differ on every run: name them relative to the copy.
  sed "s#$work/repo#<repo>#g; s#$work#<work>#g" "$work/plan.json" >"$json_out"
fi
