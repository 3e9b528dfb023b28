// The in-memory evaluator against sift, the library it replaced (kept as a test oracle): on generated
// conditions and documents they must agree wherever sift reads JSON as MongoDB does. They part on
// purpose where sift does not: it reads inherited properties ("data.constructor"), and its $nin and
// $exists change meaning when a path crosses an array of objects; the generated documents avoid the
// second case, and the cases below pin down what tetik does there.
import fc from "fast-check";
import sift from "sift";
import { describe, expect, it } from "vitest";
import {
  compileCondition,
  conditionProblems,
  ConditionTooCostly,
} from "../../functions/domain/conditions/condition.ts";

const key = fc.constantFrom("a", "b", "c");
const scalar = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.constantFrom("x", "y", ""),
  fc.boolean(),
  fc.constant(null),
);
const ordered = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", "y", ""));

// Documents: objects of scalars, arrays of scalars and nested objects. No empty arrays: sift reads a
// field below one ("b.a" of b: []) as neither missing nor null, where MongoDB and tetik's SQL read it as
// missing; the cases below pin that down.
const { doc } = fc.letrec<{ doc: Record<string, unknown>; value: unknown }>((tie) => ({
  doc: fc.dictionary(key, tie("value"), { maxKeys: 3, depthIdentifier: "doc", noNullPrototype: true }),
  value: fc.oneof(
    { depthIdentifier: "doc", maxDepth: 3 },
    scalar,
    fc.array(scalar, { minLength: 1, maxLength: 3 }),
    tie("doc"),
  ),
}));

// No index segments ("a.0"): sift reads them on strings too ("x".0 is "x"); the cases below cover them.
const path = fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => keys.join("."));
const list = fc.array(scalar, { minLength: 1, maxLength: 4 });

const fieldTest = fc.oneof(
  scalar,
  scalar.map((v) => ({ $eq: v })),
  scalar.map((v) => ({ $ne: v })),
  fc.tuple(fc.constantFrom("$gt", "$gte", "$lt", "$lte"), ordered).map(([op, v]) => ({ [op]: v })),
  list.map((v) => ({ $in: v })),
  list.map((v) => ({ $nin: v })),
  list.map((v) => ({ $all: v })),
  fc.boolean().map((v) => ({ $exists: v })),
  fc.integer({ min: 0, max: 3 }).map((v) => ({ $size: v })),
  ordered.map((v) => ({ $not: { $gt: v } })),
  ordered.map((v) => ({ $elemMatch: { $lt: v } })),
  fc.tuple(ordered, ordered).map(([lo, hi]) => ({ $gte: lo, $lte: hi })),
);

const { query } = fc.letrec<{ query: Record<string, unknown> }>((tie) => ({
  query: fc.oneof(
    { depthIdentifier: "query", maxDepth: 2 },
    fc.dictionary(path, fieldTest, { minKeys: 1, maxKeys: 2, noNullPrototype: true }),
    fc
      .tuple(fc.constantFrom("$and", "$or", "$nor"), fc.array(tie("query"), { minLength: 1, maxLength: 2 }))
      .map(([op, subs]) => ({ [op]: subs })),
  ),
}));

/** sift's $nin changes meaning below an array (it looks at the last element only): ask it for "not $in". */
function forSift(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(forSift);
  if (!value || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => (k === "$nin" ? ["$not", { $in: v }] : [k, forSift(v)])),
  );
}

describe("condition semantics", () => {
  it("agrees with sift on generated conditions and documents", () => {
    fc.assert(
      fc.property(query, doc, (condition, document) => {
        expect(conditionProblems(condition)).toEqual([]);
        const ours = compileCondition(condition)(document);
        const theirs = sift(forSift(condition) as never)(document);
        expect(ours, JSON.stringify({ condition, document })).toBe(theirs);
      }),
      { numRuns: 3000 },
    );
  });

  it("reads own fields only", () => {
    const context = { data: { name: "abc", total: 5, list: [1, 2] } };
    for (const condition of [
      { "data.constructor.name": "Object" },
      { "data.name.length": 3 },
      { "data.list.length": 2 },
      { "data.total.constructor": { $exists: true } },
      { "data.toString": { $exists: true } },
    ]) {
      expect(compileCondition(condition)(context), JSON.stringify(condition)).toBe(false);
    }
    // A field that happens to have such a name is read like any other.
    expect(compileCondition({ "data.constructor": "mine" })({ data: { constructor: "mine" } })).toBe(true);
  });

  it("reads a field of an array of objects as that field of each element", () => {
    const context = { items: [{ sku: "p", qty: 2 }, { sku: "r" }], none: [] };
    const cases: Array<[Record<string, unknown>, boolean]> = [
      [{ "items.sku": "r" }, true],
      [{ "items.sku": { $nin: ["r"] } }, false],
      [{ "items.sku": { $nin: ["z"] } }, true],
      [{ "items.qty": { $exists: true } }, true],
      [{ "items.qty": { $exists: false } }, false],
      [{ "items.sku": null }, false],
      [{ "items.qty": null }, true],
      [{ "items.1.sku": "r" }, true],
      [{ "items.0": { $exists: true } }, true],
      [{ "items.2": { $exists: true } }, false],
      [{ "items.0.sku.0": "p" }, false],
      [{ "none.sku": null }, true],
      [{ "none.sku": { $exists: false } }, true],
      [{ "none.sku": { $nin: ["p"] } }, true],
    ];
    for (const [condition, expected] of cases)
      expect(compileCondition(condition)(context), JSON.stringify(condition)).toBe(expected);
  });

  it("gives up past its budget of steps, whatever the condition", () => {
    const big = { data: { list: Array.from({ length: 50_000 }, (_, i) => i) } };
    expect(compileCondition({ "data.list": { $gt: 49_999 } }, 1_000_000)(big)).toBe(false);
    expect(() => compileCondition({ "data.list": { $gt: 49_999 } }, 10_000)(big)).toThrow(ConditionTooCostly);
    // Wide objects compared again and again are paid for too.
    const wide = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));
    expect(() =>
      compileCondition(
        { "data.list": { $in: [{ k1: 1 }, { k2: 2 }] } },
        10_000,
      )({ data: { list: Array.from({ length: 100 }, () => wide) } }),
    ).toThrow(ConditionTooCostly);
  });

  it("looks $in values up in a set: a thousand values cost what one does", () => {
    const values = Array.from({ length: 1000 }, (_, i) => i + 1_000_000);
    const event = { data: { list: Array.from({ length: 10_000 }, (_, i) => i) } };
    // 10,000 values visited in the list, and the list itself: within a budget of 10,100 steps.
    expect(compileCondition({ "data.list": { $in: values } }, 10_100)(event)).toBe(false);
    expect(compileCondition({ "data.list": { $in: [...values, 9_999] } }, 10_100)(event)).toBe(true);
  });
});
