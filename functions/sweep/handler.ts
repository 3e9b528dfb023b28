// Serverless function "sweep", on schedule rate(1 minute). Locally `npm start` runs the same code on a
// timer (functions/sweep/local.ts). In AWS it also publishes the queue's depth, which the worker service
// scales on (infra/aws/worker.yml).
import { runSweep } from "../domain/sweep/run-sweep.ts";
import { createDeps } from "../platform/deps.ts";
import { lambdaDeps } from "../platform/lambda-deps.ts";

const sweepDeps = lambdaDeps(createDeps, "sweep", { servesApi: false });

// The AWS SDK comes with the Lambda runtime; it is not a dependency of tetik.
const CLOUDWATCH = "@aws-sdk/client-cloudwatch";

async function publishQueueDepth(namespace: string, depth: number) {
  const { CloudWatchClient, PutMetricDataCommand } = await import(CLOUDWATCH);
  await new CloudWatchClient({}).send(
    new PutMetricDataCommand({
      Namespace: namespace,
      MetricData: [{ MetricName: "QueueDepth", Value: depth, Unit: "Count" }],
    }),
  );
}

export async function handler() {
  const deps = await sweepDeps();
  const result = await runSweep(deps);
  const namespace = deps.config.METRICS_NAMESPACE;
  if (namespace) await publishQueueDepth(namespace, await deps.queue.depth());
  return result;
}
