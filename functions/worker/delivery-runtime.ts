// What the worker's jobs share, one per worker process: the action log (batched claims, matches and
// attempts), the config cache, the trigger writer, the webhooks' health recorder, and the queueing of later
// runs (batched like the rest: one round trip to Redis for the runs that end together).
import { createActionLog } from "../domain/delivery/action-log/action-log.ts";
import { ACTION_KINDS } from "../domain/delivery/kinds/registry.ts";
import { createTriggerWriter } from "../domain/delivery/kinds/trigger-writer.ts";
import type { DeliveryRuntime, WorkerDeps } from "../domain/delivery/kinds/runtime.ts";
import { announceOperationalEvents, type Emitted } from "../domain/operational/operational-events.ts";
import { createHealthRecorder } from "../domain/webhooks/health.ts";
import { createPausedWebhooks } from "../domain/webhooks/paused-webhooks.ts";
import { createBatcher } from "../platform/batcher.ts";
import type { Deps } from "../platform/deps.ts";
import type { JobCatalog } from "../platform/queue.ts";
import { fromPg } from "../platform/sql.ts";
import { createConfigCache } from "./config-cache.ts";

export function createDeliveryRuntime(
  deps: Pick<Deps, "pool" | "now" | "log" | "config" | "secrets" | "queue" | "flow" | "metrics">,
): DeliveryRuntime {
  const q = fromPg(deps.pool);
  // Operational events (health turns, actions failed for good) are queued once their transaction commits.
  const announce = (emitted: Emitted[]) => announceOperationalEvents(deps, emitted);
  const actionLog = createActionLog(deps.pool, deps.now, {
    announce,
    lease: { defaultTimeoutMs: deps.config.WEBHOOK_TIMEOUT_MS, marginMs: deps.config.EVENT_LEASE_MS },
    // If the queue is unreachable now, the sweep queues the released action (its predecessor is final).
    release: (ids) =>
      deps.queue.add(
        "run-action",
        ids.map((id) => ({ id, data: { actionId: id } })),
      ),
  });
  const runs = createBatcher<{ id: string; data: JobCatalog["run-action"]; delayMs?: number }, void>(async (jobs) => {
    await deps.queue.add("run-action", jobs);
    return jobs.map(() => undefined);
  });
  return {
    queueRun: (job) => runs.add(job),
    actionLog,
    kinds: ACTION_KINDS,
    config: createConfigCache(q, deps.secrets),
    writeTrigger: createTriggerWriter(deps, actionLog),
    noteHealth: createHealthRecorder(deps.pool, deps.now, deps.log, announce),
    pausedWebhooks: createPausedWebhooks(deps.flow, deps.now),
  };
}

export function withRuntime(deps: Deps, runtime: DeliveryRuntime = createDeliveryRuntime(deps)): WorkerDeps {
  return { ...deps, runtime };
}
