// Webhook delivery against real receivers: Retry-After, timeouts, 410, redirects, bounded bodies, and
// slow endpoints that must not hold up the others.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import type { BodyOf } from "../functions/client/index.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack;
let receiver: Receiver;
// A test delivery waits at most WEBHOOK_TEST_TIMEOUT_MS (25 s by default), here 1 s.
withStackAndReceiver((started) => ({ stack, receiver } = started), { env: { WEBHOOK_TEST_TIMEOUT_MS: "1000" } });

let n = 0;
/** A definition on a collection of its own and one webhook to `path` on the receiver. */
async function hookFor(path: string, webhook: Omit<BodyOf<"createWebhook">, "definitionId" | "url"> = {}) {
  const collection = `d${++n}`;
  const definition = await createDefinition(stack, { name: `delivery-${n}`, collection });
  const hook = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}${path}`, ...webhook });
  return { collection, definition, hook };
}

describe("delivery", () => {
  it("waits as long as Retry-After asks before the next attempt", async () => {
    const { collection } = await hookFor("/throttled", { retry: { maxAttempts: 3, backoff: "fixed", delayMs: 10 } });
    receiver.respond((req) =>
      req.path === "/throttled" && receiver.at("/throttled").length === 1
        ? { status: 429, headers: { "retry-after": "1" } }
        : { status: 200 },
    );
    const id = await postEvent(stack, { collection });
    const event = await waitForEvent(stack, id);
    expect(event.actions[0]).toMatchObject({ status: "completed", attempts: 2 });
    const [first, second] = receiver.at("/throttled");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
  });

  it("caps a Retry-After at the webhook's maxDelayMs", async () => {
    const { collection } = await hookFor("/capped", {
      retry: { maxAttempts: 2, backoff: "fixed", delayMs: 10, maxDelayMs: 200 },
    });
    receiver.respond((req) =>
      req.path === "/capped" && receiver.at("/capped").length === 1
        ? { status: 503, headers: { "retry-after": "3600" } }
        : { status: 200 },
    );
    const id = await postEvent(stack, { collection });
    const retrying = await waitForEvent(stack, id, ["retrying", "completed"]);
    if (retrying.status === "retrying") {
      const wait = Date.parse(retrying.actions[0]?.nextAttemptAt ?? "") - Date.now();
      expect(wait).toBeLessThanOrEqual(200);
    }
    expect((await waitForEvent(stack, id)).actions[0]).toMatchObject({ status: "completed", attempts: 2 });
  });

  it("gives up an attempt at the webhook's timeout and records it as a timeout", async () => {
    const { collection, hook } = await hookFor("/slow", { timeoutMs: 300, retry: { maxAttempts: 1 } });
    receiver.respond((req) => (req.path === "/slow" ? { status: 200, delayMs: 3000 } : { status: 200 }));
    const id = await postEvent(stack, { collection });
    const event = await waitForEvent(stack, id, ["failed"]);
    expect(event.actions[0]).toMatchObject({ status: "failed", errorCode: "timeout" });
    const [attempt] = expectStatus(await stack.api("GET", `/webhooks/${hook.id}/deliveries`), 200).data;
    expect(attempt).toMatchObject({ ok: false, status: null, errorCode: "timeout" });
    expect(attempt!.durationMs).toBeGreaterThanOrEqual(250);
    // Abandoned before the receiver would have answered.
    expect(attempt!.durationMs).toBeLessThan(3000);
  });

  it("answers a test delivery within WEBHOOK_TEST_TIMEOUT_MS, whatever the webhook's timeout", async () => {
    const { hook } = await hookFor("/slow-test", { timeoutMs: 60_000 });
    receiver.respond((req) => (req.path === "/slow-test" ? { status: 200, delayMs: 5_000 } : { status: 200 }));
    const started = Date.now();
    const answer = expectStatus(await stack.api("POST", `/webhooks/${hook.id}/test`, {}), 200);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(answer).toMatchObject({ ok: false, status: null, error: "no answer within 1000 ms" });
    expect(receiver.at("/slow-test")).toHaveLength(1);
  });

  it("turns a webhook off when the receiver answers 410 Gone", async () => {
    const { collection, hook } = await hookFor("/gone", { retry: { maxAttempts: 5, delayMs: 10 } });
    receiver.respond((req) => (req.path === "/gone" ? { status: 410 } : { status: 200 }));
    const id = await postEvent(stack, { collection });
    const event = await waitForEvent(stack, id, ["failed"]);
    expect(event.actions[0]).toMatchObject({ status: "failed", attempts: 1, errorCode: "http_410" });
    // Health, and turning the webhook off, are written just after the log.
    const after = await waitFor(async () => {
      const webhook = await stack.client.webhooks.get(hook.id);
      return webhook.active === false ? webhook : undefined;
    });
    expect(after).toMatchObject({
      active: false,
      health: { disabledReason: expect.stringContaining("410"), consecutiveFailures: 1 },
    });
    // Turned back on, it delivers again.
    receiver.respond(() => ({ status: 200 }));
    expect((await stack.client.webhooks.update(hook.id, { active: true })).health.disabledReason).toBeNull();
    expect((await waitForEvent(stack, await postEvent(stack, { collection }))).status).toBe("completed");
  });

  it("does not follow redirects: a 3xx fails at once and the target is never asked", async () => {
    const { collection } = await hookFor("/moved", { retry: { maxAttempts: 5, delayMs: 10 } });
    receiver.respond((req) =>
      req.path === "/moved" ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 },
    );
    const event = await waitForEvent(stack, await postEvent(stack, { collection }), ["failed"]);
    expect(event.actions[0]).toMatchObject({ attempts: 1, errorCode: "http_302" });
    expect(receiver.at("/elsewhere")).toHaveLength(0);
  });

  it("keeps only the first 4 KiB of a response and never reads an endless body", async () => {
    // A receiver that answers 500 and then streams for as long as anyone listens (bounded: 60 s).
    let streaming = false;
    const endless = createServer((req, res) => {
      req.resume();
      res.writeHead(500, { "content-type": "text/plain" });
      streaming = true;
      const timer = setInterval(() => res.write("z".repeat(1024)), 5);
      const stop = () => {
        streaming = false;
        clearInterval(timer);
      };
      res.on("close", stop);
      setTimeout(() => {
        stop();
        res.end();
      }, 60_000).unref();
    });
    await new Promise<void>((resolve) => endless.listen(0, "127.0.0.1", resolve));
    try {
      const collection = `d${++n}`;
      const definition = await createDefinition(stack, { name: `endless-${n}`, collection });
      const { port } = endless.address() as AddressInfo;
      const hook = await createWebhook(stack, {
        definitionId: definition.id,
        url: `http://127.0.0.1:${port}/`,
        retry: { maxAttempts: 1 },
      });
      const event = await waitForEvent(stack, await postEvent(stack, { collection }), ["failed"]);
      // Recorded after reading 4 KiB: tetik let go of the connection while the receiver was still sending.
      await waitFor(() => !streaming, { what: "the receiver to see its connection closed" });
      expect(event.actions[0]).toMatchObject({ errorCode: "http_500" });
      const [attempt] = (await stack.client.webhooks.deliveries(hook.id)).data;
      expect(attempt?.responseBody).toBe("z".repeat(4096));
    } finally {
      endless.closeAllConnections();
      endless.close();
    }
  });

  it("does not let a slow endpoint hold up the other webhooks or later events", async () => {
    const collection = `d${++n}`;
    const definition = await createDefinition(stack, { name: `fanout-${n}`, collection });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/fanout-slow` });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/fanout-fast` });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    receiver.respond((req) => (req.path === "/fanout-slow" ? { status: 200, until: gate } : { status: 200 }));
    const first = await postEvent(stack, { collection, recordId: "1" });
    const second = await postEvent(stack, { collection, recordId: "2" });
    try {
      // While the slow endpoint holds both its requests, the fast one gets both events.
      await waitFor(() => receiver.at("/fanout-fast").length === 2, { what: "both fast deliveries" });
      expect(receiver.at("/fanout-slow")).toHaveLength(2);
      // The fast action is recorded completed while the slow one is still in flight.
      const held = await waitFor(
        async () => {
          const event = await stack.client.events.get(first);
          return event.actions.some((a) => a.status === "completed") ? event : undefined;
        },
        { what: "the fast action of the first event to be completed" },
      );
      expect(held.status).toBe("processing");
      expect(held.actions.map((a) => a.status).sort()).toEqual(["completed", "processing"]);
    } finally {
      release();
    }
    expect((await waitForEvent(stack, first)).status).toBe("completed");
    expect((await waitForEvent(stack, second)).status).toBe("completed");
  });
});
