// The collections API: records and the collection.* events their writes emit, in one transaction.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecordWriter } from "../functions/domain/collections/record-writer.ts";
import { changedFields } from "../functions/domain/events/changed-fields.ts";
import { createDefinition, createWebhook, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [stack, receiver] = await Promise.all([startStack(), startReceiver()]);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

describe("collections", () => {
  it("creates, reads, patches (merging) and deletes records, each write with its event", async () => {
    const created = await stack.api("POST", "/collections/orders/records", {
      id: "o-1",
      data: { status: "new", total: 10 },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: "o-1", collection: "orders", data: { status: "new", total: 10 } });
    const createdEvent = await waitForEvent(stack, created.body.eventId);
    expect(createdEvent).toMatchObject({
      type: "collection.created",
      collection: "orders",
      recordId: "o-1",
      data: { status: "new", total: 10 },
      status: "completed",
    });

    const patched = await stack.api("PATCH", "/collections/orders/records/o-1", { data: { status: "paid" } });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toEqual({ status: "paid", total: 10 });
    const updatedEvent = await waitForEvent(stack, patched.body.eventId);
    expect(updatedEvent).toMatchObject({
      type: "collection.updated",
      data: { status: "paid", total: 10 },
      previous: { status: "new", total: 10 },
      changedFields: ["status"],
    });

    // A patch that changes nothing writes nothing and reports nothing.
    const same = await stack.api("PATCH", "/collections/orders/records/o-1", { data: { status: "paid" } });
    expect(same.status).toBe(200);
    expect(same.body.eventId).toBeNull();

    expect((await stack.api("GET", "/collections/orders/records/o-1")).body.data).toEqual({
      status: "paid",
      total: 10,
    });
    expect((await stack.api("DELETE", "/collections/orders/records/o-1")).status).toBe(204);
    expect((await stack.api("GET", "/collections/orders/records/o-1")).status).toBe(404);
    const deletedEvents = await stack.api("GET", "/events?collection=orders&recordId=o-1&type=collection.deleted");
    expect(deletedEvents.body.data).toEqual([
      expect.objectContaining({ type: "collection.deleted", data: { status: "paid", total: 10 } }),
    ]);
  });

  it("refuses a duplicate id with 409 and writes no event for it", async () => {
    await stack.api("POST", "/collections/dups/records", { id: "d-1", data: {} });
    const before = await stack.deps.db.eventLog.count({ where: { collection: "dups" } });
    const again = await stack.api("POST", "/collections/dups/records", { id: "d-1", data: { x: 1 } });
    expect(again.status).toBe(409);
    expect(await stack.deps.db.eventLog.count({ where: { collection: "dups" } })).toBe(before);
    expect((await stack.api("GET", "/collections/dups/records/d-1")).body.data).toEqual({});
  });

  it("fires field.updated definitions only on patches that change a watched field", async () => {
    const def = await createDefinition(stack, {
      name: "shipped",
      type: "field.updated",
      collection: "shipments",
      fields: ["state"],
    });
    await createWebhook(stack, { definitionId: def.id, url: `${receiver.url}/shipments` });
    await stack.api("POST", "/collections/shipments/records", { id: "s-1", data: { state: "packed", note: "" } });
    const noteOnly = await stack.api("PATCH", "/collections/shipments/records/s-1", { data: { note: "fragile" } });
    const state = await stack.api("PATCH", "/collections/shipments/records/s-1", { data: { state: "shipped" } });
    expect((await waitForEvent(stack, noteOnly.body.eventId)).actions).toEqual([]);
    expect((await waitForEvent(stack, state.body.eventId)).actions).toHaveLength(1);
    expect(receiver.at("/shipments").map((r) => (r.json as any).changedFields)).toEqual([["state"]]);
  });

  it("lists records with a filter in the condition language, paged", async () => {
    for (let i = 0; i < 6; i++) {
      await stack.api("POST", "/collections/items/records", {
        id: `i-${i}`,
        data: { n: i, kind: i % 2 ? "odd" : "even", tags: i > 3 ? ["big"] : [] },
      });
    }
    const list = async (filter: unknown, extra = "") =>
      stack.api("GET", `/collections/items/records?filter=${encodeURIComponent(JSON.stringify(filter))}${extra}`);
    expect((await list({ kind: "odd" })).body.data.map((r: any) => r.id)).toEqual(["i-5", "i-3", "i-1"]);
    expect((await list({ n: { $gte: 2, $lt: 4 } })).body.data.map((r: any) => r.id)).toEqual(["i-3", "i-2"]);
    expect((await list({ tags: "big" })).body.data.map((r: any) => r.id)).toEqual(["i-5", "i-4"]);
    expect((await list({ $or: [{ n: 0 }, { n: { $in: [5] } }] })).body.data.map((r: any) => r.id)).toEqual([
      "i-5",
      "i-0",
    ]);
    const page = await list({}, "&limit=4");
    expect(page.body.data).toHaveLength(4);
    expect(page.body.nextCursor).toBe("i-2");
    const bad = await list({ n: { $near: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain("filter.n.$near");
    expect((await stack.api("GET", "/collections/items/records?filter=nope")).status).toBe(400);
  });

  it("validates collection names and record bodies", async () => {
    expect((await stack.api("POST", "/collections/Bad-Name/records", { data: {} })).status).toBe(400);
    expect((await stack.api("POST", "/collections/ok/records", { data: [1, 2] })).status).toBe(400);
    expect((await stack.api("POST", "/collections/ok/records", { data: {}, extra: 1 })).status).toBe(400);
    expect((await stack.api("GET", "/collections/Bad-Name/records/x")).status).toBe(404);
    expect((await stack.api("PATCH", "/collections/ok/records/missing", { data: { a: 1 } })).status).toBe(404);
    expect((await stack.api("DELETE", "/collections/ok/records/missing")).status).toBe(404);
    expect(await stack.deps.db.record.count({ where: { collection: "ok" } })).toBe(0);
  });

  it("commits writes that arrive together in one flush, in the order they arrived", async () => {
    const writer = createRecordWriter(stack.deps);
    const answers = await Promise.allSettled([
      writer.create("flushed", "a", { n: 1 }),
      writer.patch("flushed", "a", { n: 2 }),
      writer.patch("flushed", "a", { n: 2 }),
      writer.create("flushed", "a", { n: 9 }),
      writer.remove("flushed", "a"),
      writer.patch("flushed", "a", { n: 3 }),
      writer.create("flushed", "a", { n: 4 }),
    ]);
    const [created, patched, unchanged, duplicate, removed, missing, recreated] = answers;
    expect(created).toMatchObject({
      status: "fulfilled",
      value: { record: { data: { n: 1 } }, eventId: expect.stringMatching(/^evt_/) },
    });
    expect(patched).toMatchObject({
      status: "fulfilled",
      value: { record: { data: { n: 2 } }, eventId: expect.stringMatching(/^evt_/) },
    });
    expect(unchanged).toMatchObject({ status: "fulfilled", value: { record: { data: { n: 2 } }, eventId: null } });
    expect(duplicate).toMatchObject({ status: "rejected", reason: { code: "conflict" } });
    expect(removed).toMatchObject({
      status: "fulfilled",
      value: { record: null, eventId: expect.stringMatching(/^evt_/) },
    });
    expect(missing).toMatchObject({ status: "rejected", reason: { code: "not_found" } });
    expect(recreated).toMatchObject({ status: "fulfilled", value: { record: { data: { n: 4 } } } });
    const events = await stack.deps.db.eventLog.findMany({ where: { collection: "flushed" }, orderBy: { id: "asc" } });
    expect(events.map((e) => [e.type, e.data, e.previous])).toEqual([
      ["collection_created", { n: 1 }, null],
      ["collection_updated", { n: 2 }, { n: 1 }],
      ["collection_deleted", { n: 2 }, null],
      ["collection_created", { n: 4 }, null],
    ]);
  });

  it("settles a failed flush request by request: one write the database refuses costs only itself", async () => {
    await stack.deps.pool.query(`ALTER TABLE records ADD CONSTRAINT no_poison_records CHECK (NOT (data ? 'poison'))`);
    try {
      const bodies = Array.from({ length: 30 }, (_, i) => ({
        id: `p-${i}`,
        data: i % 10 === 3 ? { poison: true } : { i },
      }));
      const answers = await Promise.all(bodies.map((body) => stack.api("POST", "/collections/isolated/records", body)));
      answers.forEach((answer, i) => expect(answer.status, `${i}`).toBe(i % 10 === 3 ? 500 : 201));
      expect(await stack.deps.db.record.count({ where: { collection: "isolated" } })).toBe(27);
      expect(await stack.deps.db.eventLog.count({ where: { collection: "isolated" } })).toBe(27);
    } finally {
      await stack.deps.pool.query(`ALTER TABLE records DROP CONSTRAINT no_poison_records`);
    }
  });

  it("patches replace top-level fields whole, and report the fields they changed as the JS rule does", async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [{ tags: ["a", "b"], n: 1 }, { tags: ["a"] }],
      [{ o: { x: 1, y: 2 } }, { o: { x: 1 } }],
      [{ o: { x: 1, y: 2 } }, { o: { y: 2, x: 1 } }],
      [{ a: 1 }, { b: null }],
      [
        { a: null, é: "x", "😀": 1 },
        { a: 0, é: "x", "😀": 2, z: [] },
      ],
      [{ n: 1.5, s: "x" }, { n: 1.5 }],
    ];
    for (const [i, [before, patch]] of cases.entries()) {
      await stack.api("POST", "/collections/merges/records", { id: `m-${i}`, data: before });
      const res = await stack.api("PATCH", `/collections/merges/records/m-${i}`, { data: patch });
      const after = { ...before, ...patch };
      expect(res.body.data, JSON.stringify(patch)).toEqual(after);
      const expected = changedFields(after, before);
      if (expected.length === 0) {
        expect(res.body.eventId, JSON.stringify(patch)).toBeNull();
        continue;
      }
      const event = await stack.api("GET", `/events/${res.body.eventId}`);
      expect(event.body, JSON.stringify(patch)).toMatchObject({
        previous: before,
        data: after,
        changedFields: expected,
      });
    }
  });
});
