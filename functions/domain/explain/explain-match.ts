// Why one definition matched one event or not: active, the type (and for field.updated the watched
// fields against the changed ones), then the condition clause by clause. The verdict is
// matchesDefinition's own, so it is what matching decided (or will decide).
import type { EventDefinition } from "../../platform/db.ts";
import { ConditionTooCostly, type Condition } from "../conditions/condition.ts";
import { eventContext } from "../events/event-context.ts";
import { toPublicEventType } from "../events/event-type.ts";
import { LIMITS } from "../limits.ts";
import { eventBudget, matchesDefinition, type MatchableEvent } from "../matching/match-definitions.ts";
import type { Meter } from "../conditions/evaluate.ts";
import { explainCondition, explanationBudget, type ConditionExplanation, type Verdict } from "./explain-condition.ts";

export interface Check {
  passed: boolean;
  text: string;
}

export interface MatchExplanation {
  matched: Verdict;
  active: Check;
  collection: Check;
  type: Check;
  /** Evaluated even when an earlier check failed, so the whole answer is there to read. */
  condition: ConditionExplanation;
}

/**
 * Matching's verdict on one definition, drawing on `budget`, the event's: called for a collection's
 * definitions in the worker's order with one budget, it is the verdict the worker reached.
 */
export function matchVerdict(event: MatchableEvent, definition: EventDefinition, budget: Meter): Verdict {
  try {
    return matchesDefinition(event, definition, budget);
  } catch (error) {
    if (!(error instanceof ConditionTooCostly)) throw error;
    return "undecided";
  }
}

/** Why `definition` did or did not match: `matched` is matchVerdict's, `budget` pays for the clauses. */
export function explainMatch(
  event: MatchableEvent,
  definition: EventDefinition,
  matched: Verdict,
  budget: Meter = explanationBudget(),
): MatchExplanation {
  const type = toPublicEventType(definition.type);
  const eventType = toPublicEventType(event.type);
  const active: Check = definition.active
    ? { passed: true, text: "active" }
    : { passed: false, text: "inactive: an inactive definition never fires" };
  const collection: Check =
    definition.collection === event.collection
      ? { passed: true, text: `watches ${definition.collection}` }
      : { passed: false, text: `watches ${definition.collection}, not ${event.collection}` };
  let typeCheck: Check;
  if (type === "field.updated") {
    const changed = definition.fields.filter((field) => event.changedFields.includes(field));
    const why = event.previous
      ? `changed ${JSON.stringify(event.changedFields)}`
      : `carries no previous values, so every field it has counts as changed: ${JSON.stringify(event.changedFields)}`;
    const verdict = changed.length > 0 ? `true (${changed.join(", ")})` : "false";
    typeCheck =
      eventType !== "collection.updated"
        ? { passed: false, text: `field.updated watches updates; this is a ${eventType}` }
        : {
            passed: changed.length > 0,
            text: `field.updated watches ${JSON.stringify(definition.fields)}; the update ${why} -> ${verdict}`,
          };
  } else {
    typeCheck = { passed: type === eventType, text: `${type} ${type === eventType ? "=" : "is not"} ${eventType}` };
  }
  const condition = explainCondition(definition.condition as Condition | null, eventContext(event, definition), budget);
  return { matched, active, collection, type: typeCheck, condition };
}

/** A collection's definitions judged for one event, and which of them are explained clause by clause. */
export interface Selection<D extends EventDefinition> {
  verdicts: Map<string, Verdict>;
  /** At most LIMITS.explainedDefinitions, in the order given. */
  explained: D[];
  omitted: number;
}

/**
 * Judges every definition in the worker's order with one event budget (so each verdict is the worker's),
 * then picks those worth explaining: the ones `first` names (those that produced actions), then those that
 * matched or were not decided, then the rest.
 */
export function selectExplained<D extends EventDefinition>(
  event: MatchableEvent,
  definitions: D[],
  first: (definition: D) => boolean = () => false,
): Selection<D> {
  const budget = eventBudget();
  const verdicts = new Map(definitions.map((d) => [d.id, matchVerdict(event, d, budget)]));
  const rank = (d: D) => (first(d) ? 0 : verdicts.get(d.id) !== false ? 1 : 2);
  const chosen = new Set([...definitions].sort((a, b) => rank(a) - rank(b)).slice(0, LIMITS.explainedDefinitions));
  return {
    verdicts,
    explained: definitions.filter((d) => chosen.has(d)),
    omitted: definitions.length - chosen.size,
  };
}
