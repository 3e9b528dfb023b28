// The public JSON shapes of the SPEC (contract/shapes.ts), rendered from database rows. Each view is typed
// with its shape, so a view and the documented shape cannot drift apart. Configuration's views are the
// domain's (domain/public-views.ts), which the audit trail records too.
import type { z } from "zod";
import type { DeliveryAttempt, EventAction, EventDefinition, EventLog, EventTrigger, Webhook } from "../platform/db.ts";
import type { SendResult } from "../domain/webhooks/send-webhook.ts";
import { toPublicEventType, type IngestType } from "../domain/events/event-type.ts";
import type * as shape from "./contract/shapes.ts";
import type { WebhookFlow } from "../domain/webhooks/webhook-flow.ts";
import { publicDefinition, publicTrigger, publicWebhook, type WebhookDefaults } from "../domain/public-views.ts";
import { publicKey, type KeyView } from "../domain/keys/api-keys.ts";
import type { AuditEntryRow } from "../domain/audit/audit-entry.ts";
import type { Scope } from "../domain/keys/scopes.ts";

type Shape<S extends z.ZodType> = z.output<S>;
type JsonObject = Record<string, unknown>;

const iso = (date: Date | null) => (date ? date.toISOString() : null);
/** Columns that are never null, as the shapes say. */
const isoAlways = (date: Date) => date.toISOString();

export function definitionView(d: EventDefinition): Shape<typeof shape.Definition> {
  return publicDefinition(d);
}

export function triggerView(t: EventTrigger): Shape<typeof shape.Trigger> {
  return publicTrigger(t);
}

/** The secret appears only in the answers to create and rotate-secret; secret headers by name alone, always. */
export function webhookView(w: Webhook, config: WebhookDefaults): Shape<typeof shape.Webhook> {
  return publicWebhook(w, config);
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
  const view = publicKey(k);
  return { ...view, scopes: view.scopes as Scope[] };
}

export function auditEntryView(a: AuditEntryRow): Shape<typeof shape.AuditEntry> {
  return {
    id: a.id,
    at: isoAlways(a.at),
    keyId: a.keyId,
    keyName: a.keyName,
    action: a.action as Shape<typeof shape.AuditEntry>["action"],
    target: { kind: a.targetKind as Shape<typeof shape.AuditEntry>["target"]["kind"], id: a.targetId },
    before: a.before ?? null,
    after: a.after ?? null,
    requestId: a.requestId,
  };
}
