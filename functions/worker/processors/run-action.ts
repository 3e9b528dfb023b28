import { DelayedError, type Job } from "bullmq";
import { runAction } from "../../domain/actions/run-action.ts";
import type { WorkerDeps } from "../../domain/pipeline/pipeline.ts";
import type { JobCatalog } from "../../platform/queue.ts";

/**
 * Delivery retries follow the webhook's own policy: the domain says when, and the job waits in BullMQ's
 * delayed set under the same id. Postgres has the same time (nextAttemptAt), so the sweep can recreate
 * the job if Redis loses it.
 */
export async function runActionJob(deps: WorkerDeps, job: Job<JobCatalog["run-action"]>, token: string | undefined): Promise<void> {
  const { retryAt } = await runAction(deps, job.data.actionId);
  if (!retryAt) return;
  await job.moveToDelayed(retryAt.getTime(), token);
  throw new DelayedError();
}
