// Rows read with plain SQL come with the database's enum values ("collection.created"); the domain
// speaks Prisma's names ("collection_created"). These read helpers make them the same shapes Prisma gives.
import type { EventDefinition, EventLog, EventType } from "../../platform/db.ts";

export const fromDbEnum = (type: string) => type.replace(".", "_") as EventType;

export function eventFromRow(row: EventLog): EventLog {
  return { ...row, type: fromDbEnum(row.type) };
}

export function definitionFromRow(row: EventDefinition): EventDefinition {
  return { ...row, type: fromDbEnum(row.type) };
}
