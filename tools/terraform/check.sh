#!/usr/bin/env bash
# make tf-check: fmt, init -backend=false of every module and environment root, validate of every environment,
# terraform test of every module (mock_provider "aws"; it validates the module), the offline plans of dev and
# prod against their committed snapshots (terraform/plan-snapshots), checkov with zero failed checks.
# Needs TF_CLI_CONFIG_FILE (the project's CLI config) and CHECKOV (path of the checkov binary).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
: "${TF_CLI_CONFIG_FILE:?set TF_CLI_CONFIG_FILE (make tf-check does)}"
: "${CHECKOV:?set CHECKOV (make tf-check does)}"
export TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
logs="$repo/.cache/terraform/logs"
mkdir -p "$logs"
t0=$SECONDS
step() { printf '[tf-check %3ds] %s\n' $((SECONDS - t0)) "$*"; }

modules=()
for d in terraform/modules/*/; do modules+=("${d%/}"); done
envs=()
for d in terraform/environments/*/; do envs+=("${d%/}"); done

step "terraform fmt -check -recursive terraform"
terraform fmt -check -recursive -diff terraform

step "module READMEs: Inputs/Outputs tables match variables.tf and outputs.tf"
"$(dirname "$CHECKOV")/python" tools/terraform/module-docs.py --check "${modules[@]}"

# A module is validated by its terraform test (every run block validates the configuration first, and an
# invalid module fails the test: checked with an undeclared variable and an unsupported resource argument), so
# only the environments, which have no terraform test, run `terraform validate` (each validate loads the AWS
# provider's schema: ~2 s of CPU, taken from the suites beside this one in make test).
for d in "${modules[@]}" "${envs[@]}"; do
  name=${d//\//_}
  terraform -chdir="$d" init -backend=false -input=false -no-color >"$logs/init-$name.log" 2>&1 ||
    { cat "$logs/init-$name.log"; exit 1; }
  if [[ " ${envs[*]} " == *" $d "* ]]; then
    terraform -chdir="$d" validate -no-color >"$logs/validate-$name.log" 2>&1 ||
      { cat "$logs/validate-$name.log"; exit 1; }
    step "init + validate ok: $d"
  else
    step "init ok: $d (validated by its terraform test below)"
  fi
done

for d in "${modules[@]}"; do
  compgen -G "$d/tests/*.tftest.hcl" >/dev/null || { echo "no tests in $d/tests" >&2; exit 1; }
  name=${d//\//_}
  terraform -chdir="$d" test -no-color >"$logs/test-$name.log" 2>&1 ||
    { cat "$logs/test-$name.log"; exit 1; }
  step "terraform test ok: $d ($(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$logs/test-$name.log" | tail -n 1))"
done

for env in dev prod; do
  plan_json="$logs/plan-$env.json"
  "$(dirname "$0")/plan-offline.sh" "$env" "$plan_json" >"$logs/plan-$env.log" 2>&1 ||
    { cat "$logs/plan-$env.log"; exit 1; }
  python3 tools/terraform/plan-snapshot.py check "terraform/plan-snapshots/$env.json" "$plan_json" \
    "terraform/environments/$env"
  step "plan of environments/$env matches terraform/plan-snapshots/$env.json"
done

step "checkov (offline, BC_SKIP_MAPPING=TRUE)"
# No heavy lock: make test runs this beside the Spark suites; the parse timeout leaves room for that.
BC_SKIP_MAPPING=TRUE HCL_PARSE_TIMEOUT_SEC=120 "$CHECKOV" --config-file "$repo/.checkov.yaml" -o cli >"$logs/checkov.log" 2>&1 ||
  { cat "$logs/checkov.log"; exit 1; }
summary=$(grep -E 'Passed checks: [0-9]+, Failed checks: [0-9]+' "$logs/checkov.log" || true)
[[ -n "$summary" ]] || { cat "$logs/checkov.log"; echo "checkov printed no summary" >&2; exit 1; }
if grep -Eq 'Failed checks: [1-9]|Parsing errors: [1-9]' <<<"$summary"; then
  cat "$logs/checkov.log"
  exit 1
fi
step "checkov ok: $summary"
step "tf-check passed"
