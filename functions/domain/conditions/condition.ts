// Conditions (on definitions) and filters (on triggers) share one MongoDB-style language. Conditions are
// evaluated in memory by sift; filters are translated to SQL (filter-sql.ts) so Postgres picks the rows.
// Only the operators listed here exist: sift's `$where` would run code and `$regex` could be made to
// backtrack for minutes, so neither is offered.
import sift from "sift";
import type { Problem } from "../validation.ts";

export type Condition = Record<string, unknown>;

// sift is CommonJS: Node's ESM loader sees only its default export, so take the operations from there.
const { $all, $and, $elemMatch, $eq, $exists, $gt, $gte, $in, $lt, $lte, $ne, $nin, $nor, $not, $or, $size, createQueryTester } = sift as unknown as typeof import("sift");
const OPERATIONS = { $all, $and, $elemMatch, $eq, $exists, $gt, $gte, $in, $lt, $lte, $ne, $nin, $nor, $not, $or, $size };
export const OPERATORS = Object.keys(OPERATIONS).sort();

const LOGICAL = new Set(["$and", "$or", "$nor"]);
const LIST = new Set(["$in", "$nin", "$all"]);
const MAX_DEPTH = 16;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Every problem in a condition, each with the path where it is; empty when the condition is valid. */
export function conditionProblems(condition: unknown): Problem[] {
  const problems: Problem[] = [];
  const at = (path: string, message: string) => problems.push({ path, message });

  const walkQuery = (query: unknown, path: string, depth: number) => {
    if (depth > MAX_DEPTH) return at(path, `nested deeper than ${MAX_DEPTH} levels`);
    if (!isPlainObject(query)) return at(path, "must be an object of field: value or field: { $operator: value }");
    for (const [key, value] of Object.entries(query)) {
      const here = path ? `${path}.${key}` : key;
      if (key.startsWith("$")) {
        if (!LOGICAL.has(key)) {
          at(here, OPERATORS.includes(key) ? `${key} applies to a field, not to the whole query` : `unknown operator ${key}`);
        } else if (!Array.isArray(value) || value.length === 0) {
          at(here, `${key} takes a non-empty array of conditions`);
        } else {
          value.forEach((item, i) => walkQuery(item, `${here}[${i}]`, depth + 1));
        }
      } else {
        walkValue(value, here, depth + 1);
      }
    }
  };

  const walkValue = (value: unknown, path: string, depth: number) => {
    if (depth > MAX_DEPTH) return at(path, `nested deeper than ${MAX_DEPTH} levels`);
    if (!isPlainObject(value)) return; // a literal: equality
    const keys = Object.keys(value);
    const operators = keys.filter((k) => k.startsWith("$"));
    if (operators.length === 0) return; // an object literal: equality with that object
    if (operators.length !== keys.length) return at(path, "cannot mix operators and plain fields in one object");
    for (const op of operators) {
      const arg = value[op];
      const here = `${path}.${op}`;
      if (!OPERATORS.includes(op) || LOGICAL.has(op)) at(here, `unknown operator ${op}`);
      else if (LIST.has(op) && !Array.isArray(arg)) at(here, `${op} takes an array`);
      else if (op === "$exists" && typeof arg !== "boolean") at(here, "$exists takes true or false");
      else if (op === "$size" && !(Number.isInteger(arg) && (arg as number) >= 0)) at(here, "$size takes a whole number");
      else if (op === "$elemMatch") walkQuery(arg, here, depth + 1);
      else if (op === "$not") {
        if (isPlainObject(arg)) walkValue(arg, path, depth + 1);
      }
    }
  };

  walkQuery(condition, "", 0);
  if (problems.length === 0) {
    try {
      createQueryTester(condition as Condition, { operations: OPERATIONS });
    } catch (error) {
      at("", (error as Error).message);
    }
  }
  return problems;
}

export type ConditionTest = (value: unknown) => boolean;

/** A compiled condition; null or empty means "always". Call only on conditions that passed validation. */
export function compileCondition(condition: Condition | null | undefined): ConditionTest {
  if (!condition || Object.keys(condition).length === 0) return () => true;
  return createQueryTester(condition, { operations: OPERATIONS }) as ConditionTest;
}
