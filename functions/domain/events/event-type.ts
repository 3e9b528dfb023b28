// Event types as users write them ("collection.created") and as the database enum names them.
import type { EventDefinition, EventLog, EventType } from "../../platform/db.ts";

export const EVENT_TYPES = ["collection.created", "collection.updated", "collection.deleted", "field.updated"] as const;
export type PublicEventType = (typeof EVENT_TYPES)[number];

/** What a source may report: field.updated is derived from an update, never sent. */
export const INGEST_TYPES = ["collection.created", "collection.updated", "collection.deleted"] as const;
export type IngestType = (typeof INGEST_TYPES)[number];

/**
 * The domain speaks Prisma's names of the enum ("collection_created"); users, and rows read with plain SQL,
 * the database's values ("collection.created").
 */
export const toDbEventType = (type: PublicEventType | string) => type.replace(".", "_") as EventType;
export const toPublicEventType = (type: EventType) => type.replace("_", ".") as PublicEventType;

/** Rows read with plain SQL, in the shapes Prisma gives. */
export const eventFromRow = <E extends EventLog>(row: E): E => ({ ...row, type: toDbEventType(row.type) });
export const definitionFromRow = (row: EventDefinition): EventDefinition => ({ ...row, type: toDbEventType(row.type) });
