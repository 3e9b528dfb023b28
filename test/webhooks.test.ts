// Webhooks through the HTTP API: defaults, validation, the SSRF guard at save and at delivery.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let open: TestStack; // WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, as for local use
let guarded: TestStack; // the default: private targets refused
let receiver: Receiver;
let definitionId: string;
beforeAll(async () => {
  [open, guarded, receiver] = await Promise.all([
    startStack({ worker: false }),
    startStack({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false" } }),
    startReceiver(),
  ]);
  definitionId = (await createDefinition(open, { name: "hooks" })).id;
});
afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop(), receiver?.close()]);
});

describe("webhooks", () => {
  it("fills in defaults, including a partial retry policy", async () => {
    const hook = await createWebhook(open, {
      definitionId,
      url: "https://example.com/hook",
      retry: { maxAttempts: 2 },
    });
    expect(hook).toMatchObject({
      definitionId,
      url: "https://example.com/hook",
      method: "POST",
      headers: {},
      payload: null,
      active: true,
      timeoutMs: 10_000,
      retry: { maxAttempts: 2, backoff: "exponential", delayMs: 1000, maxDelayMs: 3_600_000 },
    });
    const patched = expectStatus(
      await open.api("PATCH", `/webhooks/${hook.id}`, {
        retry: { backoff: "fixed", maxDelayMs: 60_000 },
        timeoutMs: 2000,
        active: false,
      }),
      200,
    );
    expect(patched).toMatchObject({
      retry: { maxAttempts: 2, backoff: "fixed", delayMs: 1000, maxDelayMs: 60_000 },
      timeoutMs: 2000,
      active: false,
    });
    expect(patched).not.toHaveProperty("secret");

    const listed = expectStatus(await open.api("GET", `/webhooks?definitionId=${definitionId}`), 200);
    expect(listed.data.map((w) => w.id)).toContain(hook.id);
    const detail = expectStatus(await open.api("GET", `/definitions/${definitionId}`), 200);
    expect(detail.webhooks.map((w) => w.id)).toContain(hook.id);

    expect((await open.api("DELETE", `/webhooks/${hook.id}`)).status).toBe(204);
    expect((await open.api("GET", `/webhooks/${hook.id}`)).status).toBe(404);
  });

  it("refuses bad webhooks with 400s and changes nothing", async () => {
    const before = await open.deps.db.webhook.count();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: "ftp://example.com/x" }, "url"],
      [{ url: "not a url" }, "url"],
      [{ url: "https://example.com", method: "GET" }, "method"],
      [{ url: "https://example.com", headers: { "webhook-signature": "forged" } }, "headers"],
      [{ url: "https://example.com", headers: { "Content-Type": "text/plain" } }, "headers"],
      [{ url: "https://example.com", headers: { "bad name": "x" } }, "headers"],
      [{ url: "https://example.com", payload: { x: "{{ process.env.SECRET }}" } }, "payload"],
      [{ url: "https://example.com", payload: { x: "{{ data.a " } }, "payload"],
      [{ url: "https://example.com", retry: { maxAttempts: 0 } }, "retry"],
      [{ url: "https://example.com", retry: { backoff: "linear" } }, "retry"],
      [{ url: "https://example.com", timeoutMs: 5 }, "timeoutMs"],
    ];
    for (const [body, path] of cases) {
      const error = expectError(await open.api("POST", "/webhooks", { definitionId, ...body }), 400, "invalid_request");
      expect(error.message, JSON.stringify(body)).toContain(path);
    }
    const orphan = await open.api("POST", "/webhooks", { definitionId: "def_missing", url: "https://example.com" });
    expectError(orphan, 404, "not_found");
    expect(await open.deps.db.webhook.count()).toBe(before);
  });

  it("refuses literal private, loopback, link-local and metadata addresses at save unless allowed", async () => {
    const guardedDefinition = (await createDefinition(guarded, { name: "guarded" })).id;
    for (const host of [
      "127.0.0.1",
      "10.1.2.3",
      "192.168.0.10",
      "172.16.5.5",
      "169.254.169.254",
      "100.64.0.1",
      "[::1]",
      "[fd00::1]",
      "[::ffff:127.0.0.1]",
      "localhost",
      "localhost.",
      "0x7f.1",
      "2130706433",
    ]) {
      const res = await guarded.api("POST", "/webhooks", {
        definitionId: guardedDefinition,
        url: `http://${host}:8080/hook`,
      });
      expect(res.status, host).toBe(400);
      expect(expectError(res, 400, "invalid_request").message).toContain("url");
    }
    expect(
      (await guarded.api("POST", "/webhooks", { definitionId: guardedDefinition, url: "https://93.184.215.14/hook" }))
        .status,
    ).toBe(201);
    // With WEBHOOK_ALLOW_PRIVATE_NETWORKS=true the same address is fine.
    expect((await open.api("POST", "/webhooks", { definitionId, url: "http://127.0.0.1:8080/hook" })).status).toBe(201);
  });

  it("fails a delivery to a name that resolves to loopback with blocked_address, sending nothing", async () => {
    const collection = "guarded_names";
    const def = await createDefinition(guarded, { name: "guarded-names", collection });
    const port = new URL(receiver.url).port;
    // Saved with a public name that later points at loopback (DNS rebinding): the row is changed directly,
    // since the API refuses `localhost` up front. Only the connect-time guard stands in the way now.
    const hook = await createWebhook(guarded, { definitionId: def.id, url: `http://example.com:${port}/hook` });
    await guarded.deps.db.webhook.update({ where: { id: hook.id }, data: { url: `http://localhost:${port}/hook` } });
    const id = await postEvent(guarded, { collection });
    const event = await waitForEvent(guarded, id, ["failed"]);
    expect(event.actions[0]).toMatchObject({
      status: "failed",
      errorCode: "blocked_address",
      attempts: 1,
      error: expect.stringContaining("localhost resolves to"),
    });
    expect(receiver.requests).toHaveLength(0);
  });

  it("answers 404 for unknown webhooks on every route", async () => {
    for (const [method, path] of [
      ["GET", "/webhooks/whk_nope"],
      ["PATCH", "/webhooks/whk_nope"],
      ["DELETE", "/webhooks/whk_nope"],
      ["POST", "/webhooks/whk_nope/rotate-secret"],
      ["POST", "/webhooks/whk_nope/test"],
      ["GET", "/webhooks/whk_nope/deliveries"],
    ] as const) {
      const res = await open.api(method, path, method === "PATCH" ? { active: false } : undefined);
      expect(res.status, `${method} ${path}`).toBe(404);
      expectError(res, 404, "not_found");
    }
  });
});
