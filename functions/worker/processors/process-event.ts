import type { Job } from "bullmq";
import { processEvent } from "../../domain/events/process-event.ts";
import type { WorkerDeps } from "../../domain/pipeline/pipeline.ts";
import type { JobCatalog } from "../../platform/queue.ts";

/** Matches the event and makes the first attempts; failed ones wait as delayed jobs of their own. */
export async function processEventJob(deps: WorkerDeps, job: Job<JobCatalog["process-event"]>): Promise<void> {
  const { retries } = await processEvent(deps, job.data.eventId);
  const now = deps.now().getTime();
  await deps.queue.add("run-action", retries.map((r) => ({ id: r.actionId, data: { actionId: r.actionId }, delayMs: r.at.getTime() - now })));
}
