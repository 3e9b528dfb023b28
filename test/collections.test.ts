// The collections API: records and the collection.* events their writes emit, in one transaction.
import { describe, expect, it } from "vitest";
import { createRecordWriter } from "../functions/domain/collections/collection-writes.ts";
import { changedFields } from "../functions/domain/events/changed-fields.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, waitForEvent } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started));

/** The event a record write made: every create and delete makes one, a patch when it changed something. */
function eventOf(written: { eventId: string | null }): string {
  expect(written.eventId, "the write made no event").toMatch(/^evt_/);
  return written.eventId ?? "";
}

describe("collections", () => {
  it("creates, reads, patches (merging) and deletes records, each write with its event", async () => {
    const created = expectStatus(
      await stack.api("POST", "/collections/orders/records", { id: "o-1", data: { status: "new", total: 10 } }),
      201,
    );
    expect(created).toMatchObject({ id: "o-1", collection: "orders", data: { status: "new", total: 10 } });
    const createdEvent = await waitForEvent(stack, eventOf(created));
    expect(createdEvent).toMatchObject({
      type: "collection.created",
      collection: "orders",
      recordId: "o-1",
      data: { status: "new", total: 10 },
      status: "completed",
    });

    const patched = expectStatus(
      await stack.api("PATCH", "/collections/orders/records/o-1", { data: { status: "paid" } }),
      200,
    );
    expect(patched.data).toEqual({ status: "paid", total: 10 });
    const updatedEvent = await waitForEvent(stack, eventOf(patched));
    expect(updatedEvent).toMatchObject({
      type: "collection.updated",
      data: { status: "paid", total: 10 },
      previous: { status: "new", total: 10 },
      changedFields: ["status"],
    });

    // A patch that changes nothing writes nothing and reports nothing.
    const same = await stack.api("PATCH", "/collections/orders/records/o-1", { data: { status: "paid" } });
    expect(expectStatus(same, 200).eventId).toBeNull();

    expect(expectStatus(await stack.api("GET", "/collections/orders/records/o-1"), 200).data).toEqual({
      status: "paid",
      total: 10,
    });
    expectStatus(await stack.api("DELETE", "/collections/orders/records/o-1"), 204);
    expectError(await stack.api("GET", "/collections/orders/records/o-1"), 404, "not_found");
    const deletedEvents = expectStatus(
      await stack.api("GET", "/events?collection=orders&recordId=o-1&type=collection.deleted"),
      200,
    );
    expect(deletedEvents.data).toEqual([
      expect.objectContaining({ type: "collection.deleted", data: { status: "paid", total: 10 } }),
    ]);
  });

  it("refuses a duplicate id with 409 and writes no event for it", async () => {
    await stack.api("POST", "/collections/dups/records", { id: "d-1", data: {} });
    const before = await stack.deps.db.eventLog.count({ where: { collection: "dups" } });
    const again = await stack.api("POST", "/collections/dups/records", { id: "d-1", data: { x: 1 } });
    expectError(again, 409, "conflict");
    expect(await stack.deps.db.eventLog.count({ where: { collection: "dups" } })).toBe(before);
    expect(expectStatus(await stack.api("GET", "/collections/dups/records/d-1"), 200).data).toEqual({});
  });

  it("fires field.updated definitions only on patches that change a watched field", async () => {
    const def = await createDefinition(stack, {
      name: "shipped",
      type: "field.updated",
      collection: "shipments",
      fields: ["state"],
    });
    await createWebhook(stack, { definitionId: def.id, url: `${receiver.url}/shipments` });
    const shipments = stack.client.collection("shipments");
    await shipments.create({ state: "packed", note: "" }, { id: "s-1" });
    const noteOnly = await shipments.patch("s-1", { note: "fragile" });
    const state = await shipments.patch("s-1", { state: "shipped" });
    expect((await waitForEvent(stack, eventOf(noteOnly))).actions).toEqual([]);
    expect((await waitForEvent(stack, eventOf(state))).actions).toHaveLength(1);
    expect(receiver.at("/shipments").map((r) => r.json)).toEqual([
      expect.objectContaining({ changedFields: ["state"] }),
    ]);
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
    const ids = async (filter: unknown) => expectStatus(await list(filter), 200).data.map((r) => r.id);
    expect(await ids({ kind: "odd" })).toEqual(["i-5", "i-3", "i-1"]);
    expect(await ids({ n: { $gte: 2, $lt: 4 } })).toEqual(["i-3", "i-2"]);
    expect(await ids({ tags: "big" })).toEqual(["i-5", "i-4"]);
    expect(await ids({ $or: [{ n: 0 }, { n: { $in: [5] } }] })).toEqual(["i-5", "i-0"]);
    const page = expectStatus(await list({}, "&limit=4"), 200);
    expect(page.data).toHaveLength(4);
    expect(page.nextCursor).toBe("i-2");
    const bad = await list({ n: { $near: 1 } });
    expect(expectError(bad, 400, "invalid_request").message).toContain("filter.n.$near");
    expectError(await stack.api("GET", "/collections/items/records?filter=nope"), 400, "invalid_request");
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
    await stack.owner.query(`ALTER TABLE records ADD CONSTRAINT no_poison_records CHECK (NOT (data ? 'poison'))`);
    try {
      const bodies = Array.from({ length: 30 }, (_, i) => ({
        id: `p-${i}`,
        data: i % 10 === 3 ? { poison: true } : { i },
      }));
      const answers = await Promise.all(bodies.map((body) => stack.api("POST", "/collections/isolated/records", body)));
      for (const [i, answer] of answers.entries()) expect(answer.status, `${i}`).toBe(i % 10 === 3 ? 500 : 201);
      expect(await stack.deps.db.record.count({ where: { collection: "isolated" } })).toBe(27);
      expect(await stack.deps.db.eventLog.count({ where: { collection: "isolated" } })).toBe(27);
    } finally {
      await stack.owner.query(`ALTER TABLE records DROP CONSTRAINT no_poison_records`);
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
      const res = expectStatus(await stack.api("PATCH", `/collections/merges/records/m-${i}`, { data: patch }), 200);
      const after = { ...before, ...patch };
      expect(res.data, JSON.stringify(patch)).toEqual(after);
      const expected = changedFields(after, before);
      if (expected.length === 0) {
        expect(res.eventId, JSON.stringify(patch)).toBeNull();
        continue;
      }
      const event = expectStatus(await stack.api("GET", `/events/${eventOf(res)}`), 200);
      expect(event, JSON.stringify(patch)).toMatchObject({
        previous: before,
        data: after,
        changedFields: expected,
      });
    }
  });
});
