// When a failed delivery is tried again: the one place that decides it. Everything that puts a retry on
// the queue (the worker's processors) or back on it (the sweep) uses the time decided here, which is
// also written to Postgres as the action's nextAttemptAt. See README.md in this folder.
import type { Config } from "../../platform/config.ts";
import type { Webhook } from "../../platform/db.ts";

export interface RetryPolicy {
  backoff: "exponential" | "fixed";
  delayMs: number;
  maxAttempts: number;
  maxDelayMs: number;
}

/** A webhook's own policy; WEBHOOK_MAX_RETRY_DELAY_MS where it sets no longest wait. */
export function retryPolicy(
  webhook: Pick<Webhook, "retryMaxAttempts" | "retryBackoff" | "retryDelayMs" | "retryMaxDelayMs">,
  config: Pick<Config, "WEBHOOK_MAX_RETRY_DELAY_MS">,
): RetryPolicy {
  return {
    maxAttempts: webhook.retryMaxAttempts,
    backoff: webhook.retryBackoff,
    delayMs: webhook.retryDelayMs,
    maxDelayMs: webhook.retryMaxDelayMs ?? config.WEBHOOK_MAX_RETRY_DELAY_MS,
  };
}

/**
 * The wait before attempt `attempt + 1`. Exponential doubles from delayMs with "equal jitter" (half fixed,
 * half random) so receivers that failed together are not hit together again. A Retry-After from the
 * receiver wins when it asks for longer. Never more than maxDelayMs.
 */
export function retryDelay(
  attempt: number,
  policy: Omit<RetryPolicy, "maxAttempts">,
  retryAfterMs?: number,
  random = Math.random,
): number {
  let delay = policy.delayMs;
  if (policy.backoff === "exponential") {
    const base = Math.min(policy.maxDelayMs, policy.delayMs * 2 ** Math.max(0, attempt - 1));
    delay = base / 2 + (random() * base) / 2;
  }
  if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
  return Math.round(Math.min(policy.maxDelayMs, delay));
}

/**
 * Failures without an answer that another attempt would meet again: the target is refused, a header cannot
 * be sent, or the body renders past its size budget (the same event renders the same every time).
 */
const PERMANENT_FAILURES = new Set(["blocked_address", "invalid_header", "rendered_too_large"]);

/** Network errors, timeouts, 408, 429 and 5xx may pass; other answers will not change by retrying. */
export function isRetryable(status: number | null, errorCode: string | null): boolean {
  if (status === null) return !PERMANENT_FAILURES.has(errorCode ?? "");
  return status === 408 || status === 429 || status >= 500;
}

export interface AttemptResult {
  ok: boolean;
  status: number | null;
  errorCode: string | null;
  retryAfterMs?: number;
}

/** What follows attempt `attempt`: done, another attempt at a time, or failed for good (410 Gone included). */
export function nextAttempt(
  attempt: number,
  result: AttemptResult,
  policy: RetryPolicy,
  finishedAt: Date,
): { status: "completed" | "retrying" | "failed"; nextAttemptAt: Date | null } {
  if (result.ok) return { status: "completed", nextAttemptAt: null };
  const canRetry =
    isRetryable(result.status, result.errorCode) && result.status !== 410 && attempt < policy.maxAttempts;
  if (!canRetry) return { status: "failed", nextAttemptAt: null };
  return {
    status: "retrying",
    nextAttemptAt: new Date(finishedAt.getTime() + retryDelay(attempt, policy, result.retryAfterMs)),
  };
}

/**
 * When a job that found its action early should run it: a duplicate job or the sweep may wake an action
 * before its time; it then waits for that time rather than trying sooner. Null: now.
 */
export function wakeAt(action: { status: string; nextAttemptAt: Date | null }, now: Date): Date | null {
  return action.status === "retrying" && action.nextAttemptAt && action.nextAttemptAt > now
    ? action.nextAttemptAt
    : null;
}
