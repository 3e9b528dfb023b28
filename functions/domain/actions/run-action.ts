// The second step of the worker: run one action of one event. Idempotent: a finished action is left alone.
import type { WorkerDeps } from "../pipeline/pipeline.ts";
import { runTriggerAction } from "../triggers/run-trigger-action.ts";
import { deliverWebhookAction } from "../webhooks/deliver-webhook-action.ts";

export interface ActionOutcome {
  /** Set when the action failed and should be tried again at this time. */
  retryAt?: Date;
}

export async function runAction(deps: WorkerDeps, actionId: string): Promise<ActionOutcome> {
  const action = await deps.db.eventAction.findUnique({ where: { id: actionId }, include: { event: true } });
  if (!action || action.status === "completed" || action.status === "failed") return {};
  // Woken early (a duplicate job, the sweep): wait for the attempt's time rather than retry sooner.
  if (action.status === "retrying" && action.nextAttemptAt && action.nextAttemptAt > deps.now()) return { retryAt: action.nextAttemptAt };
  switch (action.kind) {
    case "webhook":
      return deliverWebhookAction(deps, action);
    case "trigger":
      return runTriggerAction(deps, action);
  }
}
