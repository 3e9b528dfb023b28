// Secret header values (a receiver's token): stored as `{name: sealed value}` in webhooks.secretHeaders,
// each sealed with SECRETS_KEY and bound to its webhook and its name, so a value cannot be moved to
// another row or another header. Names are kept in lower case (HTTP names are case-insensitive, and a
// PATCH names the header it replaces or removes). Values are opened only to send a delivery; everywhere
// else a secret header is its name alone, or "[secret]" in a rendered request.
import type { SecretBox } from "../../platform/secret-box.ts";
import { invalid } from "../errors.ts";
import { LIMITS } from "../limits.ts";

/** What a rendered request (a dry run) shows in place of a secret header's value. */
export const REDACTED = "[secret]";

/** Stored: header name to its sealed value. */
export type SealedHeaders = Record<string, string>;

const boundTo = (webhookId: string, name: string) => `${webhookId}:header:${name}`;

const stored = (value: unknown): SealedHeaders => (value ?? {}) as SealedHeaders;

/** The names of a webhook's secret headers, sorted: all that answers and pages show of them. */
export function secretHeaderNames(value: unknown): string[] {
  return Object.keys(stored(value)).sort();
}

/** Each secret header with "[secret]" for its value: a request as it would go out, minus the secrets. */
export function redactedHeaders(value: unknown): Record<string, string> {
  return Object.fromEntries(secretHeaderNames(value).map((name) => [name.toLowerCase(), REDACTED]));
}

/**
 * The stored map after a change: a string sets (or replaces) that header's value, sealed; null removes
 * it; names left out keep their value.
 */
export function changeSecretHeaders(
  box: SecretBox,
  webhookId: string,
  current: unknown,
  change: Record<string, string | null>,
): SealedHeaders {
  const next = { ...stored(current) };
  for (const [name, value] of Object.entries(change)) {
    const key = name.toLowerCase();
    if (value === null) delete next[key];
    else next[key] = box.seal(value, boundTo(webhookId, key));
  }
  return next;
}

/** The values in the clear, to send. Throws SecretUnreadable when one was sealed with a key tetik lacks. */
export function openSecretHeaders(box: SecretBox, webhookId: string, value: unknown): Record<string, string> {
  return Object.fromEntries(
    Object.entries(stored(value)).map(([name, sealed]) => [name, box.open(sealed, boundTo(webhookId, name))]),
  );
}

/** The stored map sealed with the current key; the same object when every value already is. */
export function resealSecretHeaders(box: SecretBox, webhookId: string, value: unknown): SealedHeaders {
  const current = stored(value);
  if (Object.values(current).every((sealed) => box.isCurrent(sealed))) return current;
  return Object.fromEntries(
    Object.entries(current).map(([name, sealed]) => [
      name,
      box.isCurrent(sealed) ? sealed : box.seal(box.open(sealed, boundTo(webhookId, name)), boundTo(webhookId, name)),
    ]),
  );
}

/**
 * Plain and secret headers as saved together: one name cannot be both (which value would go out?), and
 * LIMITS.webhookHeaders counts them together. A 400 naming the field otherwise.
 */
export function checkHeaderSet(headers: unknown, secretNames: string[], changed: "headers" | "secretHeaders") {
  const plain = Object.keys((headers ?? {}) as Record<string, unknown>);
  const secret = new Set(secretNames.map((name) => name.toLowerCase()));
  for (const name of plain) {
    if (!secret.has(name.toLowerCase())) continue;
    const message =
      changed === "headers"
        ? "is a secret header of this webhook: remove it from secretHeaders (null) first"
        : "is also a plain header: a header is either plain or secret";
    const path = changed === "headers" ? `headers.${name}` : `secretHeaders.${name.toLowerCase()}`;
    throw invalid(`${path}: ${message}`, [{ path, message }]);
  }
  if (plain.length + secret.size > LIMITS.webhookHeaders) {
    const count = `${plain.length} plain and ${secret.size} secret headers`;
    const message = `${count}; at most ${LIMITS.webhookHeaders} together`;
    throw invalid(`${changed}: ${message}`, [{ path: changed, message }]);
  }
}
