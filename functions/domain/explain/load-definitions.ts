// The definitions of a collection with their webhooks and triggers, in plain SQL (the events function,
// which explains, carries no ORM), shaped as Prisma shapes them so matching reads them the same way.
import sql from "sql-template-tag";
import type { EventDefinition, EventTrigger, Webhook } from "../../platform/db.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { toDbEventType, type PublicEventType } from "../events/event-type.ts";

export type FullDefinition = EventDefinition & { webhooks: Webhook[]; triggers: EventTrigger[] };

/** At most this many definitions of one collection are explained (a collection has a handful). */
export const MAX_DEFINITIONS = 500;

export async function loadDefinitions(
  q: Queryable,
  where: { collection: string } | { ids: string[] },
): Promise<FullDefinition[]> {
  if ("ids" in where && where.ids.length === 0) return [];
  const filter = "ids" in where ? sql`id = ANY(${where.ids}::text[])` : sql`collection = ${where.collection}`;
  const definitions = await runSql<EventDefinition>(
    q,
    sql`SELECT * FROM event_definitions WHERE ${filter} ORDER BY id LIMIT ${MAX_DEFINITIONS}`,
  );
  if (definitions.length === 0) return [];
  const ids = definitions.map((d) => d.id);
  const [webhooks, triggers] = await Promise.all([
    runSql<Webhook>(q, sql`SELECT * FROM webhooks WHERE "definitionId" = ANY(${ids}::text[]) ORDER BY id`),
    runSql<EventTrigger>(q, sql`SELECT * FROM event_triggers WHERE "definitionId" = ANY(${ids}::text[]) ORDER BY id`),
  ]);
  return definitions.map((d) => ({
    ...d,
    // The database spells the enum as users do ("field.updated"); Prisma, and so matching, as field_updated.
    type: toDbEventType(d.type as unknown as PublicEventType),
    webhooks: webhooks.filter((w) => w.definitionId === d.id),
    triggers: triggers.filter((t) => t.definitionId === d.id),
  }));
}
