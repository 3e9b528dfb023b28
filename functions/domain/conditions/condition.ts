// Conditions (on definitions) and filters (on triggers and record lists) share one MongoDB-style
// language. Conditions are evaluated in memory (evaluate.ts); filters are translated to SQL
// (filter-sql.ts) so Postgres picks the rows. Only the operators listed here exist: no `$where` (it
// would run code) and no `$regex` (it could be made to backtrack for minutes).
//
// What a condition may hold is bounded (LIMITS: size, depth, clauses, list lengths), and so is what
// evaluating it may cost (LIMITS.conditionSteps): the worst condition against the largest event is
// decided, or given up, in milliseconds.
import { LIMITS, jsonSizeProblem } from "../limits.ts";
import type { Problem } from "../validation.ts";
import { ConditionTooCostly, drawing, meter, query, type Meter } from "./evaluate.ts";
import { appliesToElements, isPlainObject, LOGICAL, OPERATORS } from "./language.ts";

export { ConditionTooCostly, OPERATORS };
export type Condition = Record<string, unknown>;

const LIST = new Set(["$in", "$nin", "$all"]);
const ORDERED = new Set(["$gt", "$gte", "$lt", "$lte"]);
/** Postgres compares $size as an int4. */
const MAX_SIZE = 2_147_483_647;

export interface ConditionOptions {
  /** Where field paths of the top level must start (a definition's condition: the event context's roots). */
  roots?: readonly string[];
  /**
   * Operator arguments known only later (a trigger filter's `{{ data.ids }}`, which renders to a list):
   * checked when the filter is rendered, not when it is saved.
   */
  deferred?: (value: unknown) => boolean;
}

/** Every problem in a condition, each with the path where it is; empty when the condition is valid. */
export function conditionProblems(
  condition: unknown,
  { roots, deferred = () => false }: ConditionOptions = {},
): Problem[] {
  const problems: Problem[] = [];
  const at = (path: string, message: string) => problems.push({ path, message });
  let clauses = 0;
  let listItems = 0;

  const tooLarge = jsonSizeProblem(condition, LIMITS.conditionBytes);
  if (tooLarge) return [{ path: "", message: tooLarge }];

  const checkField = (key: string, path: string, topLevel: boolean) => {
    const segments = key.split(".");
    if (segments.some((s) => s === "")) at(path, "a field path cannot have an empty part (a.b, not a..b)");
    else if (segments.includes("__proto__")) at(path, "__proto__ cannot be a field name");
    else if (topLevel && roots && !roots.includes(segments[0]!))
      at(path, `must start with one of: ${roots.join(", ")} (e.g. data.${key})`);
  };

  const walkQuery = (query: unknown, path: string, depth: number, topLevel: boolean) => {
    if (depth > LIMITS.conditionDepth) return at(path, `nested deeper than ${LIMITS.conditionDepth} levels`);
    if (!isPlainObject(query)) return at(path, "must be an object of field: value or field: { $operator: value }");
    for (const [key, value] of Object.entries(query)) {
      const here = path ? `${path}.${key}` : key;
      clauses++;
      if (key.startsWith("$")) {
        if (!LOGICAL.has(key)) {
          at(
            here,
            OPERATORS.includes(key) ? `${key} applies to a field, not to the whole query` : `unknown operator ${key}`,
          );
        } else if (!Array.isArray(value) || value.length === 0) {
          at(here, `${key} takes a non-empty array of conditions`);
        } else {
          value.forEach((item, i) => {
            walkQuery(item, `${here}[${i}]`, depth + 1, topLevel);
          });
        }
      } else {
        checkField(key, here, topLevel);
        walkValue(value, here, depth + 1);
      }
    }
  };

  const walkValue = (value: unknown, path: string, depth: number) => {
    if (depth > LIMITS.conditionDepth) return at(path, `nested deeper than ${LIMITS.conditionDepth} levels`);
    if (!isPlainObject(value)) return; // a literal: equality
    const keys = Object.keys(value);
    const operators = keys.filter((k) => k.startsWith("$"));
    if (operators.length === 0) return; // an object literal: equality with that object
    if (operators.length !== keys.length) return at(path, "cannot mix operators and plain fields in one object");
    for (const op of operators) {
      const arg = value[op];
      const here = `${path}.${op}`;
      clauses++;
      if (!OPERATORS.includes(op) || LOGICAL.has(op)) at(here, `unknown operator ${op}`);
      else if (deferred(arg)) continue;
      else if (LIST.has(op)) checkList(op, arg, here);
      else if (ORDERED.has(op) && typeof arg !== "number" && typeof arg !== "string")
        at(here, `${op} compares numbers or strings, not ${JSON.stringify(arg)}`);
      else if (op === "$exists" && typeof arg !== "boolean") at(here, "$exists takes true or false");
      else if (op === "$size" && !(Number.isInteger(arg) && (arg as number) >= 0 && (arg as number) <= MAX_SIZE))
        at(here, `$size takes a whole number up to ${MAX_SIZE}`);
      else if (op === "$elemMatch") walkQueryOrOperators(arg, here, depth + 1);
      else if (op === "$not" && isPlainObject(arg)) walkValue(arg, path, depth + 1);
    }
  };

  // $elemMatch takes a query over the elements' fields, or operators applied to the elements themselves.
  const walkQueryOrOperators = (arg: unknown, path: string, depth: number) => {
    if (appliesToElements(arg)) walkValue(arg, path, depth);
    else walkQuery(arg, path, depth, false);
  };

  const checkList = (op: string, arg: unknown, path: string) => {
    if (!Array.isArray(arg)) return at(path, `${op} takes an array`);
    if (op === "$all" && arg.length === 0) return at(path, "$all takes at least one value");
    if (arg.length > LIMITS.conditionListItems)
      return at(path, `${op} holds ${arg.length} values; at most ${LIMITS.conditionListItems}`);
    listItems += arg.length;
    arg.forEach((item, i) => {
      if (isPlainObject(item) && Object.keys(item).some((k) => k.startsWith("$")))
        at(`${path}[${i}]`, `operators cannot be nested in ${op}; list values`);
    });
  };

  walkQuery(condition, "", 0, true);
  if (clauses > LIMITS.conditionClauses)
    at("", `has ${clauses} fields and operators; at most ${LIMITS.conditionClauses}`);
  if (listItems > LIMITS.conditionListItemsTotal)
    at("", `lists ${listItems} values in all; at most ${LIMITS.conditionListItemsTotal}`);
  return problems;
}

/**
 * Answers whether a value satisfies the condition; throws ConditionTooCostly past the condition's budget or,
 * when given the event's meter, past what is left of it.
 */
export type ConditionTest = (value: unknown, event?: Meter) => boolean;

/** A compiled condition; null or empty means "always". Call only on conditions that passed validation. */
export function compileCondition(
  condition: Condition | null | undefined,
  budget: number = LIMITS.conditionSteps,
): ConditionTest {
  if (!condition || Object.keys(condition).length === 0) return () => true;
  const test = query(condition);
  return (value, event) => (event ? drawing(event, budget, (m) => test(value, m)) : test(value, meter(budget)));
}
