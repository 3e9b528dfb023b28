// One attempt at delivering one event to one webhook, recorded whatever happens.
import type { Deps } from "../../platform/deps.ts";
import type { EventAction, EventLog, EventStatus, Webhook } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import type { ActionOutcome } from "../actions/run-action.ts";
import { eventContext } from "../events/event-context.ts";
import { failAction, settleAction } from "../events/event-status.ts";
import { isRetryable, retryDelay } from "./backoff.ts";
import { buildDelivery } from "./build-delivery.ts";
import { attemptRecord, attemptWebhook } from "./attempt-webhook.ts";
import type { SendResult } from "./send-webhook.ts";

type DeliverDeps = Pick<Deps, "db" | "config" | "log" | "now">;

/** Keeps the webhook's health (consecutive failures, last success, last error) current. */
async function recordHealth({ db }: DeliverDeps, webhook: Webhook, result: SendResult, at: Date) {
  if (result.ok) {
    // Most deliveries succeed: skip the write when it would change nothing but a timestamp a second old.
    if (webhook.consecutiveFailures === 0 && webhook.lastSuccessAt && at.getTime() - webhook.lastSuccessAt.getTime() < 1000) return;
    await db.webhook.updateMany({ where: { id: webhook.id }, data: { consecutiveFailures: 0, lastSuccessAt: at } });
    return;
  }
  await db.webhook.updateMany({
    where: { id: webhook.id },
    data: {
      consecutiveFailures: { increment: 1 },
      lastFailureAt: at,
      lastError: result.error,
      // 410 Gone: the receiver says this endpoint is no more (Standard Webhooks): stop sending to it.
      ...(result.status === 410 ? { active: false, disabledReason: "the receiver answered 410 Gone" } : {}),
    },
  });
}

export async function deliverWebhookAction(deps: DeliverDeps, action: EventAction & { event: EventLog }): Promise<ActionOutcome> {
  const { db, config, now } = deps;
  const webhook = await db.webhook.findUnique({ where: { id: action.targetId }, include: { definition: { select: { id: true, name: true } } } });
  if (!webhook || !webhook.active) {
    const [errorCode, error] = !webhook
      ? ["webhook_deleted", "the webhook was deleted"]
      : ["webhook_inactive", `the webhook is inactive${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}`];
    await failAction(db, action, now(), errorCode, error);
    return {};
  }

  const attempt = action.attempts + 1;
  await db.eventAction.update({ where: { id: action.id }, data: { status: "processing", attempts: attempt } });
  const requestedAt = now();
  // The action id is the message id: the same on every attempt, so receivers can deduplicate.
  const request = buildDelivery(webhook, eventContext(action.event, webhook.definition), action.id, requestedAt);
  const result = await attemptWebhook(deps, webhook, request);
  const finishedAt = now();

  let status: EventStatus = "completed";
  let nextAttemptAt: Date | null = null;
  if (!result.ok) {
    const canRetry = isRetryable(result.status, result.errorCode) && attempt < webhook.retryMaxAttempts && result.status !== 410;
    status = canRetry ? "retrying" : "failed";
    if (canRetry) {
      const policy = { backoff: webhook.retryBackoff, delayMs: webhook.retryDelayMs };
      nextAttemptAt = new Date(finishedAt.getTime() + retryDelay(attempt, policy, webhook.retryMaxDelayMs ?? config.WEBHOOK_MAX_RETRY_DELAY_MS, result.retryAfterMs));
    }
  }

  await settleAction(db, action, finishedAt, async (tx) => {
    await tx.deliveryAttempt.create({
      data: attemptRecord(result, { id: newId("att"), webhookId: webhook.id, eventId: action.eventId, actionId: action.id, attempt, requestedAt }),
    });
    return {
      status,
      error: result.error,
      errorCode: result.errorCode,
      durationMs: { increment: result.durationMs },
      nextAttemptAt,
      completedAt: status === "completed" || status === "failed" ? finishedAt : null,
      result: { status: result.status },
    };
  });
  await recordHealth(deps, webhook, result, finishedAt);
  deps.log.debug({ actionId: action.id, attempt, status: result.status, outcome: status }, "webhook attempt");
  return nextAttemptAt ? { retryAt: nextAttemptAt } : {};
}
