#!/usr/bin/env bash
# A deploy from start to end, in order (see README, Deploy to AWS):
#   infra/deploy.sh <stage> <region> <vpc-id> <private-subnet-ids, comma-separated> [worker image|-] [serverless options]
# e.g. infra/deploy.sh prod eu-central-1 vpc-0abc subnet-0a,subnet-0b - --param=databaseInstanceClass=db.r7g.large
# 1. checks the account: a stack left half-made, and Lambda's concurrency quota (new accounts have 10);
# 2. the worker image, built for ARM64 and pushed to ECR (infra/push-image.sh), unless one is given;
# 3. the stack (serverless deploy): on a fresh account serverless first creates its deployment bucket,
#    then the stack, in which CloudFormation creates the network rules, the secrets, Postgres, RDS Proxy
#    and Redis, runs the migrations (the Migrations custom resource), and only then creates the functions
#    and the worker service. On an existing stack the same order holds for what changed.
# A stack's first deploy makes the database without deletion protection, so that a failure rolls back
# everything it made (a protected database would stay behind, outside any stack, billed); a second deploy
# right after it succeeded turns the protection and the final snapshot on.
set -euo pipefail
stage=${1:?usage: infra/deploy.sh <stage> <region> <vpc-id> <subnet-a,subnet-b> [image]}
region=${2:?region}
vpc=${3:?vpc id}
subnets=${4:?private subnet ids}
[[ $vpc =~ ^vpc-[0-9a-f]+$ ]] || { echo "not a VPC id: $vpc" >&2; exit 2; }
[[ $subnets =~ ^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)+$ ]] || { echo "give two or more private subnet ids, comma-separated: $subnets" >&2; exit 2; }
cd "$(dirname "$0")/.."
image=${5:--}
shift $(( $# < 5 ? $# : 5 ))
stack="tetik-$stage"
say() { echo "deploy: $*" >&2; }

# 1. The account. A stack whose creation failed (ROLLBACK_COMPLETE) cannot be updated, only deleted.
status=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
  --query "Stacks[0].StackStatus" --output text 2>/dev/null || echo NONE)
if [[ $status == ROLLBACK_COMPLETE || $status == ROLLBACK_FAILED || $status == UPDATE_ROLLBACK_FAILED ]]; then
  say "the stack $stack is $status from an earlier try. Look at why (the first FAILED event):"
  say "  aws cloudformation describe-stack-events --region $region --stack-name $stack --query \"StackEvents[?contains(ResourceStatus, 'FAILED')]\""
  say "then delete it and deploy again:"
  say "  aws cloudformation delete-stack --region $region --stack-name $stack"
  exit 1
fi
# Outputs come with the first deploy that got through: until then, every deploy is a first one.
first=true
if [[ $status != NONE ]]; then
  database=$(aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='DatabaseInstanceId'].OutputValue" --output text 2>/dev/null || true)
  [[ -n $database && $database != None ]] && first=false
fi
concurrency=$(aws lambda get-account-settings --region "$region" --query "AccountLimit.ConcurrentExecutions" --output text 2>/dev/null || echo unknown)
if [[ $concurrency =~ ^[0-9]+$ ]] && (( concurrency < 100 )); then
  say "warning: this account may run $concurrency Lambda functions at once in $region (new accounts start low):"
  say "  tetik's API and sweep share them, so traffic past that is refused (429). Ask for more:"
  say "  aws service-quotas request-service-quota-increase --region $region --service-code lambda --quota-code L-B99A9384 --desired-value 1000"
fi

# 2. The image.
[[ $image != - ]] || image=$(infra/push-image.sh "$region")

# 3. The stack. Anything after the image goes to serverless as it is: sizes (README, Deploy to AWS) or --verbose.
deploy() {
  SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off npx serverless deploy --stage "$stage" --region "$region" \
    --param="vpcId=$vpc" --param="privateSubnetIds=$subnets" --param="workerImage=$image" "$@"
}
if $first; then
  say "first deploy of $stack: the database is made without deletion protection until the stack is up"
  if ! deploy --param=databaseProtection=false "$@"; then
    say "the first deploy failed and rolled back what it made. Why (the first FAILED event):"
    say "  aws cloudformation describe-stack-events --region $region --stack-name $stack --query \"StackEvents[?contains(ResourceStatus, 'FAILED')]\""
    say "fix that, then run this command again."
    exit 1
  fi
  say "the stack is up: turning the database's deletion protection and final snapshot on"
fi
deploy "$@"
