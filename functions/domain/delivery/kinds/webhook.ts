// The webhook kind: an HTTP delivery of the event to the webhook's URL, signed, tried again by the
// webhook's retry policy (nextAttempt). Every attempt, first or later, goes through attemptWebhook.
import sql from "sql-template-tag";
import type { Webhook } from "../../../platform/db.ts";
import { idTime } from "../../../platform/ids.ts";
import { statusClass, type DeliveryOutcome } from "../../../platform/metrics.ts";
import { fromPg, runSql } from "../../../platform/sql.ts";
import { eventContext } from "../../events/event-context.ts";
import type { MatchableEvent } from "../../matching/match-definitions.ts";
import { nextAttempt, retryPolicy } from "../../webhooks/next-attempt.ts";
import { withOpenSecrets } from "../../webhooks/secret.ts";
import { sendWebhook } from "../../webhooks/send-webhook.ts";
import type { ActionKindEntry, CachedWebhook, RunOutcome, WorkerDeps } from "./runtime.ts";

type AttemptDeps = Pick<WorkerDeps, "config" | "now" | "runtime" | "log" | "metrics">;

/** One attempt at delivering one event to one webhook, recorded whatever happens. */
async function attemptWebhook(
  deps: AttemptDeps,
  event: MatchableEvent,
  action: { id: string; attempt: number },
  webhook: CachedWebhook,
): Promise<RunOutcome> {
  const requestedAt = deps.now();
  // The action id is the message id: the same on every attempt, so receivers can deduplicate.
  const result = await sendWebhook(deps, webhook, eventContext(event, webhook.definition), action.id, requestedAt);
  const finishedAt = deps.now();
  const { status, nextAttemptAt } = nextAttempt(action.attempt, result, retryPolicy(webhook, deps.config), finishedAt);
  await deps.runtime.actionLog.recordAttempt({
    eventId: event.id,
    actionId: action.id,
    webhookId: webhook.id,
    attempt: action.attempt,
    requestedAt,
    result,
    status,
    nextAttemptAt,
    finishedAt,
  });
  await deps.runtime.noteHealth({ webhookId: webhook.id, ok: result.ok, status: result.status, error: result.error });
  deps.log.debug({ actionId: action.id, attempt: action.attempt, status: result.status, outcome: status }, "attempt");
  const outcome: DeliveryOutcome = status === "completed" ? "delivered" : status;
  deps.metrics.deliveries.inc({ outcome, status_class: statusClass(result.status) });
  deps.metrics.attemptDuration.observe({ outcome }, result.durationMs / 1000);
  // The event's id holds the millisecond it arrived.
  if (action.attempt === 1)
    deps.metrics.firstAttemptLatency.observe(Math.max(0, requestedAt.getTime() - idTime(event.id).getTime()) / 1000);
  return { retryAt: nextAttemptAt };
}

/** The webhook as it is now, with its definition's id and name; undefined when deleted. */
async function currentWebhook(deps: Pick<WorkerDeps, "pool" | "secrets">, id: string) {
  const [row] = await runSql<Webhook & { definition: { id: string; name: string } }>(
    fromPg(deps.pool),
    sql`SELECT w.*, json_build_object('id', d.id, 'name', d.name) AS definition
      FROM webhooks w JOIN event_definitions d ON d.id = w."definitionId" WHERE w.id = ${id}`,
  );
  return row && withOpenSecrets(row, deps.secrets);
}

export const webhookKind: ActionKindEntry = {
  targets: (definition) => definition.webhooks,
  // Its first attempt is in flight as soon as the match is written.
  start: { status: "processing", attempts: 1 },
  // Planned from the same config, which holds every webhook it planned for.
  runFirst: (deps, action, event, config) =>
    attemptWebhook(deps, event, { id: action.id, attempt: 1 }, config.webhook(action.targetId)!),

  async runAgain(deps, action) {
    const webhook = await currentWebhook(deps, action.targetId);
    if (!webhook?.active) {
      const [errorCode, error] = !webhook
        ? ["webhook_deleted", "the webhook was deleted"]
        : ["webhook_inactive", `the webhook is inactive${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}`];
      await deps.runtime.actionLog.fail(action, errorCode, error);
      return { retryAt: null };
    }
    const attempt = action.attempts + 1;
    await deps.runtime.actionLog.startAttempt(action.id, attempt);
    return attemptWebhook(deps, action.event, { id: action.id, attempt }, webhook);
  },
};
