// The webhook kind: an HTTP delivery of the event to the webhook's URL, signed, tried again by the
// webhook's retry policy (nextAttempt). Every attempt, first or later, goes through attemptWebhook.
import sql from "sql-template-tag";
import type { Webhook } from "../../../platform/db.ts";
import { idTime } from "../../../platform/ids.ts";
import { statusClass, type DeliveryOutcome } from "../../../platform/metrics.ts";
import { fromPg, runSql } from "../../../platform/sql.ts";
import { eventContext } from "../../events/event-context.ts";
import type { MatchableEvent } from "../../matching/match-definitions.ts";
import { OPERATIONAL_COLLECTION } from "../../operational/operational-events.ts";
import { orderKey, type OrderedAction } from "../action-log/action-log.ts";
import { nextAttempt, retryPolicy } from "../../webhooks/next-attempt.ts";
import { withOpenSecrets } from "../../webhooks/secret.ts";
import { releaseTurn, takeTurn } from "../flow-turns.ts";
import { sendWebhook, type SendResult } from "../../webhooks/send-webhook.ts";
import type { ActionKindEntry, CachedWebhook, GivenTurn, RunOutcome, WorkerDeps } from "./runtime.ts";

type AttemptDeps = Pick<WorkerDeps, "config" | "now" | "runtime" | "log" | "metrics" | "flow">;

/** The action an attempt is for; orderKey set when its webhook orders deliveries per record. */
type Attempting = { id: string; eventId: string; attempt: number; orderKey: string | null; probe?: boolean };

/** One attempt at delivering one event to one webhook, recorded whatever happens. */
async function attemptWebhook(
  deps: AttemptDeps,
  event: MatchableEvent,
  action: Attempting,
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
    orderKey: action.orderKey,
  });
  await deps.runtime.noteHealth({
    webhookId: webhook.id,
    ok: result.ok,
    status: result.status,
    error: result.error,
    operational: event.collection === OPERATIONAL_COLLECTION,
  });
  await heedBreaks(deps, webhook, result, action.probe === true);
  deps.log.debug({ actionId: action.id, attempt: action.attempt, status: result.status, outcome: status }, "attempt");
  const outcome: DeliveryOutcome = status === "completed" ? "delivered" : status;
  deps.metrics.deliveries.inc({ outcome, status_class: statusClass(result.status) });
  deps.metrics.attemptDuration.observe({ outcome }, result.durationMs / 1000);
  // The event's id holds the millisecond it arrived.
  if (action.attempt === 1)
    deps.metrics.firstAttemptLatency.observe(Math.max(0, requestedAt.getTime() - idTime(event.id).getTime()) / 1000);
  return { retryAt: nextAttemptAt };
}

/**
 * An attempt in the webhook's turn: under its flow control (limits, or a pause this process knows of) it
 * first takes a turn from the limiter every worker shares, unless it holds one already (`given`: it waited
 * for it); without a turn the action waits (not an attempt) and runs again when its turn should have come.
 * A webhook with neither goes straight to its attempt.
 */
async function attemptInTurn(
  deps: AttemptDeps,
  event: MatchableEvent,
  action: Attempting,
  webhook: CachedWebhook,
  { given, beforeAttempt }: { given?: GivenTurn; beforeAttempt?: () => Promise<void> } = {},
): Promise<RunOutcome> {
  const limits = { maxPerSecond: webhook.maxPerSecond, maxInFlight: webhook.maxInFlight };
  if (
    !given &&
    !limits.maxPerSecond &&
    !limits.maxInFlight &&
    !(await deps.runtime.pausedWebhooks.isPaused(webhook.id))
  ) {
    await beforeAttempt?.();
    return attemptWebhook(deps, event, action, webhook);
  }
  let turn = given;
  if (!turn) {
    // A slot outlasts the longest the request can take, so a worker that dies mid-request frees it.
    const leaseMs = (webhook.timeoutMs ?? deps.config.WEBHOOK_TIMEOUT_MS) + deps.config.EVENT_LEASE_MS;
    const taken = await takeTurn(deps, action, { webhookId: webhook.id, limits, leaseMs });
    if ("wait" in taken) return taken.wait;
    turn = taken.turn;
  }
  try {
    await beforeAttempt?.();
    return await attemptWebhook(deps, event, { ...action, probe: turn.probe }, webhook);
  } finally {
    // A given turn is its taker's to give back.
    if (!given) await releaseTurn(deps, webhook.id, turn);
  }
}

/**
 * An ordered action's place in its record's queue: undefined when it may go now, else when to run again
 * (null: when the delivery before it ends, which queues it).
 */
async function inOrder(
  deps: Pick<WorkerDeps, "runtime" | "now" | "metrics">,
  action: Omit<OrderedAction, "record">,
  event: { collection: string; recordId: string },
): Promise<RunOutcome | undefined> {
  const turn = await deps.runtime.actionLog.holdIfBehind({ ...action, record: event });
  if (turn.go) return undefined;
  deps.metrics.deliveryWaits.inc({ reason: "order" });
  return { retryAt: turn.retryInMs === null ? null : new Date(deps.now().getTime() + turn.retryInMs) };
}

/**
 * A receiver that asks for a break gets it from every worker: a 429 or 503 with Retry-After pauses the
 * webhook until then; a 429 without one backs it off, 1 s doubling with each in a row (up to
 * retry.maxDelayMs), until a success.
 */
async function heedBreaks(deps: AttemptDeps, webhook: CachedWebhook, result: SendResult, probe: boolean) {
  const paused = deps.runtime.pausedWebhooks;
  const maxMs = retryPolicy(webhook, deps.config).maxDelayMs;
  if ((result.status === 429 || result.status === 503) && result.retryAfterMs !== undefined)
    paused.note(webhook.id, await deps.flow.pause(webhook.id, Math.min(result.retryAfterMs, maxMs)));
  else if (result.status === 429) paused.note(webhook.id, await deps.flow.backOff(webhook.id, maxMs), true);
  else {
    if (result.ok && paused.takeBackedOff(webhook.id)) await deps.flow.recovered(webhook.id);
    // The first request after a pause was answered without another: the others go.
    if (probe) {
      await deps.flow.endProbe(webhook.id);
      paused.forget(webhook.id);
    }
  }
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
  targets: (definition) => definition.webhooks.map((w) => ({ id: w.id, ordered: w.ordering === "record" })),
  // Its first attempt is in flight as soon as the match is written.
  start: { status: "processing", attempts: 1 },
  // Planned from the same config, which holds every webhook it planned for.
  async runFirst(deps, action, event, config) {
    const key = action.ordered ? orderKey(event) : null;
    if (key) {
      const behind = await inOrder(
        deps,
        { id: action.id, eventId: event.id, targetId: action.targetId, orderKey: key },
        event,
      );
      if (behind) return behind;
    }
    const attempt = { id: action.id, eventId: event.id, attempt: 1, orderKey: key };
    return attemptInTurn(deps, event, attempt, config.webhook(action.targetId)!);
  },

  async runAgain(deps, action, turn) {
    const webhook = await currentWebhook(deps, action.targetId);
    if (!webhook?.active) {
      const [errorCode, error] = !webhook
        ? ["webhook_deleted", "the webhook was deleted"]
        : ["webhook_inactive", `the webhook is inactive${webhook.disabledReason ? `: ${webhook.disabledReason}` : ""}`];
      await deps.runtime.actionLog.fail(action, errorCode, error);
      return { retryAt: null };
    }
    const { orderKey: key } = action;
    if (key) {
      const behind = await inOrder(deps, { ...action, orderKey: key }, action.event);
      if (behind) return behind;
    }
    const attempt = action.attempts + 1;
    const attempting = { id: action.id, eventId: action.eventId, attempt, orderKey: key };
    return attemptInTurn(deps, action.event, attempting, webhook, {
      given: turn,
      beforeAttempt: () => deps.runtime.actionLog.startAttempt(action.id, attempt),
    });
  },
};
