// The worst conditions tetik accepts (at its limits) against the largest events it accepts (1 MiB
// bodies shaped to cost the most): how long one evaluation takes, decided or given up at the budget. The
// target is "well under 50 ms": one evaluation must never hold up the worker.
import { compileCondition, ConditionTooCostly } from "../../functions/domain/conditions/condition.ts";
import { LIMITS } from "../../functions/domain/limits.ts";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** Event contexts whose request bodies stay under 1 MiB. */
function largestEvents() {
  const numbers = { arr: range(500_000).map(() => 0) }; // "0," per value: ~1,000,000 bytes
  const wide = { wide: Object.fromEntries(range(80_000).map((i) => [`k${i}`, 1])) };
  const objects = { objs: range(55_000).map(() => ({ a: 1, b: [1, 2] })) };
  const events = { numbers, wide, objects };
  for (const [name, data] of Object.entries(events)) {
    const bytes = Buffer.byteLength(
      JSON.stringify({ type: "collection.created", collection: "c", recordId: "r", data }),
    );
    if (bytes > LIMITS.bodyBytes) throw new Error(`bench: the ${name} event is ${bytes} bytes, past the body limit`);
  }
  return Object.fromEntries(
    Object.entries(events).map(([name, data]) => [
      name,
      { data, event: {}, previous: null, changedFields: [], definition: {} },
    ]),
  );
}

/** Conditions at the limits: 200 clauses, lists of 1,000, and 5,000 list values in all. */
const worstConditions: Record<string, [event: string, condition: Record<string, unknown>]> = {
  "200 comparisons over 500,000 values": ["numbers", { $or: range(200).map(() => ({ "data.arr": { $gt: 1 } })) }],
  "$in of 1,000 objects over 500,000 values": ["numbers", { "data.arr": { $in: range(1000).map((i) => ({ i })) } }],
  "5 x $nin of 1,000 over 500,000 values": [
    "numbers",
    { $or: range(5).map((j) => ({ "data.arr": { $nin: range(1000).map((i) => i + j * 1000) } })) },
  ],
  "$in of 1,000 objects against an 80,000-key object": [
    "wide",
    { "data.wide": { $in: range(1000).map((i) => ({ [`k${i}`]: 1 })) } },
  ],
  "$elemMatch over 55,000 objects": [
    "objects",
    { "data.objs": { $elemMatch: { a: { $in: range(1000).map((i) => i + 2) }, b: { $all: [1, 2, 3] } } } },
  ],
  "a field of 55,000 objects, 200 times": ["objects", { $or: range(200).map(() => ({ "data.objs.b": { $size: 3 } })) }],
};

export interface ConditionFigures {
  budgetSteps: number;
  worstMs: number;
  cases: Record<string, { ms: number; outcome: "decided" | "given up" }>;
}

export function measureConditions(repeat = 7): ConditionFigures {
  const events = largestEvents();
  const cases: ConditionFigures["cases"] = {};
  for (const [name, [eventName, condition]] of Object.entries(worstConditions)) {
    const test = compileCondition(condition);
    const times: number[] = [];
    let outcome: "decided" | "given up" = "decided";
    for (let i = 0; i < repeat; i++) {
      const started = performance.now();
      try {
        test(events[eventName]);
        outcome = "decided";
      } catch (error) {
        if (!(error instanceof ConditionTooCostly)) throw error;
        outcome = "given up";
      }
      times.push(performance.now() - started);
    }
    // The median run: the first ones include compiling the evaluator's hot paths.
    const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
    cases[name] = { ms: Math.round(median * 10) / 10, outcome };
  }
  return { budgetSteps: LIMITS.conditionSteps, worstMs: Math.max(...Object.values(cases).map((c) => c.ms)), cases };
}
