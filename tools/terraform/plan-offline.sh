#!/usr/bin/env bash
# Offline `terraform plan -refresh=false` of an environment root with fake credentials and the
# provider's skip flags. Works on a copy under a temp dir (with a local-backend override there),
# so nothing is written into the environment root. Missing build outputs (Lambda zip, Glue package)
# and Glue scripts are replaced by placeholders in the temp dir. Prints the planned resource count.
# Usage: plan-offline.sh [dev|prod]   (needs TF_CLI_CONFIG_FILE, see mk/terraform.mk)
set -euo pipefail
env=${1:-dev}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lakepipe-plan-$env.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A copy of what the root reads: modules, the root itself, dataset specs, the ASL template.
mkdir -p "$work/repo/terraform/environments"
cp -r "$repo/terraform/modules" "$work/repo/terraform/"
cp -r "$repo/terraform/environments/$env" "$work/repo/terraform/environments/"
cp -r "$repo/datasets" "$repo/state_machines" "$work/repo/"
find "$work/repo" -name .terraform -type d -prune -exec rm -rf {} +
root="$work/repo/terraform/environments/$env"
cat >"$root/backend_override.tf" <<HCL
terraform {
  backend "local" {
    path = "$work/terraform.tfstate"
  }
}
HCL

pick() { # pick <real file> <placeholder name>: the real file if it exists, else a placeholder
  if [[ -f "$1" ]]; then echo "$1"; else printf 'placeholder for an offline plan\n' >"$work/$2" && echo "$work/$2"; fi
}
if [[ -f "$repo/glue_jobs/ingest_job.py" && -f "$repo/glue_jobs/view_job.py" ]]; then
  scripts="$repo/glue_jobs"
else
  scripts="$work/glue_jobs"
  mkdir -p "$scripts"
  printf 'placeholder for an offline plan\n' >"$scripts/ingest_job.py"
  printf 'placeholder for an offline plan\n' >"$scripts/view_job.py"
fi
lambda_zip=$(pick "$repo/build/lambda/lakepipe_lambda.zip" lakepipe_lambda.zip)
glue_zip=$(pick "$repo/build/glue/lakepipe.zip" lakepipe.zip)

unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKEFAKE AWS_SECRET_ACCESS_KEY=fake AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1

terraform -chdir="$root" init -input=false -no-color >"$work/init.log" || { cat "$work/init.log"; exit 1; }
terraform -chdir="$root" plan -input=false -refresh=false -no-color -out="$work/plan.bin" \
  -var skip_aws_api_checks=true \
  -var account_id=123456789012 \
  -var "lambda_zip_path=$lambda_zip" \
  -var "glue_package_path=$glue_zip" \
  -var "glue_scripts_dir=$scripts" >"$work/plan.log" || { cat "$work/plan.log"; exit 1; }
grep -E '^Plan:' "$work/plan.log"
count=$(terraform -chdir="$root" show -json "$work/plan.bin" |
  python3 -c 'import json,sys; p=json.load(sys.stdin); print(sum(1 for r in p.get("resource_changes",[]) if "create" in r["change"]["actions"]))')
echo "environments/$env: $count resources planned"
