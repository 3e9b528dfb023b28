// Translates a filter (the condition language, see condition.ts) into a SQL predicate over a JSONB value,
// so Postgres selects the matching records itself and nothing is loaded into memory to be tested.
// Semantics follow the in-memory evaluation: equality also matches an element of an array, comparisons
// only compare numbers with numbers and strings with strings, and $ne/$nin match missing fields.
import sql, { join, raw, type Sql } from "sql-template-tag";
import { invalid } from "../errors.ts";
import type { Condition } from "./condition.ts";
import { appliesToElements, isOperatorObject, isPlainObject, LOGICAL } from "./language.ts";

const TRUE = sql`TRUE`;
const FALSE = sql`FALSE`;
const COMPARE: Record<string, Sql> = { $gt: sql`>`, $gte: sql`>=`, $lt: sql`<`, $lte: sql`<=` };

const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
const all = (parts: Sql[], glue: string, empty: Sql) => (parts.length === 0 ? empty : sql`(${join(parts, glue)})`);

/** `value` at a dotted path ("a.b.0") below a JSONB expression; SQL NULL when missing. */
function at(base: Sql, path: string): Sql {
  return sql`(${base} #> ${path.split(".")}::text[])`;
}

const isScalar = (v: unknown) => typeof v === "string" || typeof v === "number" || typeof v === "boolean";

/**
 * `$."a"."b" == value` for the path "a.b": lax mode also matches an element of an array, as the in-memory
 * evaluation does.
 */
function jsonPathEquals(path: string, value: unknown): string {
  return `$${path
    .split(".")
    .map((key) => `.${JSON.stringify(key)}`)
    .join("")} == ${JSON.stringify(value)}`;
}

/**
 * Equality of the field at `path` below `base`. For a scalar below the record's own data column, where
 * no NOT is above it, it is written as a jsonpath match: the same test in a form the GIN index on data
 * answers, so a filter on {"customerId": "c-1"} reads the matching rows, not the whole collection.
 */
function fieldEquals(base: Sql, path: string, value: unknown, indexed: boolean): Sql {
  if (indexed && isScalar(value) && !path.split(".").some((key) => /^\d+$/.test(key))) {
    // A type mismatch makes @@ unknown rather than false: harmless here, where nothing negates it.
    return sql`(${base} @@ ${jsonPathEquals(path, value)}::jsonpath)`;
  }
  return equals(at(base, path), value);
}

/** Equality as the in-memory evaluation has it: the value itself, or one element of an array. */
function equals(x: Sql, value: unknown): Sql {
  if (value === null) return sql`(${x} IS NULL OR ${x} = 'null'::jsonb)`;
  const element =
    isPlainObject(value) || Array.isArray(value)
      ? FALSE
      : sql`(jsonb_typeof(${x}) = 'array' AND ${x} @> ${jsonb([value])})`;
  return sql`(${x} IS NOT NULL AND (${x} = ${jsonb(value)} OR ${element}))`;
}

/** Numbers compare with numbers and strings with strings (conditionProblems refuses other bounds). */
function compare(x: Sql, op: string, value: number | string): Sql {
  if (typeof value === "number") {
    return sql`(CASE WHEN jsonb_typeof(${x}) = 'number' THEN (${x})::numeric ${COMPARE[op]!} ${value} ELSE FALSE END)`;
  }
  return sql`(CASE WHEN jsonb_typeof(${x}) = 'string'
    THEN (${x} #>> '{}') COLLATE "C" ${COMPARE[op]!} ${value} COLLATE "C" ELSE FALSE END)`;
}

/** `field` names where x came from (base and key), so equality can use the index; absent below $elemMatch. */
type Field = { base: Sql; key: string; indexed: boolean };

function operators(x: Sql, ops: Record<string, unknown>, path: string, depth: number, field?: Field): Sql {
  const eq = (value: unknown) => (field ? fieldEquals(field.base, field.key, value, field.indexed) : equals(x, value));
  const parts = Object.entries(ops).map(([op, arg]): Sql => {
    switch (op) {
      case "$eq":
        return eq(arg);
      case "$ne":
        return sql`NOT ${equals(x, arg)}`;
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        return compare(x, op, arg as number | string);
      case "$in":
        return all((arg as unknown[]).map(eq), " OR ", FALSE);
      case "$nin":
        return sql`NOT ${all(
          (arg as unknown[]).map((v) => equals(x, v)),
          " OR ",
          FALSE,
        )}`;
      case "$exists":
        return arg ? sql`(${x} IS NOT NULL)` : sql`(${x} IS NULL)`;
      case "$not":
        return sql`NOT ${isOperatorObject(arg) ? operators(x, arg, path, depth + 1) : equals(x, arg)}`;
      case "$size":
        return sql`(CASE WHEN jsonb_typeof(${x}) = 'array'
          THEN jsonb_array_length(${x}) = ${arg as number} ELSE FALSE END)`;
      case "$all":
        return sql`(CASE WHEN jsonb_typeof(${x}) = 'array' THEN ${x} @> ${jsonb(arg)} ELSE FALSE END)`;
      case "$elemMatch": {
        const element = raw(`elem${depth}.value`);
        const sub = arg as Record<string, unknown>;
        const onElement = appliesToElements(sub)
          ? operators(element, sub, path, depth + 1)
          : query(element, sub, path, depth + 1);
        const from = sql`jsonb_array_elements(CASE WHEN jsonb_typeof(${x}) = 'array' THEN ${x} ELSE '[]'::jsonb END)`;
        return sql`EXISTS (SELECT 1 FROM ${from} AS ${raw(`elem${depth}`)} WHERE ${onElement})`;
      }
      default:
        throw invalid(`${path}.${op}: unknown operator ${op}`);
    }
  });
  return all(parts, " AND ", TRUE);
}

function query(base: Sql, filter: Record<string, unknown>, path: string, depth: number, indexed = false): Sql {
  const parts = Object.entries(filter).map(([key, value]): Sql => {
    const here = path ? `${path}.${key}` : key;
    if (LOGICAL.has(key)) {
      // Below $nor a NOT is applied: only the plain forms keep their meaning there.
      const subs = (value as Record<string, unknown>[]).map((sub, i) =>
        query(base, sub, `${here}[${i}]`, depth + 1, indexed && key !== "$nor"),
      );
      if (key === "$and") return all(subs, " AND ", TRUE);
      const any = all(subs, " OR ", FALSE);
      return key === "$or" ? any : sql`NOT ${any}`;
    }
    const x = at(base, key);
    const field = { base, key, indexed };
    return isOperatorObject(value) ? operators(x, value, here, depth, field) : fieldEquals(base, key, value, indexed);
  });
  return all(parts, " AND ", TRUE);
}

/**
 * A SQL predicate for `filter` over the JSONB column `column`. Call only on filters that passed
 * conditionProblems().
 */
export function filterToSql(filter: Condition, column: Sql = sql`data`): Sql {
  return query(column, filter, "", 0, true);
}
