// Which definitions an event fires (the actions that follow are planned by delivery/plan-actions.ts).
import type { EventDefinition, EventLog, EventTrigger, Webhook } from "../../platform/db.ts";
import { compileCondition, ConditionTooCostly, type Condition, type ConditionTest } from "../conditions/condition.ts";
import { meter, type Meter } from "../conditions/evaluate.ts";
import { eventContext } from "../events/event-context.ts";
import { LIMITS } from "../limits.ts";

export type DefinitionWithTargets = EventDefinition & {
  webhooks: Pick<Webhook, "id" | "ordering">[];
  triggers: Pick<EventTrigger, "id">[];
  /** The compiled condition, when a cache holds it; compiled on the spot otherwise. */
  conditionTest?: ConditionTest;
};

/** What matching and delivery read of an event. */
export type MatchableEvent = Pick<
  EventLog,
  "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "data" | "previous" | "changedFields"
>;

/** Whether `definition` fires for `event`; its condition draws on `budget` (the event's) when given one. */
export function matchesDefinition(
  event: MatchableEvent,
  definition: EventDefinition & { conditionTest?: ConditionTest },
  budget?: Meter,
): boolean {
  if (!definition.active || definition.collection !== event.collection) return false;
  const typeMatches =
    definition.type === event.type ||
    (definition.type === "field_updated" &&
      event.type === "collection_updated" &&
      definition.fields.some((field) => event.changedFields.includes(field)));
  if (!typeMatches) return false;
  const test = definition.conditionTest ?? compileCondition(definition.condition as Condition | null);
  return test(eventContext(event, definition), budget);
}

/** A definition an event fires, or whose condition could not be decided (`failure` says why). */
export interface FiredDefinition {
  definition: DefinitionWithTargets;
  failure?: { errorCode: string; error: string };
}

/** The steps every condition of one event's collection may take together (LIMITS.eventConditionSteps). */
export const eventBudget = (): Meter => meter(LIMITS.eventConditionSteps, "event");

/**
 * The definitions `event` fires. A definition whose condition ran out of its budget neither matched nor
 * failed to: it is answered with the failure, so the log can say why its actions did not run. The
 * conditions all draw on one budget for the event, so adding definitions cannot make one event cost more.
 */
export function firedDefinitions(
  event: MatchableEvent,
  definitions: DefinitionWithTargets[],
  budget: Meter = eventBudget(),
): FiredDefinition[] {
  return definitions.flatMap((definition) => {
    try {
      return matchesDefinition(event, definition, budget) ? [{ definition }] : [];
    } catch (error) {
      if (!(error instanceof ConditionTooCostly)) throw error;
      const reason = `the condition of definition "${definition.name}" was not decided: ${error.message}`;
      return [{ definition, failure: { errorCode: error.code, error: reason } }];
    }
  });
}
