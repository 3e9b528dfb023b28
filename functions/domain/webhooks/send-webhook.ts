// One HTTP attempt at a webhook, with ky. Never throws: every outcome is a result to record.
import ky, { TimeoutError } from "ky";
import { urlRefusal } from "./address-guard.ts";
import type { DeliveryRequest } from "./build-delivery.ts";
import { parseRetryAfter } from "./backoff.ts";
import { webhookAgent } from "./http-agent.ts";

/** How much of a response body is kept; the rest is never read. */
export const RESPONSE_BODY_LIMIT = 4096;

export interface SendResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
  errorCode: string | null;
  retryAfterMs?: number;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivateNetworks: boolean;
  now: () => Date;
}

/** Reads at most RESPONSE_BODY_LIMIT bytes of a body, then lets go of the rest. */
async function readCapped(body: ReadableStream<Uint8Array> | null): Promise<string> {
  if (!body) return "";
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < RESPONSE_BODY_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  // Cutting may split a multi-byte character; the decoder marks it rather than failing.
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString("utf8");
}

function classify(error: unknown, timeoutMs: number): { errorCode: string; error: string } {
  if (error instanceof TimeoutError || (error as Error).name === "TimeoutError") {
    return { errorCode: "timeout", error: `no answer within ${timeoutMs} ms` };
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === "ERR_BLOCKED_ADDRESS") return { errorCode: "blocked_address", error: cause.message ?? "blocked address" };
  const code = cause?.code ?? (error as { code?: string }).code;
  const known: Record<string, string> = {
    ECONNREFUSED: "connection_refused",
    ECONNRESET: "connection_reset",
    ENOTFOUND: "dns_failure",
    EAI_AGAIN: "dns_failure",
    UND_ERR_SOCKET: "connection_reset",
    UND_ERR_CONNECT_TIMEOUT: "timeout",
  };
  return { errorCode: (code && known[code]) ?? "network_error", error: cause?.message ?? (error as Error).message };
}

export async function sendWebhook(request: DeliveryRequest, options: SendOptions): Promise<SendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const refusal = urlRefusal(new URL(request.url), options.allowPrivateNetworks);
  if (refusal) {
    return { ok: false, status: null, durationMs: 0, responseBody: null, error: refusal, errorCode: "blocked_address" };
  }
  try {
    const response = await ky(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      timeout: options.timeoutMs,
      retry: 0,
      throwHttpErrors: false,
      redirect: "manual",
      // Passed through to fetch: pooled keep-alive connections with the address guard.
      dispatcher: webhookAgent(options.allowPrivateNetworks),
    } as Parameters<typeof ky>[1]);
    const remaining = Math.max(1, options.timeoutMs - elapsed());
    const responseBody = await Promise.race([
      readCapped(response.body),
      new Promise<string>((resolve) => setTimeout(() => resolve(""), remaining).unref()),
    ]);
    const ok = response.status >= 200 && response.status < 300;
    return {
      ok,
      status: response.status,
      durationMs: elapsed(),
      responseBody,
      error: ok ? null : `the receiver answered ${response.status}`,
      errorCode: ok ? null : `http_${response.status}`,
      retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), options.now()),
    };
  } catch (error) {
    return { ok: false, status: null, durationMs: elapsed(), responseBody: null, ...classify(error, options.timeoutMs) };
  }
}
