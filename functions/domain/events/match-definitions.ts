// Which definitions an event fires, and the actions (webhooks, triggers) that follow from them.
import type { EventDefinition, EventLog, EventTrigger, Webhook } from "../../platform/db.ts";
import { derivedId } from "../../platform/ids.ts";
import { compileCondition, type Condition, type ConditionTest } from "../conditions/condition.ts";
import { eventContext } from "./event-context.ts";

/** An action an event's match calls for: one per active trigger and webhook of each matching definition. */
export interface PlannedAction {
  id: string;
  eventId: string;
  kind: "webhook" | "trigger";
  targetId: string;
  definitionId: string;
}

export type DefinitionWithTargets = EventDefinition & {
  webhooks: Pick<Webhook, "id">[];
  triggers: Pick<EventTrigger, "id">[];
  /** The compiled condition, when a cache holds it; compiled on the spot otherwise. */
  conditionTest?: ConditionTest;
};

/** What matching and delivery read of an event. */
export type MatchableEvent = Pick<EventLog, "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "data" | "previous" | "changedFields">;

export function matchesDefinition(event: MatchableEvent, definition: EventDefinition & { conditionTest?: ConditionTest }): boolean {
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

/** One action per active trigger and per active webhook of each matching definition. */
export function planActions(event: MatchableEvent, definitions: DefinitionWithTargets[]): PlannedAction[] {
  const action = (definitionId: string, kind: "trigger" | "webhook", targetId: string) => ({
    id: derivedId("act", event.id, `${event.id}/${kind}/${targetId}`),
    eventId: event.id,
    kind,
    targetId,
    definitionId,
  });
  return definitions
    .filter((definition) => matchesDefinition(event, definition))
    .flatMap((definition) => [
      ...definition.triggers.map((trigger) => action(definition.id, "trigger", trigger.id)),
      ...definition.webhooks.map((webhook) => action(definition.id, "webhook", webhook.id)),
    ]);
}
