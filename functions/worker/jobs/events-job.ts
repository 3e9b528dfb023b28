// The process-events job: matches the events it carries, concurrently.
import { matchEvent } from "../../domain/delivery/match-event.ts";
import type { WorkerDeps } from "../../domain/delivery/kinds/runtime.ts";
import type { ConsumedJob } from "../consumer.ts";

/**
 * First runs that ask to run again wait as delayed run-action jobs of their own (the action's id is the
 * job's), queued by matchEvent. If an event fails, the job fails and runs again: the events already done
 * find themselves matched.
 */
export async function eventsJob(deps: WorkerDeps, job: ConsumedJob<"process-events">): Promise<void> {
  const settled = await Promise.allSettled(job.data.eventIds.map((id) => matchEvent(deps, id)));
  const failed = settled.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed.length)
    throw new AggregateError(
      failed.map((f) => f.reason),
      `${failed.length} of ${settled.length} events failed`,
    );
}
