// What one event may cost, as properties over generated templates, conditions and events (issue 26): a
// render never makes more than LIMITS.renderedBytes of JSON (plus the template's own text), matching an
// event takes at most LIMITS.eventConditionSteps however many definitions watch it, and an explanation's
// answer stays within a size fixed by the limits. Steps are the documented measure of time (about 30-50 ns
// each, see limits.ts): counted, not timed, so the properties hold on any machine.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Condition } from "../../functions/domain/conditions/condition.ts";
import { conditionProblems } from "../../functions/domain/conditions/condition.ts";
import { meter } from "../../functions/domain/conditions/evaluate.ts";
import { explainCondition } from "../../functions/domain/explain/explain-condition.ts";
import { LIMITS } from "../../functions/domain/limits.ts";
import {
  type DefinitionWithTargets,
  firedDefinitions,
  type MatchableEvent,
} from "../../functions/domain/matching/match-definitions.ts";
import { RenderedTooLarge, renderTemplate } from "../../functions/domain/templates/template.ts";

const key = fc.constantFrom("a", "b", "c");

// Large values are built from a few generated numbers, not generated element by element: a property runs
// in milliseconds and still meets events near the body limit.
const leaf = fc.oneof(
  fc.integer(),
  fc.constantFrom("x", "", 'quote " and back\\slash', "\u0001\u0002 control", "é ü 💥"),
  fc.boolean(),
  fc.constant(null),
);
const shape = fc.record({ width: fc.integer({ min: 0, max: 3000 }), depth: fc.integer({ min: 0, max: 3 }), leaf });

function build({ width, depth, leaf }: { width: number; depth: number; leaf: unknown }): unknown {
  if (depth === 0) return leaf;
  const inner = build({ width: Math.min(width, 4), depth: depth - 1, leaf });
  return Array.from({ length: width }, (_, i) => ({ a: inner, b: i, c: leaf }));
}

const eventData = fc
  .record({ a: shape, b: shape, c: shape })
  .map(({ a, b, c }) => ({ a: build(a), b: build(b), c: build(c) }))
  // What ingestion admits: a body of at most 1 MiB.
  .filter((data) => JSON.stringify(data).length < LIMITS.bodyBytes);

const event = (data: unknown): MatchableEvent => ({
  id: "evt_1",
  type: "collection_created",
  collection: "orders",
  recordId: "o-1",
  occurredAt: new Date(0),
  depth: 0,
  data: data as never,
  previous: data as never,
  changedFields: [],
});

const path = fc.array(key, { minLength: 1, maxLength: 3 }).map((keys) => `data.${keys.join(".")}`);
const placeholder = fc.oneof(
  fc.constantFrom("{{data}}", "{{previous}}", "{{event.id}}"),
  path.map((p) => `{{ ${p} }}`),
);
// Strings that are one placeholder, or text with placeholders in it, repeated up to 200 times.
const templateString = fc.oneof(
  placeholder,
  fc
    .array(fc.oneof(placeholder, fc.constantFrom("text ", '"q" ', "")), { maxLength: 200 })
    .map((parts) => parts.join("")),
);
const { template } = fc.letrec<{ template: unknown }>((tie) => ({
  template: fc.oneof(
    { depthIdentifier: "template", maxDepth: 3 },
    templateString,
    fc.array(tie("template"), { maxLength: 40 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie("template"), { maxKeys: 8, noNullPrototype: true }),
  ),
}));

const scalar = fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom("x", ""), fc.boolean(), fc.constant(null));
const list = fc.array(scalar, { minLength: 1, maxLength: 50 });
const fieldTest = fc.oneof(
  scalar,
  scalar.map((v) => ({ $ne: v })),
  fc.tuple(fc.constantFrom("$gt", "$lt"), fc.integer()).map(([op, v]) => ({ [op]: v })),
  list.map((v) => ({ $in: v })),
  list.map((v) => ({ $all: v })),
  fc.boolean().map((v) => ({ $exists: v })),
  fc.constant({ $elemMatch: { a: { $elemMatch: { c: 1 } } } }),
  fc.constant({ $not: { $size: 2 } }),
);
const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthIdentifier: "condition", maxDepth: 3 },
    fc.dictionary(path, fieldTest, { minKeys: 1, maxKeys: 4, noNullPrototype: true }),
    fc
      .tuple(fc.constantFrom("$and", "$or", "$nor"), fc.array(tie("condition"), { minLength: 1, maxLength: 4 }))
      .map(([op, subs]) => ({ [op]: subs })),
  ),
}));
const validCondition = condition.filter((c) => conditionProblems(c, { roots: ["data"] }).length === 0);

const definition = (id: number, condition: Condition): DefinitionWithTargets =>
  ({
    id: `def_${id}`,
    name: `d${id}`,
    type: "collection_created",
    collection: "orders",
    fields: [],
    condition,
    active: true,
    webhooks: [],
    triggers: [],
  }) as unknown as DefinitionWithTargets;

describe("cost per event, over generated inputs", () => {
  it("a render makes at most LIMITS.renderedBytes of JSON, or stops with rendered_too_large", () => {
    fc.assert(
      fc.property(template, eventData, (t, data) => {
        const context = { event: { id: "evt_1" }, data, previous: data };
        let rendered: unknown;
        try {
          rendered = renderTemplate(t, context);
        } catch (error) {
          expect(error).toBeInstanceOf(RenderedTooLarge);
          return;
        }
        // The template's own text (its keys, quotes and escapes) comes on top, as JSON writes it.
        const templateJson = JSON.stringify(t).length;
        expect(JSON.stringify(rendered).length).toBeLessThanOrEqual(LIMITS.renderedBytes + 6 * templateJson);
      }),
      { numRuns: 150 },
    );
  });

  it("matching takes at most one event's steps, however many definitions watch the collection", () => {
    fc.assert(
      fc.property(fc.array(validCondition, { minLength: 1, maxLength: 60 }), eventData, (conditions, data) => {
        const budget = meter(LIMITS.eventConditionSteps, "event");
        const fired = firedDefinitions(
          event(data),
          conditions.map((c, i) => definition(i, c)),
          budget,
        );
        const spent = LIMITS.eventConditionSteps - budget.left;
        // One charge may pass the budget before it stops: listing an object's keys, at most 5 steps per key.
        expect(spent).toBeLessThanOrEqual(LIMITS.eventConditionSteps + 5 * 3000);
        for (const f of fired) if (f.failure) expect(f.failure.errorCode).toBe("condition_too_costly");
      }),
      { numRuns: 100 },
    );
  });

  it("an explanation takes at most its steps and answers in a size fixed by the limits", () => {
    fc.assert(
      fc.property(validCondition, eventData, (c, data) => {
        const budget = meter(LIMITS.explanationSteps);
        const explanation = explainCondition(c, { data }, budget);
        expect(LIMITS.explanationSteps - budget.left).toBeLessThanOrEqual(LIMITS.explanationSteps + 5 * 3000);
        // Per clause: its text (two values of 200 characters), what it saw (4 KiB) and what it expected.
        const perClause = 2 * 200 + 4096 + 500;
        const bound = LIMITS.conditionClauses * perClause + 3 * JSON.stringify(c).length;
        expect(JSON.stringify(explanation).length).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 100 },
    );
  });
});
