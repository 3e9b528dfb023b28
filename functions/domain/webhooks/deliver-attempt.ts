// One attempt at delivering one event to one webhook, recorded whatever happens: used for the first
// attempt (by the job that matched the event) and for every retry (by the action's own job).
import type { Webhook } from "../../platform/db.ts";
import type { MatchableEvent } from "../events/match-definitions.ts";
import type { WorkerDeps } from "../pipeline/pipeline.ts";
import { eventContext } from "../events/event-context.ts";
import { idTime } from "../../platform/ids.ts";
import { statusClass } from "../../platform/metrics.ts";
import { attemptWebhook } from "./attempt-webhook.ts";
import { afterAttempt } from "./backoff.ts";

export interface AttemptInput {
  event: MatchableEvent;
  actionId: string;
  attempt: number;
  webhook: Webhook & { definition: { id: string; name: string } };
  /** The event has no other action (known when it was just matched). */
  soleAction?: boolean;
  /** The action is not written yet: it is written with this attempt (see AttemptOutcome.newAction). */
  newAction?: { definitionId: string };
}

/** Answers when to try again, or null when the action is finished (delivered or failed for good). */
export async function deliverAttempt(deps: Pick<WorkerDeps, "config" | "now" | "pipeline" | "log" | "metrics">, { event, actionId, attempt, webhook, soleAction = false, newAction }: AttemptInput): Promise<Date | null> {
  const requestedAt = deps.now();
  // The action id is the message id: the same on every attempt, so receivers can deduplicate.
  const result = await attemptWebhook(deps, webhook, eventContext(event, webhook.definition), actionId, requestedAt);
  const finishedAt = deps.now();
  const { status, nextAttemptAt } = afterAttempt(
    attempt,
    result,
    {
      maxAttempts: webhook.retryMaxAttempts,
      backoff: webhook.retryBackoff,
      delayMs: webhook.retryDelayMs,
      maxDelayMs: webhook.retryMaxDelayMs ?? deps.config.WEBHOOK_MAX_RETRY_DELAY_MS,
    },
    finishedAt,
  );
  await deps.pipeline.writer.record({ eventId: event.id, actionId, webhookId: webhook.id, attempt, requestedAt, result, status, nextAttemptAt, finishedAt, soleAction, newAction });
  deps.log.debug({ actionId, attempt, status: result.status, outcome: status }, "webhook attempt");
  const outcome = result.ok ? "delivered" : status === "failed" ? "failed" : "retrying";
  deps.metrics.deliveries.inc({ outcome, status_class: statusClass(result.status) });
  deps.metrics.attemptDuration.observe({ outcome }, result.durationMs / 1000);
  // The event's id holds the millisecond it arrived.
  if (attempt === 1) deps.metrics.firstAttemptLatency.observe(Math.max(0, requestedAt.getTime() - idTime(event.id).getTime()) / 1000);
  return nextAttemptAt;
}
