import type { Job } from "bullmq";
import type { WorkerDeps } from "../../domain/delivery/pipeline.ts";
import { runAction } from "../../domain/delivery/run-action.ts";
import type { JobCatalog } from "../../platform/queue.ts";
import { deferJob } from "../schedule-retries.ts";

/** Runs the action; when it is to be tried again, the job waits for that time under the same id. */
export async function runActionJob(
  deps: WorkerDeps,
  job: Job<JobCatalog["run-action"]>,
  token: string | undefined,
): Promise<void> {
  const { retryAt } = await runAction(deps, job.data.actionId);
  if (retryAt) await deferJob(job, token, retryAt);
}
