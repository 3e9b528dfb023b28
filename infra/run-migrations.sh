#!/usr/bin/env bash
# The migrations as a one-off ECS task, for one marked `-- tetik:run-as-task` (an index on a large log, a
# backfill): the worker's image as the master user, with hours where the migrate function has 5 minutes
# (MigrateTaskDefinition, infra/aws/worker.yml). The deploy that brought such a migration applied the ones
# before it and said which it left (the Migrations resource's reason in the stack's events, and the
# migrate function's log); run this after that deploy. Waits for the task and answers its outcome.
#   infra/run-migrations.sh <stage> <region>                                   apply what is pending
#   infra/run-migrations.sh <stage> <region> resolve --rolled-back <name>      settle a failed one (README, Migrations)
# It waits RUN_MIGRATIONS_MINUTES at most (default 360); the task goes on if it has not finished by then.
set -euo pipefail
stage=${1:?usage: infra/run-migrations.sh <stage> <region> [resolve --rolled-back|--applied <name>]}
region=${2:?region}
shift 2
minutes=${RUN_MIGRATIONS_MINUTES:-360}
stack="tetik-$stage"
# Arguments for `node dist/migrate.mjs` (migration names and flags: nothing that needs quoting in JSON).
overrides=()
if (( $# )); then
  for arg in "$@"; do [[ $arg =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "run-migrations: not a migration name or flag: $arg" >&2; exit 2; }; done
  command=$(printf '"%s",' node dist/migrate.mjs "$@")
  overrides=(--overrides "{\"containerOverrides\":[{\"name\":\"migrate\",\"command\":[${command%,}]}]}")
fi
output() {
  aws cloudformation describe-stacks --region "$region" --stack-name "$stack" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
cluster=$(output WorkerClusterName)
task_definition=$(output MigrateTaskDefinitionArn)
subnets=$(output PrivateSubnetIds)
security_group=$(output WorkerSecurityGroupId)
log_group=$(output WorkerLogGroupName)

task=$(aws ecs run-task --region "$region" --cluster "$cluster" --task-definition "$task_definition" \
  --launch-type FARGATE ${overrides[@]+"${overrides[@]}"} \
  --network-configuration "awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=DISABLED}" \
  --query "tasks[0].taskArn" --output text)
echo "run-migrations: started $task"
echo "run-migrations: its log: aws logs tail $log_group --region $region --log-stream-name-prefix migrate/ --follow"

describe() { aws ecs describe-tasks --region "$region" --cluster "$cluster" --tasks "$task" --query "$1" --output text; }
until [[ $(describe "tasks[0].lastStatus") == STOPPED ]]; do
  if (( SECONDS > minutes * 60 )); then
    echo "run-migrations: still running after $minutes minutes; it goes on (aws ecs describe-tasks --cluster $cluster --tasks $task)" >&2
    exit 1
  fi
  sleep 15
done
code=$(describe "tasks[0].containers[0].exitCode")
if [[ $code != 0 ]]; then
  echo "run-migrations: the task failed (exit $code: $(describe "tasks[0].stoppedReason")); its log says why" >&2
  exit 1
fi
echo "run-migrations: done"
