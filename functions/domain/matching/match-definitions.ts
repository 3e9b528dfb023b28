// Which definitions an event fires, and the actions (webhooks, triggers) that follow from them.
import type { EventDefinition, EventLog, EventTrigger, Webhook } from "../../platform/db.ts";
import { derivedId } from "../../platform/ids.ts";
import { compileCondition, ConditionTooCostly, type Condition, type ConditionTest } from "../conditions/condition.ts";
import { eventContext } from "../events/event-context.ts";

/** An action an event's match calls for: one per active trigger and webhook of each matching definition. */
export interface PlannedAction {
  id: string;
  eventId: string;
  kind: "webhook" | "trigger";
  targetId: string;
  definitionId: string;
  /** Set when the action cannot run: it is written as failed, with this code and reason. */
  failure?: { errorCode: string; error: string };
}

export type DefinitionWithTargets = EventDefinition & {
  webhooks: Pick<Webhook, "id">[];
  triggers: Pick<EventTrigger, "id">[];
  /** The compiled condition, when a cache holds it; compiled on the spot otherwise. */
  conditionTest?: ConditionTest;
};

/** What matching and delivery read of an event. */
export type MatchableEvent = Pick<
  EventLog,
  "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "data" | "previous" | "changedFields"
>;

export function matchesDefinition(
  event: MatchableEvent,
  definition: EventDefinition & { conditionTest?: ConditionTest },
): boolean {
  if (!definition.active || definition.collection !== event.collection) return false;
  const typeMatches =
    definition.type === event.type ||
    (definition.type === "field_updated" &&
      event.type === "collection_updated" &&
      definition.fields.some((field) => event.changedFields.includes(field)));
  if (!typeMatches) return false;
  const test = definition.conditionTest ?? compileCondition(definition.condition as Condition | null);
  return test(eventContext(event, definition));
}

/**
 * One action per active trigger and per active webhook of each matching definition. A definition whose
 * condition ran out of its budget neither matched nor failed to: its actions are planned as failed, so
 * the log says why they did not run (a replay runs them).
 */
export function planActions(event: MatchableEvent, definitions: DefinitionWithTargets[]): PlannedAction[] {
  const action = (
    definitionId: string,
    kind: "trigger" | "webhook",
    targetId: string,
    failure?: PlannedAction["failure"],
  ) => ({
    id: derivedId("act", event.id, `${event.id}/${kind}/${targetId}`),
    eventId: event.id,
    kind,
    targetId,
    definitionId,
    ...(failure ? { failure } : {}),
  });
  return definitions.flatMap((definition) => {
    let failure: PlannedAction["failure"];
    try {
      if (!matchesDefinition(event, definition)) return [];
    } catch (error) {
      if (!(error instanceof ConditionTooCostly)) throw error;
      failure = {
        errorCode: error.code,
        error: `the condition of definition "${definition.name}" was not decided: ${error.message}`,
      };
    }
    return [
      ...definition.triggers.map((trigger) => action(definition.id, "trigger", trigger.id, failure)),
      ...definition.webhooks.map((webhook) => action(definition.id, "webhook", webhook.id, failure)),
    ];
  });
}
