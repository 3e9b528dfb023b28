// A later run of one action of one event (a retry, a replay, work the sweep handed back). Idempotent: a
// finished action is left alone. Bounded: a run that ends in an error (other than an outage) or a crash
// counts; after LIMITS.processingTries such runs in a row the action fails with processing_failed instead
// of being run (and swept) forever. A delivery that waited for its turn under flow control asks the limiter
// first (takes the turn booked for it), and reads the database only when its turn has come.
import type { AwaitedTurn } from "../../platform/queue.ts";
import { fromPg } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";
import { wakeAt } from "../webhooks/next-attempt.ts";
import { loadAction } from "./action-log/action-log.ts";
import { releaseTurn, takeTurn } from "./flow-turns.ts";
import type { GivenTurn, RunOutcome, WorkerDeps } from "./kinds/runtime.ts";

/**
 * Runs the action; answers when it should run again (a retry's time, or its turn's), or null when it is
 * done for now. `awaiting`: the turn it waited for, as its job carries it.
 */
export async function runAction(deps: WorkerDeps, actionId: string, awaiting?: AwaitedTurn): Promise<RunOutcome> {
  if (!awaiting) return runNow(deps, actionId);
  const taken = await takeTurn(deps, { id: actionId, eventId: awaiting.eventId }, awaiting, awaiting);
  if ("wait" in taken) return taken.wait;
  try {
    return await runNow(deps, actionId, taken.turn);
  } finally {
    await releaseTurn(deps, awaiting.webhookId, taken.turn);
  }
}

async function runNow(deps: WorkerDeps, actionId: string, turn?: GivenTurn): Promise<RunOutcome> {
  const { actionLog } = deps.runtime;
  const action = await loadAction(fromPg(deps.pool), actionId);
  if (!action || action.status === "completed" || action.status === "failed") return { retryAt: null };
  const early = wakeAt(action, deps.now());
  if (early) return { retryAt: early };
  if (action.unfinishedRuns >= LIMITS.processingTries) {
    const last = action.error ?? "the worker stopped (crashed or was stopped) while running it";
    const reason = `gave up after ${action.unfinishedRuns} runs that did not finish; the last: ${last}`;
    await actionLog.fail(action, "processing_failed", reason);
    return { retryAt: null };
  }
  await actionLog.beginRun(actionId);
  try {
    return await deps.runtime.kinds[action.kind].runAgain(deps, action, turn);
  } catch (error) {
    await actionLog.noteFailedRun(actionId, error);
    throw error;
  }
}
