// Operational events: tetik's own happenings as collection.created events in the reserved collection
// `tetik`, delivered to webhooks of definitions on it like any other event; none about delivering one of
// them (no loops); nothing written to `tetik` through the API.
import { describe, expect, it } from "vitest";
import type { BodyOf } from "../functions/client/index.ts";
import {
  announceOperationalEvents,
  emitOperationalEvent,
  FAILING_AFTER,
} from "../functions/domain/operational/operational-events.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started), { env: { TRIGGER_MAX_RECORDS: "1" } });

let n = 0;
/** A definition on a collection of its own and one webhook to `path` on the receiver. */
async function hookFor(path: string, webhook: Omit<BodyOf<"createWebhook">, "definitionId" | "url"> = {}) {
  const collection = `ops${++n}`;
  const definition = await createDefinition(stack, { name: `watched-${n}`, collection });
  const hook = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}${path}`, ...webhook });
  return { collection, definition, hook };
}

/** A definition on `tetik` with `condition` and a webhook to `path`, as an operator would watch tetik. */
async function subscribe(
  path: string,
  condition: Record<string, unknown>,
  webhook: Omit<BodyOf<"createWebhook">, "definitionId" | "url"> = {},
) {
  const definition = await createDefinition(stack, { name: `ops-watch-${++n}`, collection: "tetik", condition });
  return createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}${path}`, ...webhook });
}

/** The operational events about `recordId` (a webhook, or an event), oldest first. */
/**
 * The operational events about one webhook, event or key, oldest first, but the config.changed reports of
 * the changes this file makes to set its cases up (test/audit.test.ts covers those).
 */
async function operationalAbout(recordId: string) {
  const page = await stack.client.events.list({ collection: "tetik", recordId, limit: 200 });
  return page.data.toReversed().filter((event) => (event.data as { kind: string }).kind !== "config.changed");
}

const kindOf = (event: { data: unknown }) => (event.data as { kind: string }).kind;

describe("operational events", () => {
  it("reports a webhook turned off by a 410 as webhook.disabled to a chat webhook, through a template", async () => {
    const { collection, hook } = await hookFor("/gone", { retry: { maxAttempts: 5, delayMs: 10 } });
    // The README's example, narrowed to this test's webhook.
    const chat = await subscribe(
      "/chat",
      { "data.kind": { $in: ["webhook.disabled", "delivery.exhausted"] }, "data.webhookId": hook.id },
      {
        payload: {
          text: "tetik {{data.kind}} ({{event.recordId}}): {{data.webhookUrl}}: {{data.reason}}{{data.error}}",
        },
      },
    );
    receiver.respond((req) => (req.path === "/gone" ? { status: 410 } : { status: 200 }));
    const id = await postEvent(stack, { collection });
    expect((await waitForEvent(stack, id, ["failed"])).actions[0]).toMatchObject({ errorCode: "http_410" });

    const texts = await waitFor(() => {
      const got = receiver.at("/chat").map((r) => (r.json as { text: string }).text);
      return got.length === 2 ? got.sort() : undefined;
    });
    expect(texts).toEqual([
      `tetik delivery.exhausted (${id}): ${receiver.url}/gone: the receiver answered 410`,
      `tetik webhook.disabled (${hook.id}): ${receiver.url}/gone: the receiver answered 410 Gone`,
    ]);

    const [logged] = await operationalAbout(hook.id);
    expect(logged).toMatchObject({
      type: "collection.created",
      collection: "tetik",
      recordId: hook.id,
      data: { kind: "webhook.disabled", webhookId: hook.id, consecutiveFailures: 1 },
    });
    // The chat's own delivery completed, and made nothing more.
    expect((await waitForEvent(stack, logged!.id)).status).toBe("completed");
    expect(await operationalAbout(chat.id)).toEqual([]);
  });

  it("reports an action that failed for good as delivery.exhausted, caused by its event", async () => {
    const { collection, hook } = await hookFor("/broken", { retry: { maxAttempts: 2, backoff: "fixed", delayMs: 10 } });
    await subscribe("/ops-exhausted", { "data.kind": "delivery.exhausted", "data.webhookId": hook.id });
    receiver.respond((req) => (req.path === "/broken" ? { status: 500, body: "down" } : { status: 200 }));
    const id = await postEvent(stack, { collection, recordId: "o-7" });
    expect((await waitForEvent(stack, id, ["failed"])).actions[0]).toMatchObject({ id: hook.id, attempts: 2 });

    const [delivered] = await waitFor(() => {
      const got = receiver.at("/ops-exhausted");
      return got.length > 0 ? got : undefined;
    });
    expect(delivered!.json).toMatchObject({
      type: "collection.created",
      collection: "tetik",
      recordId: id,
      data: {
        kind: "delivery.exhausted",
        eventId: id,
        collection,
        recordId: "o-7",
        // The action's id: the webhook-id its deliveries carried.
        actionId: receiver.at("/broken")[0]!.headers["webhook-id"],
        actionKind: "webhook",
        webhookId: hook.id,
        webhookUrl: `${receiver.url}/broken`,
        errorCode: "http_500",
        attempts: 2,
        httpStatus: 500,
      },
    });
    const logged = await operationalAbout(id);
    expect(logged.map(kindOf)).toEqual(["delivery.exhausted"]);
    expect(logged[0]).toMatchObject({ causationId: id, depth: 1 });
  });

  it("reports each failed action of an event once, and one that failed because its webhook was off", async () => {
    const collection = `ops${++n}`;
    const definition = await createDefinition(stack, { name: `watched-${n}`, collection });
    const retry = { maxAttempts: 2, backoff: "fixed", delayMs: 10 } as const;
    const a = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/broken-a`, retry });
    // Its retry waits 3 s, in which it is turned off: the retry fails it without a request.
    const b = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/broken-b`,
      retry: { ...retry, delayMs: 3000 },
    });
    receiver.respond((req) => (req.path.startsWith("/broken-") ? { status: 500 } : { status: 200 }));
    const id = await postEvent(stack, { collection });
    await waitFor(() => receiver.at("/broken-b")[0]);
    await stack.client.webhooks.update(b.id, { active: false });
    const event = await waitForEvent(stack, id, ["failed"]);
    expect(receiver.at("/broken-b")).toHaveLength(1);

    const reports = await operationalAbout(id);
    expect(reports.map((r) => r.data).sort((x, y) => String(x.webhookId).localeCompare(String(y.webhookId)))).toEqual(
      [
        { webhookId: a.id, errorCode: "http_500", attempts: 2 },
        { webhookId: b.id, errorCode: "webhook_inactive", attempts: 1 },
      ]
        .sort((x, y) => x.webhookId.localeCompare(y.webhookId))
        .map((fields) => expect.objectContaining({ kind: "delivery.exhausted", eventId: id, ...fields })),
    );
    expect(event.actions.map((action) => action.status)).toEqual(["failed", "failed"]);
  });

  it("reports a trigger that failed for good as delivery.exhausted", async () => {
    const collection = `ops${++n}`;
    const definition = await createDefinition(stack, { name: `watched-${n}`, collection });
    // TRIGGER_MAX_RECORDS is 1 here: a delete selecting two records fails with too_many_records.
    const trigger = await stack.client.triggers.create(definition.id, {
      action: "delete",
      targetCollection: `${collection}_items`,
      filter: { group: "a" },
    });
    await subscribe("/ops-trigger", { "data.kind": "delivery.exhausted", "data.triggerId": trigger.id });
    for (const id of ["i-1", "i-2"])
      expectStatus(
        await stack.api("POST", `/collections/${collection}_items/records`, { id, data: { group: "a" } }),
        201,
      );
    const id = await postEvent(stack, { collection });
    expect((await waitForEvent(stack, id, ["failed"])).actions[0]).toMatchObject({ errorCode: "too_many_records" });
    const [delivered] = await waitFor(() => {
      const got = receiver.at("/ops-trigger");
      return got.length > 0 ? got : undefined;
    });
    expect(delivered!.json).toMatchObject({
      recordId: id,
      data: { kind: "delivery.exhausted", actionKind: "trigger", triggerId: trigger.id, errorCode: "too_many_records" },
    });
  });

  it(`reports ${FAILING_AFTER} failures in a row as webhook.failing, a success as webhook.recovered`, async () => {
    const { collection, hook } = await hookFor("/flaky", { retry: { maxAttempts: 1 } });
    await subscribe("/ops-health", {
      "data.kind": { $in: ["webhook.failing", "webhook.recovered"] },
      "data.webhookId": hook.id,
    });
    receiver.respond((req) => (req.path === "/flaky" ? { status: 503 } : { status: 200 }));
    for (let i = 0; i < FAILING_AFTER - 1; i++) await waitForEvent(stack, await postEvent(stack, { collection }));
    // One short of the threshold: not failing yet (the health of each failure is written before the next).
    await waitFor(async () => (await stack.client.webhooks.get(hook.id)).health.consecutiveFailures === 4 || undefined);
    expect((await operationalAbout(hook.id)).map(kindOf)).toEqual([]);

    await waitForEvent(stack, await postEvent(stack, { collection }));
    const failing = await waitFor(() => receiver.at("/ops-health")[0]);
    expect(failing.json).toMatchObject({
      recordId: hook.id,
      data: { kind: "webhook.failing", consecutiveFailures: FAILING_AFTER, lastError: expect.stringContaining("503") },
    });

    receiver.respond(() => ({ status: 200 }));
    await waitForEvent(stack, await postEvent(stack, { collection }));
    const recovered = await waitFor(() => receiver.at("/ops-health")[1]);
    expect(recovered.json).toMatchObject({
      recordId: hook.id,
      data: { kind: "webhook.recovered", failuresBefore: FAILING_AFTER },
    });
    // One of each: the later success and failures below the threshold report nothing more.
    await waitForEvent(stack, await postEvent(stack, { collection }));
    expect((await operationalAbout(hook.id)).map(kindOf)).toEqual(["webhook.failing", "webhook.recovered"]);
  });

  it("makes no operational event about delivering one: a subscriber failing for good stays quiet", async () => {
    const { collection, hook } = await hookFor("/down", { retry: { maxAttempts: 1 } });
    const subscriber = await subscribe(
      "/ops-down",
      { "data.kind": "delivery.exhausted", "data.webhookId": hook.id },
      { retry: { maxAttempts: 1 } },
    );
    receiver.respond((req) => (req.path === "/down" || req.path === "/ops-down" ? { status: 500 } : { status: 200 }));
    const ids: string[] = [];
    for (let i = 0; i < FAILING_AFTER; i++) ids.push(await postEvent(stack, { collection }));
    for (const id of ids) await waitForEvent(stack, id, ["failed"]);

    // Each failure is reported once; each report's delivery to the subscriber fails for good too.
    const reports = await waitFor(async () => {
      const found = (await Promise.all(ids.map(operationalAbout))).flat();
      return found.length === ids.length ? found : undefined;
    });
    for (const report of reports) expect((await waitForEvent(stack, report.id, ["failed"])).status).toBe("failed");
    expect(receiver.at("/ops-down")).toHaveLength(FAILING_AFTER);
    // Health counts the failures (written in the transaction that would report them): the watched webhook's
    // and the subscriber's...
    for (const webhook of [hook, subscriber])
      await waitFor(async () => {
        const health = (await stack.client.webhooks.get(webhook.id)).health;
        return health.consecutiveFailures === FAILING_AFTER || undefined;
      });
    // ...and nothing reports them: no webhook.failing about the subscriber, no delivery.exhausted about reports.
    expect(await operationalAbout(subscriber.id)).toEqual([]);
    for (const report of reports) expect(await operationalAbout(report.id)).toEqual([]);
    const all = await stack.client.events.list({ collection: "tetik", limit: 200 });
    const aboutThis = all.data.filter(
      (e) =>
        kindOf(e) !== "config.changed" &&
        ([subscriber.id, hook.id, ...ids].includes(e.recordId) || reports.some((r) => r.id === e.recordId)),
    );
    expect(aboutThis.map(kindOf).sort()).toEqual(
      Array(FAILING_AFTER).fill("delivery.exhausted").concat("webhook.failing"),
    );
  });

  it("takes config.changed from another writer's transaction (the audit trail's hook)", async () => {
    const target = await createDefinition(stack, { name: `audited-${++n}`, collection: `ops${n}` });
    await subscribe("/ops-config", { "data.kind": "config.changed", "data.target.id": target.id });
    const emitted = await stack.deps.db.$transaction((tx) =>
      emitOperationalEvent(tx, {
        kind: "config.changed",
        recordId: target.id,
        data: { action: "definition.update", target: { kind: "definition", id: target.id }, keyId: null },
      }),
    );
    await announceOperationalEvents(stack.deps, [emitted]);
    const [delivered] = await waitFor(() => {
      const got = receiver.at("/ops-config");
      return got.length > 0 ? got : undefined;
    });
    expect(delivered!.json).toMatchObject({
      collection: "tetik",
      recordId: target.id,
      data: { kind: "config.changed", action: "definition.update", target: { id: target.id } },
    });
  });
});

describe("the reserved collection tetik", () => {
  const reserved = (error: { message: string; details?: unknown }) =>
    expect(JSON.stringify(error)).toContain('\\"tetik\\" is reserved');

  it("refuses events into tetik, alone or in a batch, and stores nothing", async () => {
    const event = {
      type: "collection.created",
      collection: "tetik",
      recordId: "x",
      data: { kind: "webhook.disabled" },
    };
    reserved(expectError(await stack.api("POST", "/events", event), 400, "invalid_request"));
    const batch = { events: [{ ...event, collection: "ops_refused" }, event] };
    reserved(expectError(await stack.api("POST", "/events/batch", batch), 400, "invalid_request"));
    expect((await stack.client.events.list({ collection: "ops_refused" })).data).toEqual([]);
    expect((await stack.client.events.list({ collection: "tetik", recordId: "x" })).data).toEqual([]);
  });

  it("refuses record writes to tetik", async () => {
    reserved(
      expectError(await stack.api("POST", "/collections/tetik/records", { data: { a: 1 } }), 400, "invalid_request"),
    );
    reserved(
      expectError(
        await stack.api("PATCH", "/collections/tetik/records/r-1", { data: { a: 1 } }),
        400,
        "invalid_request",
      ),
    );
    reserved(expectError(await stack.api("DELETE", "/collections/tetik/records/r-1"), 400, "invalid_request"));
    expect((await stack.client.events.list({ collection: "tetik", recordId: "r-1" })).data).toEqual([]);
  });

  it("refuses a trigger that writes to tetik, and keeps none", async () => {
    const definition = await createDefinition(stack, { name: `trigger-owner-${++n}`, collection: `ops${n}` });
    const body = { action: "create", targetCollection: "tetik", data: { kind: "webhook.disabled" } };
    reserved(
      expectError(await stack.api("POST", `/definitions/${definition.id}/triggers`, body), 400, "invalid_request"),
    );
    const ok = expectStatus(
      await stack.api("POST", `/definitions/${definition.id}/triggers`, { ...body, targetCollection: "audit" }),
      201,
    );
    reserved(
      expectError(
        await stack.api("PATCH", `/triggers/${ok.id}`, { targetCollection: "tetik" }),
        400,
        "invalid_request",
      ),
    );
    const after = await stack.client.definitions.get(definition.id);
    expect(after.triggers.map((t) => t.targetCollection)).toEqual(["audit"]);
  });
});
