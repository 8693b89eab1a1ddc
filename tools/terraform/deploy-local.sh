#!/usr/bin/env bash
# make deploy-local: terraform init + apply of environments/local into the running local endpoint, then
# its outputs into $LOCALCLOUD_DIR/stack.json (read by tools/local_lake.py).
#
# `make run` and `make demo` deploy on every call, and a no-op apply still takes ~15 s (refresh of ~100
# resources). So the apply is skipped when nothing it deploys changed since the last successful apply
# into this same endpoint process: the stamp is a hash of the local root and the modules, the dataset
# specs, the state machine template, the Glue scripts, the build outputs, the CLI config, the variables,
# and the endpoint's pid and start time. A restarted endpoint has forgotten everything it held, so the
# state of the previous apply (kept until `make down`) describes nothing: it is dropped and the stack
# applied afresh. LOCAL_TF_FORCE=1 applies anyway (to repair what was changed in the endpoint behind
# Terraform's back).
# Needs TF_CLI_CONFIG_FILE, LOCALCLOUD_DIR, LOCALCLOUD_PORT (mk/e2e.mk sets them).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
: "${TF_CLI_CONFIG_FILE:?}" "${LOCALCLOUD_DIR:?}" "${LOCALCLOUD_PORT:?}"
root=terraform/environments/local
tf_dir=$LOCALCLOUD_DIR/terraform
stamp_file=$tf_dir/applied-inputs.sha256
identity_file=$tf_dir/applied-endpoint
parallelism=${LOCAL_TF_PARALLELISM:-32}
vars=(-var "endpoint=http://127.0.0.1:$LOCALCLOUD_PORT")
export TF_DATA_DIR=$tf_dir/data TF_IN_AUTOMATION=1 AWS_EC2_METADATA_DISABLED=true AWS_PROFILE= \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
tf() { terraform -chdir="$root" "$@"; }
mkdir -p "$tf_dir"

endpoint_identity() { # pid and start time (clock ticks after boot) of the running endpoint
  local pid
  pid=$(cat "$LOCALCLOUD_DIR/pid" 2>/dev/null) && [[ -r /proc/$pid/stat ]] || return 1
  echo "endpoint pid $pid started $(awk '{print $22}' "/proc/$pid/stat")"
}

inputs_hash() {
  {
    # What Terraform reads: configuration (no READMEs, no module tests), the files it loads or uploads.
    find terraform/modules "$root" -type f \( -name '*.tf' -o -name '*.json' -o -name '*.hcl' \) \
      -not -path '*/.terraform/*' -not -path '*/tests/*' -print0 | sort -z | xargs -0 sha256sum
    find datasets state_machines glue_jobs -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
    sha256sum build/lambda/lakepipe_lambda.zip build/glue/lakepipe.zip "$TF_CLI_CONFIG_FILE"
    echo "vars ${vars[*]}"
    endpoint_identity
  } | sha256sum | cut -d' ' -f1
}

current=$(inputs_hash) || current=""
if [[ "${LOCAL_TF_FORCE:-0}" != 1 && -n "$current" && -f "$stamp_file" && -f "$LOCALCLOUD_DIR/stack.json" &&
  "$(cat "$stamp_file")" == "$current" ]]; then
  echo "deploy-local: nothing it deploys changed since the last apply into this endpoint: terraform skipped" \
    "(LOCAL_TF_FORCE=1 applies anyway)"
  exit 0
fi
rm -f "$stamp_file"
identity=$(endpoint_identity) || identity=""
if [[ -f "$tf_dir/terraform.tfstate" && -f "$identity_file" && "$(cat "$identity_file")" != "$identity" ]]; then
  echo "deploy-local: the endpoint restarted since the last apply (its resources are gone): applying from an empty state"
  rm -f "$tf_dir/terraform.tfstate" "$tf_dir/terraform.tfstate.backup"
fi
echo "$identity" >"$identity_file" # from here on the state describes this endpoint, even if the apply fails

tf init -input=false -no-color -reconfigure -backend-config="path=$tf_dir/terraform.tfstate" \
  >"$tf_dir/init.log" 2>&1 || { cat "$tf_dir/init.log"; exit 1; }
start=$EPOCHREALTIME
tf apply -auto-approve -input=false -no-color -parallelism="$parallelism" "${vars[@]}" >"$tf_dir/apply.log" 2>&1 ||
  { cat "$tf_dir/apply.log"; exit 1; }
grep -E '^Apply complete' "$tf_dir/apply.log"
printf 'terraform apply of %s took %.1fs (log %s)\n' "$root" "$(awk "BEGIN{print $EPOCHREALTIME - $start}")" \
  "$tf_dir/apply.log"
tf output -json >"$LOCALCLOUD_DIR/stack.json"
tf output -no-color
if [[ -n "$current" ]]; then echo "$current" >"$stamp_file"; fi
