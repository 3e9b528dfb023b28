// The HTTP request of one delivery: body (template or default), custom headers, secret headers, then
// tetik's own headers.
import pkg from "../../../package.json" with { type: "json" };
import type { Webhook } from "../../platform/db.ts";
import type { EventContext } from "../events/event-context.ts";
import { RenderedTooLarge, renderTemplate } from "../templates/template.ts";
import type { SecretState } from "./secret.ts";
import { signatureHeader } from "./sign.ts";

export const USER_AGENT = `tetik/${pkg.version}`;

/** What HTTP lets a header value hold: tabs, printable ASCII and Latin-1; no line breaks, no NUL. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * A delivery that cannot be sent as it is (a header its template rendered, a secret that cannot be
 * read): it fails without a request, and isRetryable decides by its code whether another attempt may fare better.
 */
export class UnsendableDelivery extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
    this.name = "UnsendableDelivery";
  }
}

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
export function liveSecrets(
  webhook: Pick<Webhook, "secret" | "previousSecret" | "previousSecretExpiresAt">,
  now: Date,
): string[] {
  const previousLive =
    webhook.previousSecret && webhook.previousSecretExpiresAt && webhook.previousSecretExpiresAt > now;
  return previousLive ? [webhook.secret, webhook.previousSecret!] : [webhook.secret];
}

type WebhookShape = Pick<
  Webhook,
  "url" | "method" | "headers" | "payload" | "secret" | "previousSecret" | "previousSecretExpiresAt"
> &
  Partial<Pick<Webhook, "secretHeaders">> &
  SecretState;

/** A template rendered for the delivery; one past its size budget makes the delivery unsendable. */
function rendered(template: unknown, context: EventContext): unknown {
  try {
    return renderTemplate(template, context);
  } catch (error) {
    if (error instanceof RenderedTooLarge) throw new UnsendableDelivery(error.code, error.message);
    throw error;
  }
}

/**
 * `messageId` is the same on every attempt of one event to one webhook: receivers deduplicate on it.
 * Throws UnsendableDelivery when a header renders to what HTTP cannot carry.
 */
export function buildDelivery(
  webhook: WebhookShape,
  context: EventContext,
  messageId: string,
  now: Date,
): DeliveryRequest {
  // Not unsendable for good: once the operator gives tetik its key back, a retry signs and sends.
  if (webhook.secretError) throw new UnsendableDelivery("secret_unreadable", webhook.secretError);
  const payload = webhook.payload === null ? defaultPayload(context) : rendered(webhook.payload, context);
  const body = JSON.stringify(payload ?? null);
  const custom = rendered(webhook.headers ?? {}, context) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(custom)) {
    const text = typeof value === "string" ? value : JSON.stringify(value ?? "");
    if (!HEADER_VALUE.test(text)) {
      throw new UnsendableDelivery(
        "invalid_header",
        `header ${name} rendered to ${JSON.stringify(text.slice(0, 100))}, which a header cannot hold ` +
          "(a line break, a NUL, or a character beyond Latin-1)",
      );
    }
    headers[name.toLowerCase()] = text;
  }
  // Opened (withOpenSecrets), sent as written: checked when saved, never rendered, never in a message.
  Object.assign(headers, (webhook.secretHeaders ?? {}) as Record<string, string>);
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
