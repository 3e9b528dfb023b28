// A later run of one action of one event (a retry, a replay, work the sweep handed back). Idempotent: a
// finished action is left alone. Bounded: a run that ends in an error (other than an outage) or a crash
// counts; after LIMITS.processingTries such runs in a row the action fails with processing_failed instead
// of being run (and swept) forever.
import { fromPg } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";
import { wakeAt } from "../webhooks/next-attempt.ts";
import { loadAction } from "./action-log/action-log.ts";
import type { RunOutcome, WorkerDeps } from "./kinds/runtime.ts";

/** Runs the action; answers when it should run again (a retry's time), or null when it is done for now. */
export async function runAction(deps: WorkerDeps, actionId: string): Promise<RunOutcome> {
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
    return await deps.runtime.kinds[action.kind].runAgain(deps, action);
  } catch (error) {
    await actionLog.noteFailedRun(actionId, error);
    throw error;
  }
}
