// Event types as users write them ("collection.created") and as the database enum names them.
import type { EventType } from "../../platform/db.ts";

export const EVENT_TYPES = ["collection.created", "collection.updated", "collection.deleted", "field.updated"] as const;
export type PublicEventType = (typeof EVENT_TYPES)[number];

/** What a source may report: field.updated is derived from an update, never sent. */
export const INGEST_TYPES = ["collection.created", "collection.updated", "collection.deleted"] as const;

export const toDbEventType = (type: PublicEventType) => type.replace(".", "_") as EventType;
export const toPublicEventType = (type: EventType) => type.replace("_", ".") as PublicEventType;
