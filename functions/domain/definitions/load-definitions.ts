// The one loader of definitions with their webhooks and triggers: for the worker's config cache (every
// active one) and for explain and dry run (one collection's, or by id). Plain SQL (the events function,
// which explains, carries no ORM), shaped as Prisma shapes them so matching reads them the same way.
import sql from "sql-template-tag";
import type { EventDefinition, EventTrigger, Webhook } from "../../platform/db.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { definitionFromRow } from "../events/event-type.ts";

export type FullDefinition = EventDefinition & { webhooks: Webhook[]; triggers: EventTrigger[] };

/** At most this many definitions of one collection are explained (a collection has a handful). */
export const MAX_DEFINITIONS = 500;

/** Which definitions: one collection's or some ids (at most MAX_DEFINITIONS), or every active one. */
export type DefinitionSelection = { collection: string } | { ids: string[] } | { active: true };

/** Definitions with their targets, by id; with `{ active: true }` only active webhooks and triggers too. */
export async function loadDefinitions(q: Queryable, where: DefinitionSelection): Promise<FullDefinition[]> {
  if ("ids" in where && where.ids.length === 0) return [];
  const active = "active" in where;
  const filter =
    "ids" in where
      ? sql`id = ANY(${where.ids}::text[]) ORDER BY id LIMIT ${MAX_DEFINITIONS}`
      : "collection" in where
        ? sql`collection = ${where.collection} ORDER BY id LIMIT ${MAX_DEFINITIONS}`
        : sql`active ORDER BY id`;
  const definitions = await runSql<EventDefinition>(q, sql`SELECT * FROM event_definitions WHERE ${filter}`);
  if (definitions.length === 0) return [];
  const ids = definitions.map((d) => d.id);
  const onlyActive = active ? sql`AND active` : sql``;
  const [webhooks, triggers] = await Promise.all([
    runSql<Webhook>(
      q,
      sql`SELECT * FROM webhooks WHERE "definitionId" = ANY(${ids}::text[]) ${onlyActive} ORDER BY id`,
    ),
    runSql<EventTrigger>(
      q,
      sql`SELECT * FROM event_triggers WHERE "definitionId" = ANY(${ids}::text[]) ${onlyActive} ORDER BY id`,
    ),
  ]);
  return definitions.map((d) => ({
    // The database spells the enum as users do ("field.updated"); Prisma, and so matching, as field_updated.
    ...definitionFromRow(d),
    webhooks: webhooks.filter((w) => w.definitionId === d.id),
    triggers: triggers.filter((t) => t.definitionId === d.id),
  }));
}
