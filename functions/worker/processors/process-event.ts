import type { Job } from "bullmq";
import { processEvent } from "../../domain/events/process-event.ts";
import type { Deps } from "../../platform/deps.ts";
import type { JobCatalog } from "../../platform/queue.ts";

export async function processEventJob(deps: Deps, job: Job<JobCatalog["process-event"]>): Promise<void> {
  await processEvent(deps, job.data.eventId);
}
