// The condition language evaluated in memory (validated conditions only: see condition.ts).
//
// Paths read JSON as MongoDB does: a field of an array is that field of each element, and a value that
// is an array satisfies an operator when the array itself or one of its elements does. Only a JSON
// object's own fields are read: `data.constructor` is a field the event has, or nothing.
//
// Every value visited and every value compared is paid for from a budget of steps, so no condition can
// hold up the worker however large the event: past the budget, evaluation stops with ConditionTooCostly.
// $in, $nin and $all look scalars up in a Set: a 1,000-value list costs one step per value visited, not
// a thousand.

import { appliesToElements, isOperatorObject, LOGICAL } from "./language.ts";

/** What a budget was for: one condition, or every condition of one event's collection together. */
export type BudgetScope = "condition" | "event";

/** The budget of one evaluation ran out before the condition was decided. */
export class ConditionTooCostly extends Error {
  readonly code = "condition_too_costly";
  constructor(
    readonly steps: number,
    readonly scope: BudgetScope = "condition",
  ) {
    super(
      scope === "event"
        ? `the conditions of this event's definitions together took more than ${steps} steps ` +
            "(values visited and compared); later definitions are not decided"
        : `evaluating the condition took more than ${steps} steps (values visited and compared) against this event`,
    );
    this.name = "ConditionTooCostly";
  }
}

export interface Meter {
  /** Steps left. */
  left: number;
  readonly budget: number;
  readonly scope?: BudgetScope;
}

export const meter = (budget: number, scope: BudgetScope = "condition"): Meter => ({ left: budget, budget, scope });

/** Takes `steps` from `m`; throws ConditionTooCostly when it runs out. */
export function charge(m: Meter, steps: number) {
  m.left -= steps;
  if (m.left < 0) throw new ConditionTooCostly(m.budget, m.scope);
}

/**
 * Runs `evaluate` on a meter of its own `budget`, charged to `shared` as well (the event's budget, which
 * every definition of the collection draws from): whichever runs out first stops it.
 */
export function drawing<T>(shared: Meter, budget: number, evaluate: (m: Meter) => T): T {
  const own =
    shared.left < budget
      ? { left: Math.max(shared.left, 0), budget: shared.budget, scope: shared.scope }
      : meter(budget);
  const start = own.left;
  try {
    return evaluate(own);
  } finally {
    shared.left -= start - own.left;
  }
}

/** A test of one value (a record, the event context, an element of an array). */
export type Test = (value: unknown, m: Meter) => boolean;
/** Seen at the end of a path: the value (undefined when missing) and whether its parent has it. */
type Visitor = (value: unknown, present: boolean) => boolean;

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is string | number | boolean | null =>
  v === null || (typeof v !== "object" && v !== undefined);
const INDEX = /^(0|[1-9]\d*)$/;
const KEY_LISTING_STEPS = 4;

/** Calls `visit` for each value at `keys` below `value`, until it answers true (then answers true). */
function walk(
  value: unknown,
  keys: readonly string[],
  depth: number,
  present: boolean,
  visit: Visitor,
  m: Meter,
): boolean {
  charge(m, 1);
  if (depth === keys.length) {
    if (Array.isArray(value)) {
      for (const element of value) {
        charge(m, 1);
        if (visit(element, true)) return true;
      }
    }
    return visit(value, present);
  }
  const key = keys[depth]!;
  if (Array.isArray(value)) {
    if (INDEX.test(key)) {
      const i = Number(key);
      return walk(value[i], keys, depth + 1, i < value.length, visit, m);
    }
    if (value.length === 0) return visit(undefined, false);
    for (const element of value) if (walk(element, keys, depth, true, visit, m)) return true;
    return false;
  }
  if (isObject(value) && Object.hasOwn(value, key)) return walk(value[key], keys, depth + 1, true, visit, m);
  // Missing, or a scalar: it has no fields.
  return visit(undefined, false);
}

/** JSON equality; a missing value equals null (as in MongoDB). */
export function equals(a: unknown, b: unknown, m: Meter): boolean {
  charge(m, 1);
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equals(a[i], b[i], m)) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    const otherKeys = Object.keys(b).length;
    // Listing a large object's keys costs V8 about four times a step per key (measured: ~130 ns against
    // 10-30 ns): paid for, or comparing a wide event object again and again would take seconds.
    charge(m, keys.length + KEY_LISTING_STEPS * otherKeys);
    if (keys.length !== otherKeys) return false;
    for (const key of keys) if (!Object.hasOwn(b, key) || !equals(a[key], b[key], m)) return false;
    return true;
  }
  return false;
}

/** A membership test: scalars from a Set, objects and arrays compared one by one. */
function member(items: unknown[]) {
  const scalars = new Set(items.filter(isScalar));
  const others = items.filter((item) => !isScalar(item));
  return (value: unknown, m: Meter) =>
    scalars.has(value === undefined ? null : (value as never)) ||
    (!isScalar(value) && value !== undefined && others.some((other) => equals(other, value, m)));
}

/** A test that some value at the path satisfies `predicate`. */
type ValueTest = (keys: readonly string[], root: unknown, m: Meter) => boolean;
const some =
  (predicate: (value: unknown, present: boolean, m: Meter) => boolean): ValueTest =>
  (keys, root, m) =>
    walk(root, keys, 0, true, (value, present) => predicate(value, present, m), m);
const not =
  (test: ValueTest): ValueTest =>
  (keys, root, m) =>
    !test(keys, root, m);

function equalTo(expected: unknown): ValueTest {
  if (isScalar(expected)) return some((value) => value === expected || (expected === null && value === undefined));
  return some((value, _, m) => equals(expected, value, m));
}

/** What the ordered operators compare (the condition checker admits no other bound). */
type Ordered = number | string;

function compare(op: string, bound: unknown): ValueTest {
  const holds = {
    $gt: (a: Ordered, b: Ordered) => a > b,
    $gte: (a: Ordered, b: Ordered) => a >= b,
    $lt: (a: Ordered, b: Ordered) => a < b,
    $lte: (a: Ordered, b: Ordered) => a <= b,
  }[op]!;
  // Numbers compare with numbers and strings with strings; nothing else is ordered.
  return some((value) => typeof value === typeof bound && holds(value as Ordered, bound as Ordered));
}

function allOf(items: unknown[]): ValueTest {
  const scalars = new Set(items.filter(isScalar));
  const others = items.filter((item) => !isScalar(item));
  const needed = scalars.size + others.length;
  return (keys, root, m) => {
    const seen = new Set<unknown>();
    walk(
      root,
      keys,
      0,
      true,
      (visited) => {
        const value = visited === undefined ? null : visited;
        if (isScalar(value)) {
          if (scalars.has(value)) seen.add(value);
        } else {
          for (const other of others) if (!seen.has(other) && equals(other, value, m)) seen.add(other);
        }
        return seen.size === needed;
      },
      m,
    );
    return seen.size === needed;
  };
}

/** The tests of an operator object ({ $gt: 1, $lt: 5 }), all of which must hold. */
function operators(ops: JsonObject): ValueTest {
  const tests = Object.entries(ops).map(([op, arg]): ValueTest => {
    switch (op) {
      case "$eq":
        return equalTo(arg);
      case "$ne":
        return not(equalTo(arg));
      case "$gt":
      case "$gte":
      case "$lt":
      case "$lte":
        return compare(op, arg);
      case "$in": {
        const isMember = member(arg as unknown[]);
        return some((value, _, m) => isMember(value, m));
      }
      case "$nin": {
        const isMember = member(arg as unknown[]);
        return not(some((value, _, m) => isMember(value, m)));
      }
      case "$exists":
        return arg ? some((_, present) => present) : not(some((_, present) => present));
      case "$size":
        return some((value) => Array.isArray(value) && value.length === arg);
      case "$all":
        return allOf(arg as unknown[]);
      case "$elemMatch": {
        const sub = arg as JsonObject;
        const onElement: Test = appliesToElements(sub) ? valueTest(operators(sub)) : query(sub);
        return some((value, _, m) => Array.isArray(value) && value.some((element) => onElement(element, m)));
      }
      case "$not":
        return not(isOperatorObject(arg) ? operators(arg) : equalTo(arg));
      default:
        throw new Error(`unknown operator ${op}`);
    }
  });
  return (keys, root, m) => tests.every((test) => test(keys, root, m));
}

const NO_KEYS: readonly string[] = [];

/** A value test applied to a value itself (an element under $elemMatch). */
const valueTest =
  (test: ValueTest): Test =>
  (value, m) =>
    test(NO_KEYS, value, m);

/** A query over the fields of a value: { "data.total": { $gt: 100 }, $or: [...] }. Validated input only. */
export function query(q: JsonObject): Test {
  const tests = Object.entries(q).map(([key, value]): Test => {
    if (LOGICAL.has(key)) {
      const subs = (value as JsonObject[]).map(query);
      if (key === "$and") return (v, m) => subs.every((sub) => sub(v, m));
      if (key === "$or") return (v, m) => subs.some((sub) => sub(v, m));
      return (v, m) => !subs.some((sub) => sub(v, m));
    }
    const keys = key.split(".");
    const test = isOperatorObject(value) ? operators(value) : equalTo(value);
    return (v, m) => test(keys, v, m);
  });
  return (value, m) => tests.every((test) => test(value, m));
}
