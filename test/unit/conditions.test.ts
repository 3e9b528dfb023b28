import { describe, expect, it } from "vitest";
import { compileCondition, conditionProblems } from "../../functions/domain/conditions/condition.ts";

const context = {
  data: { total: 120, status: "paid", tags: ["vip"] },
  previous: { status: "new" },
  changedFields: ["status"],
};

describe("conditions", () => {
  it.each([
    [{ "data.total": { $gt: 100 } }, true],
    [{ "data.total": { $lte: 100 } }, false],
    [{ "data.status": "paid", "previous.status": "new" }, true],
    [{ "data.status": { $in: ["paid", "refunded"] } }, true],
    [{ "data.status": { $nin: ["paid"] } }, false],
    [{ "data.missing": { $exists: false } }, true],
    [{ $or: [{ "data.total": { $lt: 10 } }, { changedFields: "status" }] }, true],
    [{ $and: [{ "data.total": { $gte: 120 } }, { "data.tags": "vip" }] }, true],
    [{ "data.total": { $not: { $gt: 100 } } }, false],
    [{ "data.status": { $ne: "paid" } }, false],
  ])("%j -> %s", (condition, expected) => {
    expect(conditionProblems(condition)).toEqual([]);
    expect(compileCondition(condition)(context)).toBe(expected);
  });

  it("treats no condition as always true", () => {
    expect(compileCondition(null)(context)).toBe(true);
    expect(compileCondition({})(context)).toBe(true);
  });

  it.each([
    [{ "data.total": { $near: 1 } }, "data.total.$near", "unknown operator $near"],
    [{ $where: "this.total > 1" }, "$where", "unknown operator $where"],
    [{ "data.name": { $regex: "(a+)+$" } }, "data.name.$regex", "unknown operator $regex"],
    [{ "data.total": { $in: 5 } }, "data.total.$in", "$in takes an array"],
    [{ $or: { a: 1 } }, "$or", "non-empty array"],
    [{ $and: [{ a: { $bogus: 1 } }] }, "$and[0].a.$bogus", "unknown operator $bogus"],
    [{ "data.a": { $exists: "yes" } }, "data.a.$exists", "true or false"],
    [{ "data.a": { $gt: 1, plain: 2 } }, "data.a", "cannot mix"],
    [{ $gt: 1 }, "$gt", "applies to a field"],
  ])("refuses %j at %s", (condition, path, message) => {
    expect(conditionProblems(condition)).toEqual([
      expect.objectContaining({ path, message: expect.stringContaining(message) }),
    ]);
  });
});
