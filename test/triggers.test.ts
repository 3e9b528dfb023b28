// Triggers: records written in reaction to events, their own events, chains and their limit, and
// at-least-once processing without double effects.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../functions/domain/delivery/run-action.ts";
import { matchEvent } from "../functions/domain/delivery/match-event.ts";
import { withRuntime } from "../functions/worker/delivery-runtime.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack; // defaults
let limited: TestStack; // TRIGGER_MAX_DEPTH=3, TRIGGER_MAX_RECORDS=5
let idle: TestStack; // no worker: the test runs the jobs itself
let receiver: Receiver;
beforeAll(async () => {
  [stack, limited, idle, receiver] = await Promise.all([
    startStack(),
    startStack({ env: { TRIGGER_MAX_DEPTH: "3", TRIGGER_MAX_RECORDS: "5" } }),
    startStack({ worker: false }),
    startReceiver(),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), limited?.stop(), idle?.stop(), receiver?.close()]);
});

async function addTrigger(s: TestStack, definitionId: string, body: Record<string, unknown>) {
  return expectStatus(await s.api("POST", `/definitions/${definitionId}/triggers`, body), 201);
}

/** The event a record write made: every create and delete makes one, a patch when it changed something. */
function eventOf(written: { eventId: string | null }): string {
  expect(written.eventId, "the write made no event").toMatch(/^evt_/);
  return written.eventId ?? "";
}

async function putRecord(s: TestStack, collection: string, id: string, data: Record<string, unknown>) {
  const record = expectStatus(await s.api("POST", `/collections/${collection}/records`, { id, data }), 201);
  return { eventId: eventOf(record) };
}

const records = async (s: TestStack, collection: string) =>
  (await s.deps.db.record.findMany({ where: { collection }, orderBy: { id: "asc" } })).map((r) => ({
    id: r.id,
    data: r.data,
  }));

describe("triggers", () => {
  it("runs a chain orders -> audit -> stats through the HTTP API, with causation and depth", async () => {
    const orders = await createDefinition(stack, {
      name: "big-orders",
      type: "collection.created",
      collection: "orders",
      condition: { "data.total": { $gt: 100 } },
    });
    await addTrigger(stack, orders.id, {
      action: "create",
      targetCollection: "audit",
      data: { orderId: "{{event.recordId}}", total: "{{data.total}}", note: "order {{event.recordId}}" },
    });
    const audit = await createDefinition(stack, {
      name: "audit-created",
      type: "collection.created",
      collection: "audit",
    });
    await addTrigger(stack, audit.id, {
      action: "update",
      targetCollection: "stats",
      filter: { name: "totals" },
      data: { lastOrder: "{{data.orderId}}", lastTotal: "{{data.total}}" },
    });
    await putRecord(stack, "stats", "totals", { name: "totals", lastOrder: null });

    const big = await putRecord(stack, "orders", "o-1", { total: 150 });
    const small = await putRecord(stack, "orders", "o-2", { total: 50 });

    const first = await waitForEvent(stack, big.eventId);
    expect(first).toMatchObject({ status: "completed", depth: 0, causationId: null });
    expect(first.actions).toEqual([
      expect.objectContaining({
        kind: "trigger",
        status: "completed",
        attempts: 1,
        result: expect.objectContaining({ recordsAffected: 1 }),
      }),
    ]);
    expect((await waitForEvent(stack, small.eventId)).actions).toEqual([]);

    const auditRecords = await records(stack, "audit");
    expect(auditRecords).toEqual([
      { id: expect.stringMatching(/^rec_/), data: { orderId: "o-1", total: 150, note: "order o-1" } },
    ]);

    const stats = await waitFor(async () => {
      const r = await stack.client.collection("stats").get("totals");
      return r.data.lastOrder === "o-1" ? r : undefined;
    });
    expect(stats.data).toEqual({ name: "totals", lastOrder: "o-1", lastTotal: 150 });
    expect(await records(stack, "stats")).toEqual([{ id: "totals", data: stats.data }]);

    const [auditEvent] = (await stack.client.events.list({ collection: "audit" })).data;
    expect(auditEvent).toMatchObject({
      type: "collection.created",
      causationId: big.eventId,
      depth: 1,
      recordId: auditRecords[0]!.id,
    });
    const statsEvent = await waitFor(
      async () => (await stack.client.events.list({ collection: "stats", type: "collection.updated" })).data[0],
    );
    expect(statsEvent).toMatchObject({
      causationId: auditEvent!.id,
      depth: 2,
      changedFields: ["lastOrder", "lastTotal"],
      previous: { name: "totals", lastOrder: null },
    });
  });

  it("updates and deletes records chosen by templated filters, touching only those", async () => {
    for (const [id, customerId] of [
      ["a", "c-1"],
      ["b", "c-1"],
      ["c", "c-2"],
    ])
      await putRecord(stack, "purchases", id!, { customerId, customerName: "?" });
    const renamed = await createDefinition(stack, {
      name: "customer-renamed",
      type: "field.updated",
      collection: "customers",
      fields: ["name"],
    });
    await addTrigger(stack, renamed.id, {
      action: "update",
      targetCollection: "purchases",
      filter: { customerId: "{{event.recordId}}" },
      data: { customerName: "{{data.name}}" },
    });
    const removed = await createDefinition(stack, {
      name: "customer-removed",
      type: "collection.deleted",
      collection: "customers",
    });
    await addTrigger(stack, removed.id, {
      action: "delete",
      targetCollection: "purchases",
      filter: { customerId: "{{ event.recordId }}" },
    });

    await putRecord(stack, "customers", "c-1", { name: "Ada" });
    const patch = await stack.client.collection("customers").patch("c-1", { name: "Ada L." });
    const updated = await waitForEvent(stack, eventOf(patch));
    expect(updated.actions[0]).toMatchObject({
      kind: "trigger",
      status: "completed",
      result: { recordsAffected: 2, recordIds: ["a", "b"] },
    });
    expect(await records(stack, "purchases")).toEqual([
      { id: "a", data: { customerId: "c-1", customerName: "Ada L." } },
      { id: "b", data: { customerId: "c-1", customerName: "Ada L." } },
      { id: "c", data: { customerId: "c-2", customerName: "?" } },
    ]);

    await stack.client.collection("customers").delete("c-1");
    const [deletedEvent] = (await stack.client.events.list({ collection: "customers", type: "collection.deleted" }))
      .data;
    const deleted = await waitForEvent(stack, deletedEvent!.id);
    expect(deleted.actions[0]).toMatchObject({ status: "completed", result: { recordsAffected: 2 } });
    expect(await records(stack, "purchases")).toEqual([{ id: "c", data: { customerId: "c-2", customerName: "?" } }]);
    const purchaseEvents = (await stack.client.events.list({ collection: "purchases", type: "collection.deleted" }))
      .data;
    expect(purchaseEvents.map((e) => e.recordId).sort()).toEqual(["a", "b"]);
    expect(purchaseEvents.every((e) => e.causationId === deletedEvent!.id && e.depth === 1)).toBe(true);
  });

  it("ends a loop A -> B -> A at TRIGGER_MAX_DEPTH with chain_depth_exceeded in the log", async () => {
    const ping = await createDefinition(limited, { name: "ping", type: "collection.created", collection: "ping" });
    await addTrigger(limited, ping.id, {
      action: "create",
      targetCollection: "pong",
      data: { from: "{{event.recordId}}" },
    });
    const pong = await createDefinition(limited, { name: "pong", type: "collection.created", collection: "pong" });
    await addTrigger(limited, pong.id, {
      action: "create",
      targetCollection: "ping",
      data: { from: "{{event.recordId}}" },
    });

    await putRecord(limited, "ping", "start", {});
    const stuck = await waitFor(
      async () => {
        const failed = await limited.client.events.list({ status: "failed" });
        return failed.data.find((e) => e.depth === 3);
      },
      { what: "the event at the depth limit to fail" },
    );
    expect(stuck.actions[0]).toMatchObject({ kind: "trigger", status: "failed", errorCode: "chain_depth_exceeded" });
    expect(stuck.error).toContain("TRIGGER_MAX_DEPTH (3)");
    // depth 0 (the API write) .. 3: four events, four records, nothing more.
    const all = (await limited.client.events.list({ limit: 50 })).data.filter((e) =>
      ["ping", "pong"].includes(e.collection),
    );
    expect(all.map((e) => e.depth).sort()).toEqual([0, 1, 2, 3]);
    expect((await records(limited, "ping")).length + (await records(limited, "pong")).length).toBe(4);
  });

  it("fails an update trigger that would touch more than TRIGGER_MAX_RECORDS, writing nothing", async () => {
    for (let i = 0; i < 6; i++) await putRecord(limited, "crowd", `p${i}`, { group: "g" });
    const def = await createDefinition(limited, { name: "crowd-update", collection: "crowd_signal" });
    await addTrigger(limited, def.id, {
      action: "update",
      targetCollection: "crowd",
      filter: { group: "g" },
      data: { seen: true },
    });
    const signal = await putRecord(limited, "crowd_signal", "s", {});
    const event = await waitForEvent(limited, signal.eventId);
    expect(event.actions[0]).toMatchObject({ status: "failed", errorCode: "too_many_records" });
    // Not one of the six records was touched.
    expect((await records(limited, "crowd")).map((r) => r.data)).toEqual(
      Array.from({ length: 6 }, () => ({ group: "g" })),
    );
  });

  it("runs a trigger once however often its job runs, in turn or at once", async () => {
    const def = await createDefinition(idle, { name: "dup", collection: "dup_source" });
    await addTrigger(idle, def.id, { action: "create", targetCollection: "dup_target", data: { n: "{{data.n}}" } });
    const id = await postEvent(idle, { collection: "dup_source", recordId: "x", data: { n: 1 } });
    const deps = withRuntime(idle.deps);
    // The same job twice at once (a stalled job taken over while still running), then once more later.
    await Promise.all([matchEvent(deps, id), matchEvent(withRuntime(idle.deps), id)]);
    await matchEvent(deps, id);
    const actions = await idle.deps.db.eventAction.findMany({ where: { eventId: id } });
    expect(actions).toHaveLength(1);
    // And the action's own job, run again after it finished.
    await Promise.all([runAction(deps, actions[0]!.id), runAction(deps, actions[0]!.id)]);

    expect(await records(idle, "dup_target")).toEqual([{ id: expect.stringMatching(/^rec_/), data: { n: 1 } }]);
    expect(await idle.deps.db.eventLog.count({ where: { collection: "dup_target" } })).toBe(1);
    const action = await idle.deps.db.eventAction.findUniqueOrThrow({ where: { id: actions[0]!.id } });
    expect(action).toMatchObject({ status: "completed", attempts: 1 });
    expect((await idle.client.events.get(id)).status).toBe("completed");
  });

  it("keeps a trigger's success when a webhook of the same definition fails", async () => {
    const def = await createDefinition(stack, { name: "mixed", collection: "mixed" });
    await addTrigger(stack, def.id, {
      action: "create",
      targetCollection: "mixed_log",
      data: { seen: "{{event.recordId}}" },
    });
    await createWebhook(stack, {
      definitionId: def.id,
      url: `${receiver.url}/mixed`,
      retry: { maxAttempts: 3, delayMs: 20, backoff: "fixed" },
    });
    receiver.respond(() => ({ status: 500 }));
    const source = await putRecord(stack, "mixed", "m-1", {});
    const event = await waitForEvent(stack, source.eventId, ["failed"]);
    receiver.respond(() => ({ status: 200 }));
    const kinds = Object.fromEntries(event.actions.map((a) => [a.kind, a]));
    expect(kinds.trigger).toMatchObject({ status: "completed", attempts: 1 });
    expect(kinds.webhook).toMatchObject({ status: "failed", attempts: 3 });
    expect(await records(stack, "mixed_log")).toHaveLength(1);
    expect(receiver.at("/mixed")).toHaveLength(3);
  });

  it("refuses bad triggers with 400s naming the problem", async () => {
    const def = await createDefinition(stack, { name: "bad-triggers", collection: "bad" });
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ action: "create", targetCollection: "x" }, "data"],
      [{ action: "update", targetCollection: "x", data: { a: 1 } }, "filter"],
      [{ action: "delete", targetCollection: "x" }, "filter"],
      [{ action: "delete", targetCollection: "x", filter: {} }, "empty filter"],
      [{ action: "delete", targetCollection: "x", filter: { a: { $near: 1 } } }, "unknown operator $near"],
      [{ action: "create", targetCollection: "x", data: { a: "{{ require('fs') }}" } }, "not a path"],
      [{ action: "create", targetCollection: "x", data: { a: "{{ env.HOME }}" } }, "must start with"],
      [{ action: "merge", targetCollection: "x", data: {} }, "action"],
      [{ action: "create", targetCollection: "Not Valid", data: {} }, "targetCollection"],
    ];
    for (const [body, message] of cases) {
      const res = await stack.api("POST", `/definitions/${def.id}/triggers`, body);
      expect(expectError(res, 400, "invalid_request").message, JSON.stringify(body)).toContain(message);
    }
    expectError(
      await stack.api("POST", "/definitions/def_missing/triggers", {
        action: "create",
        targetCollection: "x",
        data: {},
      }),
      404,
      "not_found",
    );
    expect(await stack.deps.db.eventTrigger.count({ where: { definitionId: def.id } })).toBe(0);

    const trigger = await addTrigger(stack, def.id, { action: "create", targetCollection: "x", data: { a: 1 } });
    expectError(await stack.api("PATCH", `/triggers/${trigger.id}`, { action: "update" }), 400, "invalid_request");
    const patched = await stack.api("PATCH", `/triggers/${trigger.id}`, {
      action: "update",
      filter: { a: 1 },
      active: false,
    });
    expect(expectStatus(patched, 200)).toMatchObject({
      action: "update",
      filter: { a: 1 },
      data: { a: 1 },
      active: false,
    });
    const definition = expectStatus(await stack.api("GET", `/definitions/${def.id}`), 200);
    expect(definition.triggers.map((t) => t.id)).toEqual([trigger.id]);
    expectStatus(await stack.api("DELETE", `/triggers/${trigger.id}`), 204);
    expectError(await stack.api("GET", `/triggers/${trigger.id}`), 404, "not_found");
  });

  it("runs the triggers of events processed together in one commit, and one that fails costs only itself", async () => {
    const def = await createDefinition(stack, { name: "fan-out", collection: "fan_src" });
    await addTrigger(stack, def.id, { action: "create", targetCollection: "fan_dst", data: { v: "{{data.v}}" } });
    await stack.owner.query(
      `ALTER TABLE records ADD CONSTRAINT no_poison_fan CHECK (NOT (collection = 'fan_dst' AND data->>'v' = 'poison'))`,
    );
    try {
      const sources = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          putRecord(stack, "fan_src", `s-${i}`, { v: i === 5 ? "poison" : `v${i}` }),
        ),
      );
      const done = await Promise.all(sources.filter((_, i) => i !== 5).map((s) => waitForEvent(stack, s.eventId)));
      for (const event of done) {
        expect(event.status).toBe("completed");
        expect(event.actions[0]?.result).toMatchObject({ recordsAffected: 1 });
      }
      // One record for each source but the poisoned one, in whatever order they were written.
      const copies = (await records(stack, "fan_dst")).map((r) => r.data);
      expect(copies).toHaveLength(11);
      expect(copies).toEqual(
        expect.arrayContaining(
          ["v0", "v1", "v10", "v11", "v2", "v3", "v4", "v6", "v7", "v8", "v9"].map((v) => ({ v })),
        ),
      );
      const poisoned = await stack.deps.db.eventAction.findFirst({ where: { eventId: sources[5]!.eventId } });
      expect(poisoned?.status).not.toBe("completed");
    } finally {
      await stack.owner.query(`ALTER TABLE records DROP CONSTRAINT no_poison_fan`);
    }
  });
});
