// Which definitions an event fires, and the actions (webhooks, triggers) that follow from them.
import type { EventDefinition, EventLog, Prisma, Webhook } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { compileCondition, type Condition } from "../conditions/condition.ts";
import { eventContext } from "./event-context.ts";

export type DefinitionWithTargets = EventDefinition & { webhooks: Pick<Webhook, "id">[] };

type MatchableEvent = Pick<EventLog, "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "data" | "previous" | "changedFields">;

export function matchesDefinition(event: MatchableEvent, definition: EventDefinition): boolean {
  if (!definition.active || definition.collection !== event.collection) return false;
  const typeMatches =
    definition.type === event.type ||
    (definition.type === "field_updated" &&
      event.type === "collection_updated" &&
      definition.fields.some((field) => event.changedFields.includes(field)));
  if (!typeMatches) return false;
  return compileCondition(definition.condition as Condition | null)(eventContext(event, definition));
}

/** One action per active webhook of each matching definition. */
export function planActions(event: MatchableEvent, definitions: DefinitionWithTargets[]): Prisma.EventActionCreateManyInput[] {
  return definitions
    .filter((definition) => matchesDefinition(event, definition))
    .flatMap((definition) =>
      definition.webhooks.map((webhook) => ({
        id: newId("act"),
        eventId: event.id,
        kind: "webhook" as const,
        targetId: webhook.id,
        definitionId: definition.id,
      })),
    );
}
