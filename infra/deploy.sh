#!/usr/bin/env bash
# A deploy from start to end, in order (see README, Deploy to AWS):
#   infra/deploy.sh <stage> <region> <vpc-id> <private-subnet-ids, comma-separated> [worker image|-] [serverless options]
# e.g. infra/deploy.sh prod eu-central-1 vpc-0abc subnet-0a,subnet-0b - --param=databaseInstanceClass=db.r7g.large
# 1. the worker image, built for ARM64 and pushed to ECR (infra/push-image.sh), unless one is given;
# 2. the stack (serverless deploy): on a fresh account serverless first creates its deployment bucket,
#    then the stack, in which CloudFormation creates the network rules, the secrets, Postgres, RDS Proxy
#    and Redis, runs the migrations (the Migrations custom resource), and only then creates the functions
#    and the worker service. On an existing stack the same order holds for what changed.
set -euo pipefail
stage=${1:?usage: infra/deploy.sh <stage> <region> <vpc-id> <subnet-a,subnet-b> [image]}
region=${2:?region}
vpc=${3:?vpc id}
subnets=${4:?private subnet ids}
[[ $vpc =~ ^vpc-[0-9a-f]+$ ]] || { echo "not a VPC id: $vpc" >&2; exit 2; }
[[ $subnets =~ ^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)+$ ]] || { echo "give two or more private subnet ids, comma-separated: $subnets" >&2; exit 2; }
cd "$(dirname "$0")/.."
image=${5:--}
[[ $image != - ]] || image=$(infra/push-image.sh "$region")
shift $(( $# < 5 ? $# : 5 ))

# Anything after the image goes to serverless as it is: sizes (README, Deploy to AWS) or --verbose.
SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off npx serverless deploy --stage "$stage" --region "$region" \
  --param="vpcId=$vpc" --param="privateSubnetIds=$subnets" --param="workerImage=$image" "$@"
