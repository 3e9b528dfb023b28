// The HTTP request of one delivery: body (template or default), custom headers, then tetik's own headers.
import pkg from "../../../package.json" with { type: "json" };
import type { Webhook } from "../../platform/db.ts";
import type { EventContext } from "../events/event-context.ts";
import { renderTemplate } from "../templates/template.ts";
import { signatureHeader } from "./sign.ts";

export const USER_AGENT = `tetik/${pkg.version}`;

export interface DeliveryRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

/** The body receivers get when a webhook has no payload template. */
export function defaultPayload(context: EventContext) {
  return {
    id: context.event.id,
    type: context.event.type,
    definition: context.definition,
    collection: context.event.collection,
    recordId: context.event.recordId,
    data: context.data,
    previous: context.previous,
    changedFields: context.changedFields,
    occurredAt: context.event.occurredAt,
  };
}

/** Secrets that sign now: the current one, and the previous one until it expires. */
export function liveSecrets(webhook: Pick<Webhook, "secret" | "previousSecret" | "previousSecretExpiresAt">, now: Date): string[] {
  const previousLive = webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now;
  return previousLive ? [webhook.secret, webhook.previousSecret!] : [webhook.secret];
}

type WebhookShape = Pick<Webhook, "url" | "method" | "headers" | "payload" | "secret" | "previousSecret" | "previousSecretExpiresAt">;

/** `messageId` is the same on every attempt of one event to one webhook: receivers deduplicate on it. */
export function buildDelivery(webhook: WebhookShape, context: EventContext, messageId: string, now: Date): DeliveryRequest {
  const payload = webhook.payload === null ? defaultPayload(context) : renderTemplate(webhook.payload, context);
  const body = JSON.stringify(payload ?? null);
  const custom = renderTemplate(webhook.headers ?? {}, context) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(custom)) {
    headers[name.toLowerCase()] = typeof value === "string" ? value : JSON.stringify(value ?? "");
  }
  const timestamp = Math.floor(now.getTime() / 1000);
  // Ours last: a custom header can never replace them (they are also refused when saved).
  Object.assign(headers, {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": messageId,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatureHeader(liveSecrets(webhook, now), messageId, timestamp, body),
  });
  return { url: webhook.url, method: webhook.method, headers, body };
}
