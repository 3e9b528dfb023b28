// The object that conditions and templates see (SPEC: "The event context").
import type { EventLog } from "../../platform/db.ts";
import { toPublicEventType, type PublicEventType } from "./event-type.ts";

export interface EventContext {
  event: { id: string; type: PublicEventType; collection: string; recordId: string; occurredAt: string; depth: number };
  data: Record<string, unknown>;
  previous: Record<string, unknown> | null;
  changedFields: string[];
  definition: { id: string; name: string };
}

export const CONTEXT_ROOTS = ["event", "data", "previous", "changedFields", "definition"] as const;

type EventFields = Pick<
  EventLog,
  "id" | "type" | "collection" | "recordId" | "occurredAt" | "depth" | "changedFields"
> & {
  data: unknown;
  previous: unknown;
};

export function eventContext(event: EventFields, definition: { id: string; name: string }): EventContext {
  return {
    event: {
      id: event.id,
      type: toPublicEventType(event.type),
      collection: event.collection,
      recordId: event.recordId,
      occurredAt: event.occurredAt.toISOString(),
      depth: event.depth,
    },
    data: (event.data ?? {}) as Record<string, unknown>,
    previous: (event.previous ?? null) as Record<string, unknown> | null,
    changedFields: event.changedFields,
    definition: { id: definition.id, name: definition.name },
  };
}
