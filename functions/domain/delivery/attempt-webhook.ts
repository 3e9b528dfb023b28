// One attempt at delivering one event to one webhook, recorded whatever happens: the first attempt (by the
// job that matched the event, see process-event.ts) and every later one (by the action's own job, see
// run-action.ts) go through here.
import { idTime } from "../../platform/ids.ts";
import { statusClass } from "../../platform/metrics.ts";
import { eventContext } from "../events/event-context.ts";
import type { MatchableEvent } from "../matching/match-definitions.ts";
import { sendWebhook } from "../webhooks/send-webhook.ts";
import { nextAttempt, retryPolicy } from "./next-attempt.ts";
import type { AttemptOutcome, CachedWebhook, WorkerDeps } from "./pipeline.ts";

export interface WebhookAttempt {
  event: MatchableEvent;
  actionId: string;
  attempt: number;
  webhook: CachedWebhook;
  /** See AttemptOutcome.soleAction: the first attempt of an event's only action, which is written with it. */
  soleAction?: AttemptOutcome["soleAction"];
}

/** Answers when to try again, or null when the action is finished (delivered, or failed for good). */
export async function attemptWebhook(
  deps: Pick<WorkerDeps, "config" | "now" | "pipeline" | "log" | "metrics">,
  { event, actionId, attempt, webhook, soleAction }: WebhookAttempt,
): Promise<Date | null> {
  const requestedAt = deps.now();
  // The action id is the message id: the same on every attempt, so receivers can deduplicate.
  const result = await sendWebhook(deps, webhook, eventContext(event, webhook.definition), actionId, requestedAt);
  const finishedAt = deps.now();
  const { status, nextAttemptAt } = nextAttempt(attempt, result, retryPolicy(webhook, deps.config), finishedAt);
  await deps.pipeline.log.record({
    eventId: event.id,
    actionId,
    webhookId: webhook.id,
    attempt,
    requestedAt,
    result,
    status,
    nextAttemptAt,
    finishedAt,
    soleAction,
  });
  deps.log.debug({ actionId, attempt, status: result.status, outcome: status }, "webhook attempt");
  const outcome = result.ok ? "delivered" : status;
  deps.metrics.deliveries.inc({ outcome, status_class: statusClass(result.status) });
  deps.metrics.attemptDuration.observe({ outcome }, result.durationMs / 1000);
  // The event's id holds the millisecond it arrived.
  if (attempt === 1)
    deps.metrics.firstAttemptLatency.observe(Math.max(0, requestedAt.getTime() - idTime(event.id).getTime()) / 1000);
  return nextAttemptAt;
}
