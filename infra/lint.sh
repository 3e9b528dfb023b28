#!/usr/bin/env bash
# Lints the CloudFormation that `serverless package` writes (both stacks: the core one serverless creates
# first on a fresh account, and tetik's) with cfn-lint, AWS's own linter (pip install cfn-lint).
# Fails on any error or warning; informational findings are printed. Each finding left is explained in
# infra/README.md (Lint).
#   npm run lint:infra            (regions: LINT_REGIONS, default "eu-central-1 us-east-1")
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cfn-lint >/dev/null || { echo "lint:infra needs cfn-lint, AWS's CloudFormation linter: pip install cfn-lint" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
failed=0
# Both places the queue may live (the queue param): their templates differ.
for queue in redis postgres; do
  echo "lint:infra: queue=$queue"
  # Ids in the shape a real account has, so the linter checks what a deploy would send.
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off ESBUILD_WORK_FOLDER="$out/esbuild" npx serverless package --stage lint \
    --package "$out/$queue" --param="queue=$queue" \
    --param="vpcId=vpc-0123456789abcdef0" --param="privateSubnetIds=subnet-0123456789abcdef0,subnet-0123456789abcdef1" \
    --param="workerImage=123456789012.dkr.ecr.eu-central-1.amazonaws.com/tetik:lint" \
    --param="workerMaxTasks=4" --param="databaseStorageGb=100" >/dev/null

  # W3005 (a DependsOn that a Ref already implies): serverless writes one on each HTTP API route and on the
  # access-log stage; redundant and harmless, and not in tetik's hands.
  set +e
  # shellcheck disable=SC2086
  cfn-lint --regions ${LINT_REGIONS:-eu-central-1 us-east-1} --include-checks I --ignore-checks W3005 --format parseable -- \
    "$out/$queue/cloudformation-template-create-stack.json" "$out/$queue/cloudformation-template-update-stack.json"
  status=$?
  set -e
  # cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational.
  if (( status & 7 )); then
    echo "lint:infra: cfn-lint found errors or warnings with queue=$queue (exit $status)" >&2
    failed=1
  fi
done
(( failed )) && exit 1
echo "lint:infra: no errors or warnings (informational findings, if any above, are explained in infra/README.md)"
