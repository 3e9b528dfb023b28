import type { Job } from "bullmq";
import type { WorkerDeps } from "../../domain/delivery/pipeline.ts";
import { processEvent, type Retry } from "../../domain/delivery/process-event.ts";
import type { JobCatalog } from "../../platform/queue.ts";
import { scheduleRetries } from "../schedule-retries.ts";

/**
 * Processes the job's events concurrently; failed first attempts wait as delayed jobs of their own. If an
 * event fails, the job fails and runs again: the events already done find themselves matched and are left.
 */
export async function processEventsJob(deps: WorkerDeps, job: Job<JobCatalog["process-events"]>): Promise<void> {
  const settled = await Promise.allSettled(job.data.eventIds.map((id) => processEvent(deps, id)));
  const retries: Retry[] = settled.flatMap((s) => (s.status === "fulfilled" ? s.value.retries : []));
  await scheduleRetries(deps, retries);
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed.length)
    throw new AggregateError(
      failed.map((f) => f.reason),
      `${failed.length} of ${settled.length} events failed`,
    );
}
