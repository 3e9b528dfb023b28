// A webhook action's later attempts (retries, replays, work the sweep handed back): load what the first
// attempt had at hand, then make one attempt.
import type { EventAction, EventLog } from "../../platform/db.ts";
import type { ActionOutcome } from "../actions/run-action.ts";
import { failAction } from "../events/event-status.ts";
import type { WorkerDeps } from "../pipeline/pipeline.ts";
import { deliverAttempt } from "./deliver-attempt.ts";
import { withOpenSecrets } from "./secret.ts";

export async function deliverWebhookAction(deps: WorkerDeps, action: EventAction & { event: EventLog }): Promise<ActionOutcome> {
  const { db, now } = deps;
  const row = await db.webhook.findUnique({ where: { id: action.targetId }, include: { definition: { select: { id: true, name: true } } } });
  const webhook = row && withOpenSecrets(row, deps.secrets);
  if (!webhook || !webhook.active) {
    const [errorCode, error] = !webhook
      ? ["webhook_deleted", "the webhook was deleted"]
      : ["webhook_inactive", `the webhook is inactive${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}`];
    await failAction(deps.pool, action, now(), errorCode, error);
    return {};
  }
  const attempt = action.attempts + 1;
  await db.eventAction.update({ where: { id: action.id }, data: { status: "processing", attempts: attempt } });
  const retryAt = await deliverAttempt(deps, { event: action.event, actionId: action.id, attempt, webhook });
  return retryAt ? { retryAt } : {};
}
