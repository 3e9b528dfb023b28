// One webhook sent for one event: its request built (build-delivery.ts), then sent with the webhook's
// timeout and the address guard. Never throws: every outcome is a result to record. Shared by deliveries
// (domain/delivery records them) and test sends.
//
// Sent with undici's request() over a keep-alive pool. Measured here (50 concurrent POSTs to a local
// receiver), ky costs about 500-900 us of CPU per request and fetch about 320 us, against about 80 us for
// request(): on the hottest path of the worker that decides the throughput, so ky (the card's choice) is
// not used for deliveries.
import { request } from "undici";
import type { Deps } from "../../platform/deps.ts";
import type { Webhook } from "../../platform/db.ts";
import type { EventContext } from "../events/event-context.ts";
import { storableText } from "../storable-json.ts";
import { urlRefusal } from "./address-guard.ts";
import { buildDelivery, type DeliveryRequest, UnsendableDelivery } from "./build-delivery.ts";
import { webhookAgent } from "./http-agent.ts";
import type { AttemptResult } from "../delivery/action-log/action-log.ts";

/** How much of a response body is kept; the rest is never read. */
export const RESPONSE_BODY_LIMIT = 4096;

/** What the action log keeps of an attempt, and the Retry-After the receiver asked for. */
export interface SendResult extends AttemptResult {
  retryAfterMs?: number;
}

interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  now: () => Date;
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

class AttemptTimeout extends Error {
  readonly code = "ATTEMPT_TIMEOUT";
}

/** Reads at most RESPONSE_BODY_LIMIT bytes of a body, then lets go of the rest (and the connection). */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void; text(): Promise<string> },
  declaredLength: string | string[] | undefined,
): Promise<string> {
  // Most answers are short and say so: read at once (undici holds the body to its declared length).
  if (typeof declaredLength === "string" && Number(declaredLength) <= RESPONSE_BODY_LIMIT) return body.text();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= RESPONSE_BODY_LIMIT) break;
    }
  } finally {
    if (size >= RESPONSE_BODY_LIMIT) body.destroy();
  }
  // Cutting may split a multi-byte character; the decoder marks it rather than failing.
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString("utf8");
}

const NETWORK_CODES: Record<string, string> = {
  ATTEMPT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  ECONNREFUSED: "connection_refused",
  ECONNRESET: "connection_reset",
  UND_ERR_SOCKET: "connection_reset",
  EPIPE: "connection_reset",
  ENOTFOUND: "dns_failure",
  EAI_AGAIN: "dns_failure",
  ERR_BLOCKED_ADDRESS: "blocked_address",
};

function classify(error: unknown, timeoutMs: number): { errorCode: string; error: string } {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = [e.code, e.cause?.code].find((c) => c && NETWORK_CODES[c]);
  const errorCode = code ? NETWORK_CODES[code]! : "network_error";
  if (errorCode === "timeout") return { errorCode, error: `no answer within ${timeoutMs} ms` };
  return { errorCode, error: storableText((code === e.cause?.code ? e.cause?.message : e.message) ?? String(error)) };
}

async function sendRequest(delivery: DeliveryRequest, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refusal = urlRefusal(new URL(delivery.url), options.allowPrivateNetworks);
  if (refusal) {
    return { ok: false, status: null, durationMs: 0, responseBody: null, error: refusal, errorCode: "blocked_address" };
  }
  // One deadline for the whole attempt: connecting, sending, the answer and the part of its body we read.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new AttemptTimeout()), options.timeoutMs);
  try {
    const response = await request(delivery.url, {
      method: delivery.method as "POST",
      headers: delivery.headers,
      body: delivery.body,
      dispatcher: webhookAgent(options.allowPrivateNetworks),
      signal: abort.signal,
      // Redirects are not followed: a 3xx is an answer like any other non-2xx.
      maxRedirections: 0,
    });
    // As text Postgres can store: a NUL in one receiver's answer must not fail the log's write.
    const responseBody = storableText(await readCapped(response.body, response.headers["content-length"]));
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    const retryAfter = response.headers["retry-after"];
    return {
      ok,
      status: response.statusCode,
      durationMs: elapsed(),
      responseBody,
      error: ok ? null : `the receiver answered ${response.statusCode}`,
      errorCode: ok ? null : `http_${response.statusCode}`,
      retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, options.now()),
    };
  } catch (error) {
    const reason = abort.signal.aborted ? abort.signal.reason : error;
    return {
      ok: false,
      status: null,
      durationMs: elapsed(),
      responseBody: null,
      ...classify(reason, options.timeoutMs),
    };
  } finally {
    clearTimeout(timer);
  }
}

type WebhookShape = Parameters<typeof buildDelivery>[0] & Pick<Webhook, "timeoutMs">;

/**
 * Renders the delivery and sends it with the webhook's timeout (or WEBHOOK_TIMEOUT_MS) and the address
 * guard as configured. A delivery its templates made unsendable fails without a request.
 */
export async function sendWebhook(
  { config, now }: Pick<Deps, "config" | "now">,
  webhook: WebhookShape,
  context: EventContext,
  messageId: string,
  requestedAt: Date,
): Promise<SendResult> {
  let request: DeliveryRequest;
  try {
    request = buildDelivery(webhook, context, messageId, requestedAt);
  } catch (error) {
    if (!(error instanceof UnsendableDelivery)) throw error;
    return {
      ok: false,
      status: null,
      durationMs: 0,
      responseBody: null,
      error: error.message,
      errorCode: error.errorCode,
    };
  }
  return sendRequest(request, {
    timeoutMs: webhook.timeoutMs ?? config.WEBHOOK_TIMEOUT_MS,
    allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    now,
  });
}
