// The public view of what configuration is made of (definitions, triggers, webhooks; keys' is in keys/): the shape the
// API answers with (api/views.ts types these against its contract, so they cannot drift apart) and the
// audit trail records as an entry's before and after. Never a secret: no webhook signing secret, secret
// header values by name alone, no key text or digest.
import type { Config } from "../platform/config.ts";
import type { EventDefinition, EventTrigger, Webhook } from "../platform/db.ts";
import { toPublicEventType } from "./events/event-type.ts";
import { secretHeaderNames } from "./webhooks/secret-headers.ts";

type JsonObject = Record<string, unknown>;

const iso = (date: Date | null) => (date ? date.toISOString() : null);
/** Columns that are never null, as the shapes say. */
const isoAlways = (date: Date) => date.toISOString();

export function publicDefinition(d: EventDefinition) {
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

export function publicTrigger(t: EventTrigger) {
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

/** What a webhook's view fills in when the webhook leaves it to the configuration. */
export type WebhookDefaults = Pick<Config, "WEBHOOK_TIMEOUT_MS" | "WEBHOOK_MAX_RETRY_DELAY_MS">;

/** Without its signing secret (only the answers to create and rotate-secret add it); secret headers by name. */
export function publicWebhook(w: Webhook, config: WebhookDefaults) {
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
