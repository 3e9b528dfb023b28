// A later run of one action of one event (a retry, a replay, work the sweep handed back). Idempotent: a
// finished action is left alone. Bounded: a run that ends in an error (other than an outage) or a crash
// counts; after LIMITS.processingTries such runs in a row the action fails with processing_failed instead
// of being run (and swept) forever. A delivery that waited under flow control for a turn that was not booked
// (a full in-flight set, a pause) asks the limiter first, and reads the database only when its turn has come;
// one woken for its booked turn reads first and takes the turn right before its request, so the request
// starts at the time the turn was booked for.
import type { AwaitedTurn } from "../../platform/queue.ts";
import { fromPg } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";
import { wakeAt } from "../webhooks/next-attempt.ts";
import { loadAction } from "./action-log/action-log.ts";
import { releaseTurn, takeTurn } from "./flow-turns.ts";
import type { HeldTurn, RunOutcome, WorkerDeps } from "./kinds/runtime.ts";

/**
 * Runs the action; answers when it should run again (a retry's time, or its turn's), or null when it is
 * done for now. `awaiting`: the turn it waited for, as its job carries it.
 */
export async function runAction(deps: WorkerDeps, actionId: string, awaiting?: AwaitedTurn): Promise<RunOutcome> {
  if (!awaiting) return runNow(deps, actionId);
  if (awaiting.booking) return runNow(deps, actionId, { booked: awaiting });
  const taken = await takeTurn(deps, { id: actionId, eventId: awaiting.eventId }, awaiting, awaiting);
  if ("wait" in taken) return taken.wait;
  try {
    return await runNow(deps, actionId, { given: taken.turn });
  } finally {
    await releaseTurn(deps, awaiting.webhookId, taken.turn);
  }
}

async function runNow(deps: WorkerDeps, actionId: string, turn?: HeldTurn): Promise<RunOutcome> {
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
