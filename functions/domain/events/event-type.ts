// Event types as users write them ("collection.created") and as the database enum names them.
import type { EventDefinition, EventLog, EventType } from "../../platform/db.ts";

export const EVENT_TYPES = ["collection.created", "collection.updated", "collection.deleted", "field.updated"] as const;
export type PublicEventType = (typeof EVENT_TYPES)[number];

/** What a source may report: field.updated is derived from an update, never sent. */
export const INGEST_TYPES = ["collection.created", "collection.updated", "collection.deleted"] as const;
export type IngestType = (typeof INGEST_TYPES)[number];

export const toDbEventType = (type: PublicEventType) => type.replace(".", "_") as EventType;
export const toPublicEventType = (type: EventType) => type.replace("_", ".") as PublicEventType;

// Rows read with plain SQL come with the database's enum values ("collection.created"); the domain speaks
// Prisma's names ("collection_created"). These make them the shapes Prisma gives.
export const fromDbEnum = (type: string) => type.replace(".", "_") as EventType;
export const eventFromRow = <E extends EventLog>(row: E): E => ({ ...row, type: fromDbEnum(row.type) });
export const definitionFromRow = (row: EventDefinition): EventDefinition => ({ ...row, type: fromDbEnum(row.type) });
