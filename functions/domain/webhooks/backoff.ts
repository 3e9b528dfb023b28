// When to try a failed delivery again.

export interface RetryPolicy {
  backoff: "exponential" | "fixed";
  delayMs: number;
}

/**
 * The wait before attempt `attempt + 1`. Exponential doubles from delayMs with "equal jitter" (half fixed,
 * half random) so receivers that failed together are not hit together again. A Retry-After from the
 * receiver wins when it asks for longer. Never more than maxDelayMs.
 */
export function retryDelay(attempt: number, policy: RetryPolicy, maxDelayMs: number, retryAfterMs?: number, random = Math.random): number {
  let delay = policy.delayMs;
  if (policy.backoff === "exponential") {
    const base = Math.min(maxDelayMs, policy.delayMs * 2 ** Math.max(0, attempt - 1));
    delay = base / 2 + (random() * base) / 2;
  }
  if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
  return Math.round(Math.min(maxDelayMs, delay));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

/** Failures without an answer that another attempt would meet again: the target is refused, or a header cannot be sent. */
const PERMANENT_FAILURES = new Set(["blocked_address", "invalid_header"]);

/** Network errors, timeouts, 408, 429 and 5xx may pass; other answers will not change by retrying. */
export function isRetryable(status: number | null, errorCode: string | null): boolean {
  if (status === null) return !PERMANENT_FAILURES.has(errorCode ?? "");
  return status === 408 || status === 429 || status >= 500;
}

export interface AttemptPolicy extends RetryPolicy {
  maxAttempts: number;
  maxDelayMs: number;
}

/** What follows an attempt: done, another attempt at a time, or failed for good (410 Gone included). */
export function afterAttempt(
  attempt: number,
  outcome: { ok: boolean; status: number | null; errorCode: string | null; retryAfterMs?: number },
  policy: AttemptPolicy,
  finishedAt: Date,
): { status: "completed" | "retrying" | "failed"; nextAttemptAt: Date | null } {
  if (outcome.ok) return { status: "completed", nextAttemptAt: null };
  const canRetry = isRetryable(outcome.status, outcome.errorCode) && outcome.status !== 410 && attempt < policy.maxAttempts;
  if (!canRetry) return { status: "failed", nextAttemptAt: null };
  return { status: "retrying", nextAttemptAt: new Date(finishedAt.getTime() + retryDelay(attempt, policy, policy.maxDelayMs, outcome.retryAfterMs)) };
}
