// A condition taken apart clause by clause, each with the value it saw and its verdict: the answer to
// "why did (or didn't) it fire?". Every verdict is the evaluator's own (compileCondition on that clause
// alone), so an explanation cannot disagree with what matching did.
import { ConditionTooCostly, type Condition } from "../conditions/condition.ts";
import { charge, meter, query, type Meter } from "../conditions/evaluate.ts";
import { jsonPreview } from "./json-preview.ts";
import { LOGICAL } from "../conditions/language.ts";
import { LIMITS } from "../limits.ts";

/** A clause's verdict; "undecided" when it ran out of its evaluation budget (the definition's actions then fail). */
export type Verdict = boolean | "undecided";

// A type, not an interface: answers hold clauses inside clauses, and only a type alias is a JSON record.
export type ClauseExplanation = {
  /** `data.total $gt 100: 120 -> true`, as a person reads it. */
  text: string;
  path?: string;
  operator: string;
  expected: unknown;
  /** The value at the path (undefined: missing). For logical operators, absent. */
  seen?: unknown;
  verdict: Verdict;
  /** The parts of $and/$or/$nor and $not. */
  clauses?: ClauseExplanation[];
};

export interface ConditionExplanation {
  verdict: Verdict;
  clauses: ClauseExplanation[];
}

const isOperatorObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.keys(v).length > 0 &&
  Object.keys(v).every((k) => k.startsWith("$"));

/**
 * One budget of steps for a whole answer (every clause of every definition explained, the values read at
 * their paths and quoted): ten conditions' worth. Past it, what is left says "undecided" instead of running on.
 */
export const explanationBudget = (): Meter => meter(LIMITS.explanationSteps);

function verdictOf(condition: Condition, context: unknown, budget: Meter): Verdict {
  try {
    return query(condition)(context, budget);
  } catch (error) {
    if (error instanceof ConditionTooCostly) return "undecided";
    throw error;
  }
}

/** Read, but not to the end: the budget ran out first. */
const NOT_READ = Symbol("not read");

/**
 * The value at a dotted path, as a person would point at it: own properties, array elements by index, or
 * each element's field. Every value visited is charged to `budget`.
 */
export function valueAt(root: unknown, path: string, budget: Meter = explanationBudget()): unknown {
  let values: unknown[] = [root];
  for (const key of path.split(".")) {
    const next: unknown[] = [];
    for (const value of values) {
      charge(budget, 1);
      if (Array.isArray(value)) {
        if (/^\d+$/.test(key)) next.push(value[Number(key)]);
        else
          for (const item of value) {
            charge(budget, 1);
            next.push(
              item !== null && typeof item === "object" && Object.hasOwn(item, key)
                ? (item as Record<string, unknown>)[key]
                : undefined,
            );
          }
      } else if (value !== null && typeof value === "object" && Object.hasOwn(value, key)) {
        next.push((value as Record<string, unknown>)[key]);
      } else next.push(undefined);
    }
    values = next;
  }
  const present = values.filter((v) => v !== undefined);
  return values.length === 1 ? values[0] : present.length ? present : undefined;
}

function readValue(root: unknown, path: string, budget: Meter): unknown {
  try {
    return valueAt(root, path, budget);
  } catch (error) {
    if (error instanceof ConditionTooCostly) return NOT_READ;
    throw error;
  }
}

/** How many characters of a value `text` quotes (a clause on `data` would otherwise copy the event). */
const SHOWN_CHARS = 200;
/** `seen` as answered: a value past 4 KiB of JSON is described, not copied. */
const SEEN_CHARS = 4096;

function preview(value: unknown, maxChars: number, budget: Meter) {
  try {
    return jsonPreview(value, maxChars, budget);
  } catch (error) {
    if (error instanceof ConditionTooCostly)
      return { text: "(not shown: the explanation's budget ran out)", complete: false };
    throw error;
  }
}

const show = (value: unknown, budget: Meter) => {
  if (value === undefined) return "(missing)";
  if (value === NOT_READ) return "(not read: the explanation's budget ran out)";
  const { text, complete } = preview(value, SHOWN_CHARS, budget);
  return complete ? text : `${text}…`;
};
const seenOf = (value: unknown, budget: Meter) => {
  if (value === undefined) return undefined;
  if (value === NOT_READ) return { notRead: true };
  return preview(value, SEEN_CHARS, budget).complete ? value : { truncated: true, moreThanJsonChars: SEEN_CHARS };
};
const say = (verdict: Verdict) => String(verdict);

function explainField(path: string, spec: unknown, context: unknown, budget: Meter): ClauseExplanation[] {
  const seen = readValue(context, path, budget);
  if (!isOperatorObject(spec)) {
    const verdict = verdictOf({ [path]: spec }, context, budget);
    return [
      {
        text: `${path} = ${show(spec, budget)}: ${show(seen, budget)} -> ${say(verdict)}`,
        path,
        operator: "$eq",
        expected: spec,
        seen: seenOf(seen, budget),
        verdict,
      },
    ];
  }
  return Object.entries(spec).map(([operator, expected]): ClauseExplanation => {
    const verdict = verdictOf({ [path]: { [operator]: expected } }, context, budget);
    const clause: ClauseExplanation = {
      text: `${path} ${operator} ${show(expected, budget)}: ${show(seen, budget)} -> ${say(verdict)}`,
      path,
      operator,
      expected,
      seen: seenOf(seen, budget),
      verdict,
    };
    if (operator === "$not") clause.clauses = explainField(path, expected, context, budget);
    return clause;
  });
}

function explainLogical(operator: string, parts: Condition[], context: unknown, budget: Meter): ClauseExplanation {
  const verdict = verdictOf({ [operator]: parts }, context, budget);
  const clauses = parts.map((part): ClauseExplanation => {
    const inner = explainCondition(part, context, budget);
    return {
      text: `${show(part, budget)} -> ${say(inner.verdict)}`,
      operator: "$part",
      expected: part,
      verdict: inner.verdict,
      clauses: inner.clauses,
    };
  });
  return { text: `${operator} of ${parts.length}: -> ${say(verdict)}`, operator, expected: parts, verdict, clauses };
}

/** Every clause of `condition` against `context` (a null or empty condition always matches), within `budget`. */
export function explainCondition(
  condition: Condition | null | undefined,
  context: unknown,
  budget: Meter = explanationBudget(),
): ConditionExplanation {
  if (!condition || Object.keys(condition).length === 0) return { verdict: true, clauses: [] };
  const clauses = Object.entries(condition).flatMap(([key, value]) =>
    LOGICAL.has(key)
      ? [explainLogical(key, value as Condition[], context, budget)]
      : explainField(key, value, context, budget),
  );
  return { verdict: verdictOf(condition, context, budget), clauses };
}
