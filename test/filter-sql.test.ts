// Filters run as SQL must select exactly what the same condition selects in memory, and an
// equality filter must be answered from the index, not by reading a whole collection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileCondition } from "../functions/domain/conditions/condition.ts";
import { compileFilter } from "../functions/domain/conditions/filter.ts";
import sql from "sql-template-tag";
import { fromPg, runSql } from "../functions/platform/sql.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, waitForEvent } from "./helpers/fixtures.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.stop());

const samples: Array<Record<string, unknown>> = [
  {
    n: 1,
    s: "a",
    b: true,
    tags: ["x", "y"],
    o: { k: 1, deep: { v: "q" } },
    items: [
      { sku: "p", qty: 2 },
      { sku: "r", qty: 5 },
    ],
  },
  { n: 2.5, s: "b", b: false, tags: [], o: { k: 2 }, items: [{ sku: "p", qty: 9 }] },
  { n: -3, s: "B", tags: ["y"], o: null, nothing: null },
  { n: "10", s: "ab", b: true, o: { k: "1" } },
  { s: "", tags: ["x"], items: [] },
  { n: 100, s: "zz", tags: "x", o: { k: 1, deep: { v: "r" } } },
];

const filters: Array<Record<string, unknown>> = [
  { n: 1 },
  { n: { $gt: 1 } },
  { n: { $gte: 2.5, $lt: 100 } },
  { n: { $lte: "5" } },
  { s: { $gt: "a" } },
  { s: { $in: ["a", "B", "nope"] } },
  { s: { $nin: ["a", "b"] } },
  { n: { $ne: 1 } },
  { b: true },
  { b: { $ne: true } },
  { tags: "x" },
  { tags: ["x", "y"] },
  { tags: { $size: 1 } },
  { tags: { $all: ["x", "y"] } },
  { "o.k": 1 },
  { "o.deep.v": "q" },
  { o: null },
  { nothing: { $exists: true } },
  { n: { $exists: false } },
  { "items.0.sku": "p" },
  { items: { $elemMatch: { sku: "p", qty: { $gt: 4 } } } },
  { $or: [{ n: { $lt: 0 } }, { s: "zz" }] },
  { $and: [{ b: true }, { s: { $ne: "ab" } }] },
  { $nor: [{ b: true }, { n: { $lt: 0 } }] },
  { n: { $not: { $gt: 2 } } },
  { "o.deep": { v: "q" } },
  { $nor: [{ tags: "x" }] },
  { o: { k: 2 } },
  { o: { $not: {} } },
  { tags: { $elemMatch: { $in: ["y"] } } },
];

describe("filters in SQL", () => {
  it.each(filters)("select what the in-memory condition selects: %j", async (filter) => {
    const rows = await runSql<{ i: number }>(
      fromPg(stack.deps.pool),
      sql`SELECT (s.ord - 1)::int AS i
        FROM jsonb_array_elements(${JSON.stringify(samples)}::jsonb) WITH ORDINALITY AS s(data, ord)
        WHERE ${compileFilter(filter, sql`s.data`)} ORDER BY s.ord`,
    );
    const test = compileCondition(filter);
    const expected = samples.map((sample, i) => (test(sample) ? i : -1)).filter((i) => i >= 0);
    expect(rows.map((r) => r.i)).toEqual(expected);
  });

  it("answers an equality filter on 100,000 records from the index and updates only the matching ones", async () => {
    await stack.deps.db.$executeRaw`
      INSERT INTO records (collection, id, data, "createdAt", "updatedAt")
      SELECT 'big', 'r' || g, jsonb_build_object('customerId', 'c-' || (g % 40000), 'n', g), now(), now()
      FROM generate_series(1, 100000) g`;
    await stack.owner.query("ANALYZE records"); // statistics are the owner's to gather

    const where = compileFilter({ customerId: "c-7" });
    const plan = await runSql<{ "QUERY PLAN": string }>(
      fromPg(stack.deps.pool),
      sql`EXPLAIN SELECT id FROM records WHERE collection = 'big' AND ${where}`,
    );
    expect(plan.map((p) => p["QUERY PLAN"]).join("\n")).toContain("records_data_idx");

    const def = await createDefinition(stack, { name: "big-touch", collection: "touch" });
    expectStatus(
      await stack.api("POST", `/definitions/${def.id}/triggers`, {
        action: "update",
        targetCollection: "big",
        filter: { customerId: "{{data.customerId}}" },
        data: { touched: true },
      }),
      201,
    );
    const record = await stack.client.collection("touch").create({ customerId: "c-7" }, { id: "t" });
    const event = await waitForEvent(stack, record.eventId!);
    expect(event.actions[0]).toMatchObject({
      status: "completed",
      result: { recordsAffected: 3, recordIds: ["r40007", "r7", "r80007"] },
    });
    const touched = await stack.deps.db.$queryRaw<
      Array<{ count: number }>
    >`SELECT count(*)::int AS count FROM records WHERE collection = 'big' AND data ? 'touched'`;
    expect(touched[0]!.count).toBe(3);
    expect(await stack.deps.db.eventLog.count({ where: { collection: "big" } })).toBe(3);
  });
});
