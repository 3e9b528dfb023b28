// The shape of the condition language, shared by its checker (condition.ts), its evaluator (evaluate.ts)
// and its translation to SQL (filter-sql.ts), so that the three read every condition alike.

export const OPERATORS = [
  "$all",
  "$and",
  "$elemMatch",
  "$eq",
  "$exists",
  "$gt",
  "$gte",
  "$in",
  "$lt",
  "$lte",
  "$ne",
  "$nin",
  "$nor",
  "$not",
  "$or",
  "$size",
];

/** Operators that combine whole queries rather than test a field. */
export const LOGICAL = new Set(["$and", "$or", "$nor"]);

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Operator objects ({ $gt: 1 }) as opposed to object literals ({ a: 1 } and {}, compared for equality). */
export function isOperatorObject(value: unknown): value is Record<string, unknown> {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length > 0 && keys.every((k) => k.startsWith("$"));
}

/** An $elemMatch argument that tests each element itself ({ $gt: 1 }), not a query over its fields. */
export const appliesToElements = (arg: unknown): arg is Record<string, unknown> =>
  isOperatorObject(arg) && !Object.keys(arg).some((k) => LOGICAL.has(k));
