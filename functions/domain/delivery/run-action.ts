// The second step of the worker: run one action of one event (a retry, a replay, work the sweep handed back).
// Idempotent: a finished action is left alone. Bounded: a run that ends in an error (other than an outage)
// or a crash counts; after LIMITS.processingTries such runs in a row the action fails with
// processing_failed instead of being run (and swept) forever.
import type { EventAction, EventLog } from "../../platform/db.ts";
import { errorReason, isDependencyDown } from "../../platform/dependency-errors.ts";
import type { Pool } from "../../platform/pool.ts";
import { LIMITS } from "../limits.ts";
import { storableText } from "../storable-json.ts";
import { withOpenSecrets } from "../webhooks/secret.ts";
import { attemptWebhook } from "./attempt-webhook.ts";
import { failAction } from "./statuses.ts";
import { wakeAt } from "./next-attempt.ts";
import type { WorkerDeps } from "./pipeline.ts";
import { runTrigger } from "./run-trigger.ts";

type LoadedAction = EventAction & { event: EventLog };

/** Runs the action; answers when it should run again (a retry's time), or null when it is done for now. */
export async function runAction(deps: WorkerDeps, actionId: string): Promise<{ retryAt: Date | null }> {
  const { db } = deps;
  const action = await db.eventAction.findUnique({ where: { id: actionId }, include: { event: true } });
  if (!action || action.status === "completed" || action.status === "failed") return { retryAt: null };
  const early = wakeAt(action, deps.now());
  if (early) return { retryAt: early };
  if (action.unfinishedRuns >= LIMITS.processingTries) {
    const last = action.error ?? "the worker stopped (crashed or was stopped) while running it";
    await failAction(
      deps.pool,
      action,
      deps.now(),
      "processing_failed",
      `gave up after ${action.unfinishedRuns} runs that did not finish; the last: ${last}`,
    );
    return { retryAt: null };
  }
  // Counted before the work, so a run that crashes the worker counts too; a run that finishes resets it.
  await db.eventAction.update({ where: { id: actionId }, data: { unfinishedRuns: { increment: 1 } } });
  try {
    switch (action.kind) {
      case "webhook":
        return { retryAt: await runWebhookAction(deps, action) };
      case "trigger":
        await runTriggerAction(deps, action);
        return { retryAt: null };
    }
  } catch (error) {
    await noteFailedRun(deps.pool, actionId, error);
    throw error;
  }
}

/** The webhook as it is now (deleted or turned off fails the action), then one attempt. */
async function runWebhookAction(deps: WorkerDeps, action: LoadedAction): Promise<Date | null> {
  const { db, now } = deps;
  const row = await db.webhook.findUnique({
    where: { id: action.targetId },
    include: { definition: { select: { id: true, name: true } } },
  });
  const webhook = row && withOpenSecrets(row, deps.secrets);
  if (!webhook?.active) {
    const [errorCode, error] = !webhook
      ? ["webhook_deleted", "the webhook was deleted"]
      : ["webhook_inactive", `the webhook is inactive${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}`];
    await failAction(deps.pool, action, now(), errorCode, error);
    return null;
  }
  const attempt = action.attempts + 1;
  await db.eventAction.update({ where: { id: action.id }, data: { status: "processing", attempts: attempt } });
  return attemptWebhook(deps, { event: action.event, actionId: action.id, attempt, webhook });
}

/** The trigger as it is now (deleted or turned off fails the action), then one run. */
async function runTriggerAction(deps: WorkerDeps, action: LoadedAction): Promise<void> {
  const { db, now } = deps;
  const trigger = await db.eventTrigger.findUnique({
    where: { id: action.targetId },
    include: { definition: { select: { id: true, name: true } } },
  });
  if (!trigger) return failAction(deps.pool, action, now(), "trigger_deleted", "the trigger was deleted");
  if (!trigger.active) return failAction(deps.pool, action, now(), "trigger_inactive", "the trigger is inactive");
  return runTrigger(deps, action, action.event, trigger);
}

/**
 * A run of an action (counted as begun) that ended in an error. An outage is nobody's fault: the run does
 * not count, as long as the database can still be told so (a run cut short by Postgres itself going down
 * stays counted). Any other error is kept as the action's last reason.
 */
export async function noteFailedRun(pool: Pool, actionId: string, error: unknown): Promise<void> {
  const statement = isDependencyDown(error)
    ? {
        text: `UPDATE event_actions SET "unfinishedRuns" = GREATEST(0, "unfinishedRuns" - 1) WHERE id = $1`,
        values: [actionId],
      }
    : {
        text: `UPDATE event_actions SET error = $2 WHERE id = $1`,
        values: [actionId, storableText(errorReason(error))],
      };
  await pool.query(statement.text, statement.values).catch(() => {});
}
