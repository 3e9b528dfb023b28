#!/usr/bin/env bash
# Builds the worker image for the task definition's ARM64 CPUs and pushes it to ECR (creating the
# repository the first time), then prints the image reference to give `serverless deploy` as workerImage.
#   infra/push-image.sh <region> [repository] [tag]
# Needs Docker with buildx (Docker Desktop, or the buildx plugin) and AWS credentials allowed to use ECR. No
# emulation: the Dockerfile builds on the machine's own CPU and only copies files into the ARM64 image.
set -euo pipefail
region=${1:?usage: infra/push-image.sh <region> [repository] [tag]}
repository=${2:-tetik}
cd "$(dirname "$0")/.."
# The default tag names the commit; uncommitted changes would be pushed under a name that does not
# describe them (and, tags being immutable, never replaced): refuse, unless a tag is given.
if [[ -z ${3:-} && -n $(git status --porcelain --untracked-files=no) ]]; then
  echo "push-image: the work tree has uncommitted changes; commit them or give a tag" >&2
  exit 1
fi
tag=${3:-$(git rev-parse --short HEAD)}

account=$(aws sts get-caller-identity --query Account --output text)
registry="$account.dkr.ecr.$region.amazonaws.com"
image="$registry/$repository:$tag"

aws ecr describe-repositories --region "$region" --repository-names "$repository" >/dev/null 2>&1 ||
  aws ecr create-repository --region "$region" --repository-name "$repository" \
    --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE >/dev/null
# Tags are immutable: an image already pushed for this commit is used as it is.
if aws ecr describe-images --region "$region" --repository-name "$repository" --image-ids "imageTag=$tag" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry" >/dev/null
# Only the image reference goes to stdout (infra/deploy.sh reads it).
docker buildx build --platform linux/arm64 -f infra/worker.Dockerfile -t "$image" --push . >&2
echo "$image"
