// How far one change may grow the data (issue 26). Trigger fan-out: an update trigger on its own collection
// turned one edit of 5 records into 3,911 events, since TRIGGER_MAX_DEPTH bounds a chain's depth and nothing
// its width; now a chain's triggers write at most TRIGGER_MAX_CHAIN_EVENTS events in all (chain_too_wide).
// Records grew through PATCH to 7.6 MB; now no write leaves a record past LIMITS.recordBytes
// (record_too_large). Scaled down: 3 records and a chain budget of 21 (the default is LIMITS.chainEvents).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIMITS } from "../functions/domain/limits.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const CHAIN_EVENTS = 21;

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { TRIGGER_MAX_CHAIN_EVENTS: String(CHAIN_EVENTS) } });
});
afterAll(async () => {
  await stack?.stop();
});

async function addTrigger(definitionId: string, body: Record<string, unknown>) {
  return expectStatus(await stack.api("POST", `/definitions/${definitionId}/triggers`, body), 201);
}

async function putRecord(collection: string, id: string, data: Record<string, unknown>) {
  return expectStatus(await stack.api("POST", `/collections/${collection}/records`, { id, data }), 201);
}

const recordData = async (collection: string, id: string) =>
  (await stack.deps.db.record.findUnique({ where: { collection_id: { collection, id } } }))?.data;

const eventsOf = (collection: string) =>
  stack.deps.db.eventLog.findMany({ where: { collection }, include: { actions: true } });

// Just within the body limit, so two of them merged are past the record limit.
const half = () => "x".repeat(Math.floor(LIMITS.recordBytes * 0.6));

/**
 * The update events of `loop` once all are final. A parent is final only once its writes and their events
 * are committed, so then the chain is over.
 */
const chainEnded = () =>
  waitFor(
    async () => {
      const updates = (await eventsOf("loop")).filter((e) => e.type === "collection_updated");
      return updates.every((e) => e.status === "completed" || e.status === "failed") ? updates : undefined;
    },
    { timeoutMs: 30_000, what: "the chain to end" },
  );

describe("a chain of triggers", () => {
  it("writes at most TRIGGER_MAX_CHAIN_EVENTS events for one original change, then fails: chain_too_wide", async () => {
    // Every update of a `loop` record updates all of them again: 3 events at depth 1, 9 at depth 2, 27 at 3...
    const loop = await createDefinition(stack, { name: "loop", type: "collection.updated", collection: "loop" });
    await addTrigger(loop.id, {
      action: "update",
      targetCollection: "loop",
      filter: { group: "g" },
      data: { by: "{{event.id}}" },
    });
    for (const id of ["a", "b", "c"]) await putRecord("loop", id, { group: "g" });

    const edit = expectStatus(await stack.api("PATCH", "/collections/loop/records/a", { data: { n: 1 } }), 200);

    const events = await chainEnded();
    const caused = events.filter((e) => e.depth > 0);
    // Each trigger run writes 3 events or none: 7 runs make 21, where the unbounded chain made 363.
    expect(caused).toHaveLength(CHAIN_EVENTS);

    const actions = events.flatMap((e) => e.actions);
    const failed = actions.filter((a) => a.status === "failed");
    expect(failed.length).toBeGreaterThan(0);
    for (const action of failed) {
      expect(action).toMatchObject({ kind: "trigger", errorCode: "chain_too_wide", attempts: 1 });
      expect(action.error).toContain(`TRIGGER_MAX_CHAIN_EVENTS (${CHAIN_EVENTS})`);
    }
    // A run that passed the budget wrote nothing: only the runs that completed made events.
    expect(actions.filter((a) => a.status === "completed")).toHaveLength(CHAIN_EVENTS / 3);
    expect(actions.length).toBe(events.length);

    const budget = await stack.deps.db.chainBudget.findUnique({ where: { rootId: edit.eventId! } });
    expect(budget?.events).toBe(CHAIN_EVENTS);

    // The next original change has a budget of its own.
    const again = expectStatus(await stack.api("PATCH", "/collections/loop/records/b", { data: { n: 2 } }), 200);
    const both = await chainEnded();
    expect(both.filter((e) => e.depth > 0)).toHaveLength(2 * CHAIN_EVENTS);
    const second = await stack.deps.db.chainBudget.findUnique({ where: { rootId: again.eventId! } });
    expect(second?.events).toBe(CHAIN_EVENTS);
  });
});

describe("a record's size", () => {
  it("refuses a PATCH whose merged record passes LIMITS.recordBytes: 413 record_too_large, no change", async () => {
    const created = await putRecord("big", "r-1", { a: half() });
    const refused = expectError(
      await stack.api("PATCH", "/collections/big/records/r-1", { data: { b: half() } }),
      413,
      "record_too_large",
    );
    expect(refused.message).toContain("1 MiB");
    expect(await recordData("big", "r-1")).toEqual({ a: created.data.a });
    const events = await eventsOf("big");
    expect(events.map((e) => e.type)).toEqual(["collection_created"]);

    // Replacing a field (the record stays as large) and a small addition are still fine.
    const replaced = expectStatus(
      await stack.api("PATCH", "/collections/big/records/r-1", { data: { a: half(), b: 1 } }),
      200,
    );
    expect(replaced.eventId).toMatch(/^evt_/);
    expect(Object.keys((await recordData("big", "r-1")) as object).sort()).toEqual(["a", "b"]);
  });

  it("fails a trigger's update that would grow a record past it with record_too_large, writing nothing", async () => {
    await putRecord("grown", "g-1", { kind: "k", a: half() });
    await putRecord("grown", "g-2", { kind: "k", a: "small" });
    const definition = await createDefinition(stack, { name: "grow", type: "collection.created", collection: "feed" });
    await addTrigger(definition.id, {
      action: "update",
      targetCollection: "grown",
      filter: { kind: "k" },
      data: { extra: "{{data.blob}}" },
    });
    const id = await postEvent(stack, { collection: "feed", recordId: "f-1", data: { blob: half() } });
    const event = await waitForEvent(stack, id);
    expect(event.status).toBe("failed");
    expect(event.actions).toMatchObject([
      { kind: "trigger", status: "failed", attempts: 1, errorCode: "record_too_large" },
    ]);
    // All or nothing: g-2 would have fit, but the write is one.
    expect(await recordData("grown", "g-1")).toEqual({ kind: "k", a: half() });
    expect(await recordData("grown", "g-2")).toEqual({ kind: "k", a: "small" });
    expect((await eventsOf("grown")).map((e) => e.type)).toEqual(["collection_created", "collection_created"]);
  });

  it("fails a trigger's create of a record past it with record_too_large, writing nothing", async () => {
    const definition = await createDefinition(stack, { name: "copy", type: "collection.created", collection: "src" });
    await addTrigger(definition.id, {
      action: "create",
      targetCollection: "copies",
      data: { one: "{{data.blob}}", two: "{{data.blob}}" },
    });
    const id = await postEvent(stack, { collection: "src", recordId: "s-1", data: { blob: half() } });
    const event = await waitForEvent(stack, id);
    expect(event.actions).toMatchObject([{ kind: "trigger", status: "failed", errorCode: "record_too_large" }]);
    expect(await stack.deps.db.record.count({ where: { collection: "copies" } })).toBe(0);
  });
});

describe("the sweep", () => {
  it("forgets the counts of chains that wrote nothing for LOG_RETENTION_DAYS", async () => {
    expect(await stack.deps.db.chainBudget.count()).toBeGreaterThan(0);
    const later = new Date(Date.now() + (stack.config.LOG_RETENTION_DAYS + 1) * 86_400_000);
    await runSweep({ ...stack.deps, now: () => later });
    expect(await stack.deps.db.chainBudget.count()).toBe(0);
  });
});
