// The worker's first step for an event: claim it, match it, write its actions, and make their first runs
// at once (concurrently, so a slow webhook does not hold up the others). A first run that asks to run
// again is queued as the action's own job as soon as it ends (a turn booked for it will not wait for the
// other runs); later runs are the actions' own jobs.
import type { Deps } from "../../platform/deps.ts";
import { setImmediate } from "node:timers/promises";
import sql from "sql-template-tag";
import { fromPg, runSql } from "../../platform/sql.ts";
import type { MatchableEvent } from "../matching/match-definitions.ts";
import { FINAL_STATUSES, sqlList } from "./action-log/action-log.ts";
import type { RunOutcome, WorkerDeps } from "./kinds/runtime.ts";
import { planActions } from "./plan-actions.ts";

/**
 * Queues an event's unfinished actions that no first run holds (its lease): those never started, and those
 * whose first run failed (the job's retry comes here). An action with a job of its own (a later run in
 * flight, a retry waiting) keeps it: a job id already queued is left alone.
 */
async function enqueueActions({ pool, queue }: Pick<Deps, "pool" | "queue">, eventId: string, now: Date) {
  const actions = await runSql<{ id: string }>(
    fromPg(pool),
    sql`SELECT id FROM event_actions WHERE "eventId" = ${eventId} AND status NOT IN (${sqlList(FINAL_STATUSES)})
      AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})`,
  );
  await queue.add(
    "run-action",
    actions.map((a) => ({ id: a.id, data: { actionId: a.id } })),
  );
}

/**
 * Queues an action's next run, at the time its kind decided (a retry's, also its nextAttemptAt in Postgres,
 * or its turn's under flow control, with what its job carries to ask for it).
 */
async function queueNextRun({ runtime, now }: Pick<WorkerDeps, "runtime" | "now">, actionId: string, next: RunOutcome) {
  if (!next.retryAt) return;
  const delayMs = next.retryAt.getTime() - now().getTime();
  await runtime.queueRun({ id: actionId, data: { actionId, awaiting: next.awaiting }, delayMs });
}

/**
 * Idempotent: an event is claimed and matched once (a second job finds it claimed or matched), actions are
 * unique per (event, target), and only the run that created an action makes its first run. A job that
 * runs again only makes sure the event's actions that no one started are queued.
 */
export async function matchEvent(deps: WorkerDeps, eventId: string): Promise<void> {
  const { actionLog } = deps.runtime;
  const { event, configVersion } = await actionLog.claim(eventId);
  if (!event) {
    // Matched already, claimed by another run, or pruned: nothing to match.
    await enqueueActions(deps, eventId, deps.now());
    return;
  }
  try {
    return await matchAndRun(deps, event, configVersion);
  } catch (error) {
    // Most likely the database failed mid-write: the job's retry claims the event again at once rather
    // than after the lease (a delivery it repeats carries the same webhook-id).
    await actionLog.releaseClaim(eventId, error).catch(() => {});
    throw error;
  }
}

async function matchAndRun(deps: WorkerDeps, event: MatchableEvent, configVersion: bigint) {
  const { actionLog } = deps.runtime;
  const config = await deps.runtime.config.get(configVersion);
  // Matching is synchronous and may take up to LIMITS.eventConditionSteps: a turn of the event loop first
  // lets the queue renew its locks and the other events of the job move on between heavy ones.
  await setImmediate();
  const planned = planActions(event, config.definitionsFor(event.collection), deps.runtime.kinds);
  // Written before any first run starts: a run in flight is visible, and one that crashes is counted.
  const created = await actionLog.match({ eventId: event.id, actions: planned });
  await Promise.all(
    planned
      .filter((action) => created.has(action.id) && !action.failure)
      .map(async (action) => {
        let next: RunOutcome;
        try {
          next = await deps.runtime.kinds[action.kind].runFirst(deps, action, event, config);
        } catch (error) {
          await actionLog.noteFailedRun(action.id, error);
          throw error;
        }
        // Redis down here fails the job: its retry queues the actions no run holds (enqueueActions).
        await queueNextRun(deps, action.id, next);
      }),
  );
  deps.log.debug({ eventId: event.id, actions: planned.length }, "event matched");
}
