// Pure pieces of delivery: signatures, backoff, retry classification, the address guard, changed fields.
import { Webhook as StandardWebhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { changedFields } from "../../functions/domain/events/changed-fields.ts";
import { isBlockedAddress, urlRefusal } from "../../functions/domain/webhooks/address-guard.ts";
import { isRetryable, nextAttempt, retryDelay, wakeAt } from "../../functions/domain/webhooks/next-attempt.ts";
import { parseRetryAfter } from "../../functions/domain/webhooks/send-webhook.ts";
import { generateSecret } from "../../functions/domain/webhooks/secret.ts";
import { signatureHeader } from "../../functions/domain/webhooks/sign.ts";

describe("signatures", () => {
  it("are verified by the standardwebhooks library, one secret or two", () => {
    const [a, b] = [generateSecret(), generateSecret()];
    const body = JSON.stringify({ hello: "world" });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(ts),
      "webhook-signature": signatureHeader([a, b], "msg_1", ts, body),
    };
    expect(new StandardWebhook(a).verify(body, headers)).toEqual({ hello: "world" });
    expect(new StandardWebhook(b).verify(body, headers)).toEqual({ hello: "world" });
    expect(() => new StandardWebhook(generateSecret()).verify(body, headers)).toThrow();
  });
});

describe("backoff", () => {
  const exp = { backoff: "exponential" as const, delayMs: 1000, maxDelayMs: 60_000 };
  const fixed = { backoff: "fixed" as const, delayMs: 250, maxDelayMs: 60_000 };
  it("doubles with jitter between half and the whole step, capped", () => {
    expect(retryDelay(1, exp, undefined, () => 0)).toBe(500);
    expect(retryDelay(1, exp, undefined, () => 1)).toBe(1000);
    expect(retryDelay(4, exp, undefined, () => 1)).toBe(8000);
    expect(retryDelay(30, exp, undefined, () => 1)).toBe(60_000);
  });
  it("waits a fixed delay when asked, and honours a longer Retry-After up to the cap", () => {
    expect(retryDelay(5, fixed)).toBe(250);
    expect(retryDelay(1, fixed, 5000)).toBe(5000);
    expect(retryDelay(1, fixed, 3_600_000)).toBe(60_000);
  });
  it("decides what follows an attempt: done, a retry at a time, or failed for good", () => {
    const at = new Date("2026-12-01T00:00:00Z");
    const policy = { ...fixed, maxAttempts: 3 };
    const failure = (status: number | null, errorCode: string | null = null) => ({ ok: false, status, errorCode });
    expect(nextAttempt(1, { ok: true, status: 200, errorCode: null }, policy, at)).toEqual({
      status: "completed",
      nextAttemptAt: null,
    });
    expect(nextAttempt(1, failure(503), policy, at)).toEqual({
      status: "retrying",
      nextAttemptAt: new Date(at.getTime() + 250),
    });
    expect(nextAttempt(2, { ...failure(429), retryAfterMs: 9000 }, policy, at).nextAttemptAt).toEqual(
      new Date(at.getTime() + 9000),
    );
    expect(nextAttempt(3, failure(503), policy, at)).toEqual({ status: "failed", nextAttemptAt: null });
    expect(nextAttempt(1, failure(410), policy, at)).toEqual({ status: "failed", nextAttemptAt: null });
    expect(nextAttempt(1, failure(400), policy, at)).toEqual({ status: "failed", nextAttemptAt: null });
    expect(nextAttempt(1, failure(null, "blocked_address"), policy, at)).toEqual({
      status: "failed",
      nextAttemptAt: null,
    });
  });
  it("holds an action woken before its next attempt until that time", () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const later = new Date(now.getTime() + 1000);
    expect(wakeAt({ status: "retrying", nextAttemptAt: later }, now)).toEqual(later);
    expect(wakeAt({ status: "retrying", nextAttemptAt: now }, now)).toBeNull();
    expect(wakeAt({ status: "pending", nextAttemptAt: later }, now)).toBeNull();
  });
  it("reads Retry-After as seconds or as a date", () => {
    const now = new Date("2026-11-27T10:00:00Z");
    expect(parseRetryAfter("7", now)).toBe(7000);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
  it("retries network errors, timeouts, 408, 429 and 5xx only", () => {
    expect([null, 408, 429, 500, 503].map((s) => isRetryable(s, s ? null : "timeout"))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect([301, 400, 401, 404, 410, 422].map((s) => isRetryable(s, null))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isRetryable(null, "blocked_address")).toBe(false);
  });
});

describe("address guard", () => {
  it.each([
    "127.0.0.1",
    "10.0.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "100.100.0.1",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fd12::1",
    "::ffff:10.0.0.1",
    "::ffff:7f00:1",
    // IPv6 forms that carry an IPv4 address: compatible, translated, 6to4, NAT64 (well-known and local), Teredo.
    "::127.0.0.1",
    "::7f00:1",
    "::a9fe:a9fe",
    "::ffff:0:127.0.0.1",
    "2002:7f00:1::",
    "64:ff9b::7f00:1",
    "64:ff9b:1::7f00:1",
    "2001::1",
    "255.255.255.255",
    "224.0.0.1",
    "198.18.0.1",
    "192.0.2.1",
    "fec0::1",
    "ff02::1",
  ])("blocks %s", (address) => expect(isBlockedAddress(address)).toBe(true));
  it.each(["93.184.215.14", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "::ffff:8.8.8.8", "2600:1f18::1"])(
    "allows %s",
    (address) => expect(isBlockedAddress(address)).toBe(false),
  );
  it("refuses other schemes always, private literals unless allowed", () => {
    expect(urlRefusal(new URL("file:///etc/passwd"), true)).toContain("http");
    expect(urlRefusal(new URL("http://[::1]/"), false)).toContain("::1");
    expect(urlRefusal(new URL("http://[::1]/"), true)).toBeUndefined();
    expect(urlRefusal(new URL("http://localhost/"), false)).toBeUndefined();
    expect(urlRefusal(new URL("http://localhost/"), false, { refuseLoopbackNames: true })).toContain("loopback");
  });
});

describe("changed fields", () => {
  it("compares top-level fields deeply, or takes data's fields when there is no previous", () => {
    expect(changedFields({ a: 1, b: { c: [1] }, d: 1 }, { a: 1, b: { c: [2] }, e: 1 })).toEqual(["b", "d", "e"]);
    expect(changedFields({ a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] } })).toEqual([]);
    expect(changedFields({ z: 1, a: 2 }, null)).toEqual(["a", "z"]);
  });
});
