// The worker's first step for an event: match it, write its actions, and make their first attempts at
// once (each webhook concurrently, so a slow one does not hold up the others). Failed attempts come back
// as retries for the caller to schedule; later attempts run as the actions' own jobs.
import type { Deps } from "../../platform/deps.ts";
import { planActions, type MatchableEvent } from "../matching/match-definitions.ts";
import { attemptWebhook } from "./attempt-webhook.ts";
import type { WorkerDeps } from "./pipeline.ts";
import { noteFailedRun } from "./run-action.ts";
import { runTrigger } from "./run-trigger.ts";

/**
 * Queues an event's actions that no one has started. Those in flight or waiting for a retry are left to
 * the job that has them, or, if it is gone, to the sweep once they have shown no sign of life: queueing
 * them here could attempt a delivery twice at the same time.
 */
export async function enqueueActions({ db, queue }: Pick<Deps, "db" | "queue">, eventId: string): Promise<void> {
  const actions = await db.eventAction.findMany({ where: { eventId, status: "pending" }, select: { id: true } });
  await queue.add(
    "run-action",
    actions.map((a) => ({ id: a.id, data: { actionId: a.id } })),
  );
}

/** An action's next attempt, at the time nextAttempt decided (also its nextAttemptAt in Postgres). */
export interface Retry {
  actionId: string;
  at: Date;
}

/**
 * Idempotent: an event is claimed and matched once (a second job finds it claimed or matchedAt set),
 * actions are unique per (event, target), and only the run that created an action attempts it. A job
 * that runs again only makes sure the event's actions that no one started are queued.
 */
export async function processEvent(deps: WorkerDeps, eventId: string): Promise<{ retries: Retry[] }> {
  const { event, configVersion } = await deps.pipeline.claimEvent(eventId);
  if (!event) {
    // Matched already, claimed by another run, or pruned: nothing to match.
    await enqueueActions(deps, eventId);
    return { retries: [] };
  }
  try {
    return await matchAndDeliver(deps, event, configVersion);
  } catch (error) {
    // Most likely the database failed mid-write: the job's retry claims the event again at once rather
    // than after the lease (a delivery it repeats carries the same webhook-id).
    await deps.pipeline.releaseClaim(eventId, error).catch(() => {});
    throw error;
  }
}

async function matchAndDeliver(
  deps: WorkerDeps,
  event: MatchableEvent,
  configVersion: bigint,
): Promise<{ retries: Retry[] }> {
  const config = await deps.pipeline.config.get(configVersion);
  const planned = planActions(event, config.definitionsFor(event.collection));

  // The common case, one webhook: its action is written with its first attempt (one write, not two).
  const [only] = planned;
  if (planned.length === 1 && only!.kind === "webhook" && !only!.failure) {
    const webhook = config.webhook(only!.targetId)!;
    const at = await attemptWebhook(deps, {
      event,
      actionId: only!.id,
      attempt: 1,
      webhook,
      soleAction: { definitionId: only!.definitionId },
    });
    deps.log.debug({ eventId: event.id, actions: 1 }, "event processed");
    return { retries: at ? [{ actionId: only!.id, at }] : [] };
  }

  const created = await deps.pipeline.log.match({ eventId: event.id, actions: planned });
  const retries: Retry[] = [];
  await Promise.all(
    planned
      .filter((action) => created.has(action.id) && !action.failure)
      .map(async (action) => {
        if (action.kind === "trigger") {
          // Its first run, counted as begun when the match was written (see run-action.ts).
          return runTrigger(deps, action, event, config.trigger(action.targetId)!).catch(async (error) => {
            await noteFailedRun(deps.pool, action.id, error);
            throw error;
          });
        }
        // Planned from this same config, which holds every webhook it planned for.
        const webhook = config.webhook(action.targetId)!;
        // Never the event's sole action: that case took the path above.
        const at = await attemptWebhook(deps, { event, actionId: action.id, attempt: 1, webhook });
        if (at) retries.push({ actionId: action.id, at });
      }),
  );
  deps.log.debug({ eventId: event.id, actions: planned.length }, "event processed");
  return { retries };
}
