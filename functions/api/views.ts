// The public JSON shapes of the SPEC (contract/shapes.ts), rendered from database rows. Each view is typed
// with its shape, so a view and the documented shape cannot drift apart.
import type { z } from "zod";
import type { DeliveryAttempt, EventAction, EventDefinition, EventLog, EventTrigger, Webhook } from "../platform/db.ts";
import type { Config } from "../platform/config.ts";
import type { SendResult } from "../domain/webhooks/send-webhook.ts";
import { toPublicEventType, type IngestType } from "../domain/events/event-type.ts";
import type * as shape from "./contract/shapes.ts";
import type { WebhookFlow } from "../domain/webhooks/webhook-flow.ts";
import { secretHeaderNames } from "../domain/webhooks/secret-headers.ts";
import type { KeyView } from "../domain/keys/api-keys.ts";
import type { Scope } from "../domain/keys/scopes.ts";

type Shape<S extends z.ZodType> = z.output<S>;
type JsonObject = Record<string, unknown>;

const iso = (date: Date | null) => (date ? date.toISOString() : null);
/** Columns that are never null, as the shapes say. */
const isoAlways = (date: Date) => date.toISOString();

export function definitionView(d: EventDefinition): Shape<typeof shape.Definition> {
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    type: toPublicEventType(d.type),
    collection: d.collection,
    fields: d.type === "field_updated" ? d.fields : null,
    condition: (d.condition as JsonObject | null) ?? null,
    active: d.active,
    createdAt: isoAlways(d.createdAt),
    updatedAt: isoAlways(d.updatedAt),
  };
}

export function triggerView(t: EventTrigger): Shape<typeof shape.Trigger> {
  return {
    id: t.id,
    definitionId: t.definitionId,
    action: t.action,
    targetCollection: t.targetCollection,
    filter: (t.filter as JsonObject | null) ?? null,
    data: (t.data as JsonObject | null) ?? null,
    active: t.active,
    createdAt: isoAlways(t.createdAt),
    updatedAt: isoAlways(t.updatedAt),
  };
}

/** The secret appears only in the answers to create and rotate-secret; secret headers by name alone, always. */
type WebhookDefaults = Pick<Config, "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_MAX_RETRY_DELAY_MS">;

export function webhookView(w: Webhook, config: WebhookDefaults): Shape<typeof shape.Webhook> {
  return {
    id: w.id,
    definitionId: w.definitionId,
    url: w.url,
    method: w.method as "POST" | "PUT" | "PATCH",
    headers: w.headers as Record<string, string>,
    secretHeaders: secretHeaderNames(w.secretHeaders),
    payload: w.payload ?? null,
    active: w.active,
    timeoutMs: w.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    retry: {
      maxAttempts: w.retryMaxAttempts,
      backoff: w.retryBackoff,
      delayMs: w.retryDelayMs,
      maxDelayMs: w.retryMaxDelayMs ?? config.WEBHOOK_MAX_RETRY_DELAY_MS,
    },
    ordering: w.ordering as "none" | "record",
    maxPerSecond: w.maxPerSecond,
    maxInFlight: w.maxInFlight,
    health: {
      consecutiveFailures: w.consecutiveFailures,
      lastSuccessAt: iso(w.lastSuccessAt),
      lastFailureAt: iso(w.lastFailureAt),
      lastError: w.lastError,
      disabledReason: w.disabledReason,
    },
    createdAt: isoAlways(w.createdAt),
    updatedAt: isoAlways(w.updatedAt),
  };
}

export function flowView(f: WebhookFlow): Shape<typeof shape.WebhookWithFlow>["flow"] {
  return { inFlight: f.inFlight, waiting: f.waiting, pausedUntil: iso(f.pausedUntil) };
}

/** Only the answers to create and rotate-secret show the secret. */
export function webhookWithSecretView(w: Webhook, config: WebhookDefaults): Shape<typeof shape.WebhookWithSecret> {
  return { ...webhookView(w, config), secret: w.secret };
}

export function definitionDetailView(
  d: EventDefinition & { triggers: EventTrigger[]; webhooks: Webhook[] },
  config: WebhookDefaults,
): Shape<typeof shape.DefinitionDetail> {
  return {
    ...definitionView(d),
    triggers: d.triggers.map(triggerView),
    webhooks: d.webhooks.map((w) => webhookView(w, config)),
  };
}

export function actionView(a: EventAction): Shape<typeof shape.Action> {
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
    waiting: a.waiting as Shape<typeof shape.Action>["waiting"],
  };
}

export function eventView(e: EventLog & { actions: EventAction[] }): Shape<typeof shape.Event> {
  return {
    id: e.id,
    // Events are reported as collection.*; field.updated is a kind of definition only.
    type: toPublicEventType(e.type) as IngestType,
    collection: e.collection,
    recordId: e.recordId,
    data: e.data as JsonObject,
    previous: (e.previous as JsonObject | null) ?? null,
    changedFields: e.changedFields,
    status: e.status,
    attempts: e.attempts,
    error: e.error,
    causationId: e.causationId,
    depth: e.depth,
    occurredAt: iso(e.occurredAt),
    receivedAt: isoAlways(e.receivedAt),
    startedAt: iso(e.startedAt),
    completedAt: iso(e.completedAt),
    durationMs: e.durationMs,
    actions: e.actions.map(actionView),
  };
}

export function deliveryView(d: DeliveryAttempt): Shape<typeof shape.Delivery> {
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
    requestedAt: isoAlways(d.requestedAt),
  };
}

export function recordView(r: {
  collection: string;
  id: string;
  data: unknown;
  createdAt: Date;
  updatedAt: Date;
}): Shape<typeof shape.CollectionRecord> {
  return {
    id: r.id,
    collection: r.collection,
    data: r.data as JsonObject,
    createdAt: isoAlways(r.createdAt),
    updatedAt: isoAlways(r.updatedAt),
  };
}

export function testResultView(r: SendResult): Shape<typeof shape.TestResult> {
  return { ok: r.ok, status: r.status, durationMs: r.durationMs, responseBody: r.responseBody ?? "", error: r.error };
}

export function keyView(k: KeyView): Shape<typeof shape.ApiKey> {
  return {
    id: k.id,
    name: k.name,
    scopes: k.scopes as Scope[],
    collections: k.collections,
    prefix: k.prefix,
    createdAt: isoAlways(k.createdAt),
    expiresAt: iso(k.expiresAt),
    revokedAt: iso(k.revokedAt),
    lastUsedAt: iso(k.lastUsedAt),
  };
}
