// The second step of the worker: run one action of one event. Idempotent: a finished action is left alone.
// Bounded: a run that ends in an error (other than an outage) or a crash counts; after LIMITS.processingTries
// such runs in a row the action fails with processing_failed instead of being retried (and swept) forever.
import { errorReason, isDependencyDown } from "../../platform/dependency-errors.ts";
import type { Pool } from "../../platform/pool.ts";
import { failAction } from "../events/event-status.ts";
import { LIMITS } from "../limits.ts";
import { storableText } from "../storable-json.ts";
import type { WorkerDeps } from "../pipeline/pipeline.ts";
import { runTriggerAction } from "../triggers/run-trigger-action.ts";
import { deliverWebhookAction } from "../webhooks/deliver-webhook-action.ts";

export interface ActionOutcome {
  /** Set when the action failed and should be tried again at this time. */
  retryAt?: Date;
}

export async function runAction(deps: WorkerDeps, actionId: string): Promise<ActionOutcome> {
  const { db } = deps;
  const action = await db.eventAction.findUnique({ where: { id: actionId }, include: { event: true } });
  if (!action || action.status === "completed" || action.status === "failed") return {};
  // Woken early (a duplicate job, the sweep): wait for the attempt's time rather than retry sooner.
  if (action.status === "retrying" && action.nextAttemptAt && action.nextAttemptAt > deps.now()) return { retryAt: action.nextAttemptAt };
  if (action.unfinishedRuns >= LIMITS.processingTries) {
    const last = action.error ?? "the worker stopped (crashed or was stopped) while running it";
    await failAction(deps.pool, action, deps.now(), "processing_failed", `gave up after ${action.unfinishedRuns} runs that did not finish; the last: ${last}`);
    return {};
  }
  // Counted before the work, so a run that crashes the worker counts too; a run that finishes resets it.
  await db.eventAction.update({ where: { id: actionId }, data: { unfinishedRuns: { increment: 1 } } });
  try {
    switch (action.kind) {
      case "webhook":
        return await deliverWebhookAction(deps, action);
      case "trigger":
        return await runTriggerAction(deps, action);
    }
  } catch (error) {
    await noteFailedRun(deps.pool, actionId, error);
    throw error;
  }
}

/**
 * A run of an action (counted as begun) that ended in an error. An outage is nobody's fault: the run does
 * not count, as long as the database can still be told so (a run cut short by Postgres itself going down
 * stays counted). Any other error is kept as the action's last reason.
 */
export async function noteFailedRun(pool: Pool, actionId: string, error: unknown): Promise<void> {
  const statement = isDependencyDown(error)
    ? { text: `UPDATE event_actions SET "unfinishedRuns" = GREATEST(0, "unfinishedRuns" - 1) WHERE id = $1`, values: [actionId] }
    : { text: `UPDATE event_actions SET error = $2 WHERE id = $1`, values: [actionId, storableText(errorReason(error))] };
  await pool.query(statement.text, statement.values).catch(() => {});
}
