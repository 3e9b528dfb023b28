// Delivery in one process: API -> Postgres -> BullMQ -> worker -> a real receiver on 127.0.0.1.
// Signatures are checked with the standardwebhooks package, not with tetik's own signing code.
import { Webhook as StandardWebhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started));
beforeEach(() => receiver.respond(() => ({ status: 200, body: "ok" })));

let n = 0;
/** A collection of the test's own, so definitions of other tests never match its events. */
const fresh = () => `c${++n}_${Date.now().toString(36)}`;

function verify(secret: string, request: { body: string; headers: Record<string, unknown> }) {
  return new StandardWebhook(secret).verify(request.body, request.headers as Record<string, string>);
}

describe("delivery in one process", () => {
  it("delivers a matching event, signed, with the default body, and logs it completed with timings", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, {
      name: `big-${collection}`,
      collection,
      condition: { "data.total": { $gt: 100 } },
    });
    const hook = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}`,
      headers: { "x-team": "billing" },
    });

    const id = await postEvent(stack, {
      collection,
      recordId: "o-1",
      data: { total: 120, customer: "ada" },
      occurredAt: "2026-11-27T10:00:00Z",
    });
    const event = await waitForEvent(stack, id);

    expect(event).toMatchObject({
      status: "completed",
      attempts: 1,
      error: null,
      depth: 0,
      causationId: null,
      changedFields: [],
    });
    expect(event.actions).toEqual([
      expect.objectContaining({
        kind: "webhook",
        id: hook.id,
        definitionId: definition.id,
        status: "completed",
        attempts: 1,
        error: null,
        durationMs: expect.any(Number),
      }),
    ]);
    for (const field of ["receivedAt", "startedAt", "completedAt"] as const) {
      expect(Date.parse(event[field] ?? ""), field).not.toBeNaN();
    }
    expect(Date.parse(event.completedAt!)).toBeGreaterThanOrEqual(Date.parse(event.startedAt!));
    // Both times are stored to the millisecond, and the duration is computed from them.
    expect(event.durationMs).toBe(Date.parse(event.completedAt!) - Date.parse(event.receivedAt));

    const [request, ...more] = receiver.at(`/${collection}`);
    expect(more).toHaveLength(0);
    expect(request!.method).toBe("POST");
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["user-agent"]).toMatch(/^tetik\/\d+\.\d+\.\d+$/);
    expect(request!.headers["x-team"]).toBe("billing");
    expect(Math.abs(Number(request!.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(verify(hook.secret, request!)).toEqual(request!.json);
    expect(request!.json).toEqual({
      id,
      type: "collection.created",
      definition: { id: definition.id, name: `big-${collection}` },
      collection,
      recordId: "o-1",
      data: { total: 120, customer: "ada" },
      previous: null,
      changedFields: [],
      occurredAt: "2026-11-27T10:00:00.000Z",
    });
    // Health is written just after the log (it is advisory): wait for it rather than race it.
    const health = await waitFor(async () => {
      const { health: h } = await stack.client.webhooks.get(hook.id);
      return h.lastSuccessAt ? h : undefined;
    });
    expect(health).toMatchObject({ consecutiveFailures: 0, lastError: null });
    // A tampered body fails verification: the signature really covers it.
    expect(() => verify(hook.secret, { ...request!, body: request!.body.replace("120", "121") })).toThrow();
  });

  it("completes events that match nothing, without delivering", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, {
      name: `nomatch-${collection}`,
      collection,
      condition: { "data.total": { $gt: 100 } },
    });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/${collection}` });

    const ids = [
      await postEvent(stack, { collection, data: { total: 50 } }), // condition false
      await postEvent(stack, { collection: `${collection}x`, data: { total: 500 } }), // other collection
      await postEvent(stack, { collection, type: "collection.deleted", data: { total: 500 } }), // other type
    ];
    for (const id of ids) {
      const event = await waitForEvent(stack, id);
      expect(event.status).toBe("completed");
      expect(event.actions).toEqual([]);
    }
    expect(receiver.at(`/${collection}`)).toHaveLength(0);
  });

  it("fires field.updated definitions only when a watched field changed", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, {
      name: `status-${collection}`,
      collection,
      type: "field.updated",
      fields: ["status"],
    });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/${collection}` });

    const changed = await postEvent(stack, {
      collection,
      type: "collection.updated",
      data: { status: "paid", total: 1 },
      previous: { status: "new", total: 1 },
    });
    const unchanged = await postEvent(stack, {
      collection,
      type: "collection.updated",
      data: { status: "new", total: 2 },
      previous: { status: "new", total: 1 },
    });

    const fired = await waitForEvent(stack, changed);
    expect(fired.changedFields).toEqual(["status"]);
    expect(fired.actions).toHaveLength(1);
    const quiet = await waitForEvent(stack, unchanged);
    expect(quiet.changedFields).toEqual(["total"]);
    expect(quiet.actions).toHaveLength(0);
    const requests = receiver.at(`/${collection}`);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.json).toMatchObject({
      type: "collection.updated",
      changedFields: ["status"],
      previous: { status: "new" },
    });
  });

  it("retries a receiver answering 500, then fails the event with the error; one webhook-id throughout", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `fail-${collection}`, collection });
    const hook = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}`,
      retry: { maxAttempts: 3, delayMs: 300, backoff: "fixed" },
    });
    receiver.respond(() => ({ status: 500, body: "boom" }));

    const id = await postEvent(stack, { collection });
    const retrying = await waitForEvent(stack, id, ["retrying"]);
    expect(retrying.error).toContain("500");
    expect(retrying.actions[0]).toMatchObject({ status: "retrying", attempts: 1, errorCode: "http_500" });

    const failed = await waitForEvent(stack, id, ["failed"]);
    expect(failed.error).toContain("500");
    expect(failed.actions[0]).toMatchObject({ status: "failed", attempts: 3 });
    expect(failed.completedAt).not.toBeNull();

    const requests = receiver.at(`/${collection}`);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.headers["webhook-id"])).size).toBe(1);
    for (const r of requests) expect(verify(hook.secret, r)).toEqual(r.json);

    const deliveries = expectStatus(await stack.api("GET", `/webhooks/${hook.id}/deliveries`), 200);
    expect(deliveries.data.map((d) => d.attempt)).toEqual([3, 2, 1]);
    expect(deliveries.data[0]).toMatchObject({
      eventId: id,
      ok: false,
      status: 500,
      responseBody: "boom",
      error: expect.stringContaining("500"),
    });

    const health = await waitFor(async () => {
      const { health: h } = await stack.client.webhooks.get(hook.id);
      return h.consecutiveFailures === 3 ? h : undefined;
    });
    expect(health).toMatchObject({
      consecutiveFailures: 3,
      lastSuccessAt: null,
      lastError: expect.stringContaining("500"),
    });
  });

  it("recovers after failures (500, 500, 200) and fails a 400 at once", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `flaky-${collection}`, collection });
    const flaky = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}/flaky`,
      retry: { maxAttempts: 5, delayMs: 50 },
    });
    const bad = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}/bad`,
      retry: { maxAttempts: 5, delayMs: 50 },
    });
    receiver.respond((req) => {
      if (req.path.endsWith("/bad")) return { status: 400, body: "no" };
      return receiver.at(req.path).length <= 2 ? { status: 500 } : { status: 200 };
    });

    const id = await postEvent(stack, { collection });
    const event = await waitForEvent(stack, id, ["failed"]);
    const action = (webhookId: string) => event.actions.find((a) => a.id === webhookId);
    expect(action(flaky.id)).toMatchObject({ status: "completed", attempts: 3, error: null });
    expect(action(bad.id)).toMatchObject({ status: "failed", attempts: 1, errorCode: "http_400" });
    expect(event.error).toContain(bad.id);
    expect(receiver.at(`/${collection}/flaky`)).toHaveLength(3);
    expect(receiver.at(`/${collection}/bad`)).toHaveLength(1);
  });

  it("renders payload templates and templated custom headers", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `tpl-${collection}`, collection });
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}`,
      method: "put",
      headers: { "x-record": "{{ event.recordId }}" },
      payload: {
        text: "order {{event.recordId}} of {{ data.customer }}",
        total: "{{ data.total }}",
        tags: "{{data.tags}}",
        missing: "{{ data.nope }}",
      },
    });
    const id = await postEvent(stack, {
      collection,
      recordId: "o-7",
      data: { customer: "ada", total: 12.5, tags: ["a", "b"] },
    });
    await waitForEvent(stack, id);
    const [request] = receiver.at(`/${collection}`);
    expect(request!.method).toBe("PUT");
    expect(request!.headers["x-record"]).toBe("o-7");
    expect(request!.json).toEqual({ text: "order o-7 of ada", total: 12.5, tags: ["a", "b"], missing: null });
  });

  it("answers an Idempotency-Key repeat with the first event's id and creates nothing", async () => {
    const collection = fresh();
    const key = `key-${collection}`;
    const first = await postEvent(stack, { collection }, { idempotencyKey: key });
    const again = await postEvent(stack, { collection }, { idempotencyKey: key });
    expect(again).toBe(first);
    expect(await stack.deps.db.eventLog.count({ where: { collection } })).toBe(1);
  });

  it("ingests a batch all or nothing", async () => {
    const collection = fresh();
    const ok = await stack.api("POST", "/events/batch", {
      events: [1, 2, 3].map((i) => ({ type: "collection.created", collection, recordId: `r${i}`, data: { i } })),
    });
    expect(expectStatus(ok, 202).ids).toHaveLength(3);
    const bad = await stack.api("POST", "/events/batch", {
      events: [
        { type: "collection.created", collection, recordId: "r4", data: {} },
        { type: "collection.exploded", collection, recordId: "r5", data: {} },
      ],
    });
    expect(expectError(bad, 400, "invalid_request").message).toContain("events[1].type");
    expect(await stack.deps.db.eventLog.count({ where: { collection } })).toBe(3);
  });

  it("sends a signed test delivery and records it as a test attempt, not an event", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `test-${collection}`, collection });
    const hook = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/${collection}` });
    // The receiver takes its time, so the measured duration can be checked against it.
    const delayMs = 200;
    receiver.respond(() => ({ status: 202, body: "y".repeat(10_000), delayMs }));
    const eventsBefore = await stack.deps.db.eventLog.count();

    const res = await stack.api("POST", `/webhooks/${hook.id}/test`, { data: { total: 1 } });
    const sent = expectStatus(res, 200);
    expect(sent).toMatchObject({ ok: true, status: 202, error: null });
    expect(sent.responseBody).toBe("y".repeat(4096));
    expect(sent.durationMs).toBeGreaterThanOrEqual(delayMs);
    const [request] = receiver.at(`/${collection}`);
    expect(verify(hook.secret, request!)).toMatchObject({ type: "collection.created", collection, data: { total: 1 } });
    expect(await stack.deps.db.eventLog.count()).toBe(eventsBefore);

    const deliveries = expectStatus(await stack.api("GET", `/webhooks/${hook.id}/deliveries`), 200);
    expect(deliveries.data).toEqual([
      expect.objectContaining({ eventId: null, test: true, ok: true, status: 202, attempt: 1 }),
    ]);
  });

  it("shows the secret only on create and rotate, and signs with both secrets after a rotation", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `rot-${collection}`, collection });
    const hook = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/${collection}` });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{40,}={0,2}$/);
    expect(Buffer.from(hook.secret.slice(6), "base64").length).toBeGreaterThanOrEqual(24);
    expect(expectStatus(await stack.api("GET", `/webhooks/${hook.id}`), 200)).not.toHaveProperty("secret");
    const listed = expectStatus(await stack.api("GET", "/webhooks"), 200).data;
    expect(listed.every((w) => !("secret" in w))).toBe(true);

    const rotated = expectStatus(await stack.api("POST", `/webhooks/${hook.id}/rotate-secret`), 200);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(hook.secret);

    const id = await postEvent(stack, { collection });
    await waitForEvent(stack, id);
    const [request] = receiver.at(`/${collection}`);
    expect(String(request!.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verify(rotated.secret, request!)).toEqual(request!.json);
    expect(verify(hook.secret, request!)).toEqual(request!.json);
  });

  it("replays a failed event's actions", async () => {
    const collection = fresh();
    const definition = await createDefinition(stack, { name: `replay-${collection}`, collection });
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/${collection}`,
      retry: { maxAttempts: 1 },
    });
    receiver.respond(() => ({ status: 503 }));
    const id = await postEvent(stack, { collection });
    await waitForEvent(stack, id, ["failed"]);

    receiver.respond(() => ({ status: 200 }));
    expectStatus(await stack.api("POST", `/events/${id}/replay`), 202);
    const event = await waitForEvent(stack, id, ["completed"]);
    expect(event.actions[0]).toMatchObject({ status: "completed" });
    expect(receiver.at(`/${collection}`)).toHaveLength(2);
    expectError(await stack.api("POST", "/events/evt_nope/replay"), 404, "not_found");
  });

  it("lists the event log with filters", async () => {
    const collection = fresh();
    const ids: string[] = [];
    for (const recordId of ["a", "b", "a"]) ids.push(await postEvent(stack, { collection, recordId }));
    await Promise.all(ids.map((id) => waitForEvent(stack, id)));
    const byRecord = expectStatus(await stack.api("GET", `/events?collection=${collection}&recordId=a`), 200);
    expect(byRecord.data.map((e) => e.id)).toEqual([ids[2], ids[0]]);
    const page = expectStatus(await stack.api("GET", `/events?collection=${collection}&limit=2&status=completed`), 200);
    expect(page.data).toHaveLength(2);
    expect(page.nextCursor).toBe(ids[1]);
    const rest = expectStatus(
      await stack.api("GET", `/events?collection=${collection}&limit=2&cursor=${page.nextCursor}`),
      200,
    );
    expect(rest.data.map((e) => e.id)).toEqual([ids[0]]);
    expect(rest.nextCursor).toBeNull();
    const future = expectStatus(
      await stack.api("GET", `/events?collection=${collection}&since=2999-01-01T00:00:00Z`),
      200,
    );
    expect(future.data).toEqual([]);
    expectError(await stack.api("GET", "/events?status=weird"), 400, "invalid_request");
  });
});
