// Serverless function "sweep", on schedule rate(1 minute). Locally `npm start` runs the same code on a
// timer (functions/sweep/local.ts). In AWS each run also reports to CloudWatch (METRICS_NAMESPACE):
// SweepRuns, 1 per finished run (an alarm fires when runs stop: infra/aws/alarms.cjs), and DueJobs, the
// jobs a worker could run now, which the worker service scales on (infra/aws/worker.yml).
import { runSweep } from "../domain/sweep/run-sweep.ts";
import { putCounts } from "../platform/cloudwatch.ts";
import { createDeps } from "../platform/deps.ts";
import { lambdaDeps } from "../platform/lambda-deps.ts";

const sweepDeps = lambdaDeps(createDeps, "sweep", { servesApi: false, keepsWebhookSecrets: false });

export async function handler() {
  // Postgres refused a password that a rotation has replaced: once more with the secrets read again.
  const { deps, result } = await sweepDeps.run(async (deps) => ({ deps, result: await runSweep(deps) }));
  const namespace = deps.config.METRICS_NAMESPACE;
  if (namespace) {
    // Redis down: the run still counts (Postgres was swept); the scaling metric waits for the next run.
    const due = await deps.queue.due().catch(() => undefined);
    await putCounts(namespace, { SweepRuns: 1, ...(due === undefined ? {} : { DueJobs: due }) });
  }
  return result;
}
