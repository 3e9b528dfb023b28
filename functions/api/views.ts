// The public JSON shapes of the SPEC, rendered from database rows.
import type { DeliveryAttempt, EventAction, EventDefinition, EventLog, EventTrigger, Webhook } from "../platform/db.ts";
import type { Config } from "../platform/config.ts";
import type { SendResult } from "../domain/webhooks/send-webhook.ts";
import { toPublicEventType } from "../domain/events/event-type.ts";

const iso = (date: Date | null) => (date ? date.toISOString() : null);

export function definitionView(d: EventDefinition) {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    type: toPublicEventType(d.type),
    collection: d.collection,
    fields: d.type === "field_updated" ? d.fields : null,
    condition: d.condition ?? null,
    active: d.active,
    createdAt: iso(d.createdAt),
    updatedAt: iso(d.updatedAt),
  };
}

export function triggerView(t: EventTrigger) {
  return {
    id: t.id,
    definitionId: t.definitionId,
    action: t.action,
    targetCollection: t.targetCollection,
    filter: t.filter ?? null,
    data: t.data ?? null,
    active: t.active,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

/** The secret appears only in the answers to create and rotate-secret. */
type WebhookDefaults = Pick<Config, "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_MAX_RETRY_DELAY_MS">;

export function webhookView(w: Webhook, config: WebhookDefaults, { withSecret = false } = {}) {
  return {
    id: w.id,
    definitionId: w.definitionId,
    url: w.url,
    method: w.method,
    headers: w.headers,
    payload: w.payload ?? null,
    active: w.active,
    timeoutMs: w.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    retry: {
      maxAttempts: w.retryMaxAttempts,
      backoff: w.retryBackoff,
      delayMs: w.retryDelayMs,
      maxDelayMs: w.retryMaxDelayMs ?? config.WEBHOOK_MAX_RETRY_DELAY_MS,
    },
    ...(withSecret ? { secret: w.secret } : {}),
    health: {
      consecutiveFailures: w.consecutiveFailures,
      lastSuccessAt: iso(w.lastSuccessAt),
      lastFailureAt: iso(w.lastFailureAt),
      lastError: w.lastError,
      disabledReason: w.disabledReason,
    },
    createdAt: iso(w.createdAt),
    updatedAt: iso(w.updatedAt),
  };
}

export function definitionDetailView(
  d: EventDefinition & { triggers: EventTrigger[]; webhooks: Webhook[] },
  config: WebhookDefaults,
) {
  return { ...definitionView(d), triggers: d.triggers.map(triggerView), webhooks: d.webhooks.map((w) => webhookView(w, config)) };
}

export function actionView(a: EventAction) {
  return {
    kind: a.kind,
    id: a.targetId,
    definitionId: a.definitionId,
    status: a.status,
    attempts: a.attempts,
    error: a.error,
    errorCode: a.errorCode,
    durationMs: a.durationMs,
    nextAttemptAt: iso(a.nextAttemptAt),
    result: a.result ?? null,
  };
}

export function eventView(e: EventLog & { actions: EventAction[] }) {
  return {
    id: e.id,
    type: toPublicEventType(e.type),
    collection: e.collection,
    recordId: e.recordId,
    data: e.data,
    previous: e.previous ?? null,
    changedFields: e.changedFields,
    status: e.status,
    attempts: e.attempts,
    error: e.error,
    causationId: e.causationId,
    depth: e.depth,
    occurredAt: iso(e.occurredAt),
    receivedAt: iso(e.receivedAt),
    startedAt: iso(e.startedAt),
    completedAt: iso(e.completedAt),
    durationMs: e.durationMs,
    actions: e.actions.map(actionView),
  };
}

export function deliveryView(d: DeliveryAttempt) {
  return {
    id: d.id,
    eventId: d.eventId,
    attempt: d.attempt,
    ok: d.ok,
    status: d.status,
    durationMs: d.durationMs,
    error: d.error,
    errorCode: d.errorCode,
    responseBody: d.responseBody,
    test: d.test,
    requestedAt: iso(d.requestedAt),
  };
}

export function recordView(r: { collection: string; id: string; data: unknown; createdAt: Date; updatedAt: Date }) {
  return { id: r.id, collection: r.collection, data: r.data, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt) };
}

export function testResultView(r: SendResult) {
  return { ok: r.ok, status: r.status, durationMs: r.durationMs, responseBody: r.responseBody ?? "", error: r.error };
}
