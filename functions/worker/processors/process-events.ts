import type { Job } from "bullmq";
import { processEvent, type Retry } from "../../domain/events/process-event.ts";
import type { WorkerDeps } from "../../domain/pipeline/pipeline.ts";
import type { JobCatalog } from "../../platform/queue.ts";

/**
 * Processes the job's events concurrently; failed first attempts wait as delayed jobs of their own. If an
 * event fails, the job fails and runs again: the events already done find themselves matched and are left.
 */
export async function processEventsJob(deps: WorkerDeps, job: Job<JobCatalog["process-events"]>): Promise<void> {
  const settled = await Promise.allSettled(job.data.eventIds.map((id) => processEvent(deps, id)));
  const retries: Retry[] = settled.flatMap((s) => (s.status === "fulfilled" ? s.value.retries : []));
  const now = deps.now().getTime();
  await deps.queue.add("run-action", retries.map((r) => ({ id: r.actionId, data: { actionId: r.actionId }, delayMs: r.at.getTime() - now })));
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed.length) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} of ${settled.length} events failed`);
}
