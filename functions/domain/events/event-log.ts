// Reading the event log.
import { z } from "zod";
import sql, { empty, join } from "sql-template-tag";
import type { EventAction, EventLog } from "../../platform/db.ts";
import { fromPg, runSql, type Queryable } from "../../platform/sql.ts";
import { notFound } from "../errors.ts";
import { selectFiltered, type ListDeps } from "../filtered-lists.ts";
import { LIMITS } from "../limits.ts";
import { collectionName, isoDateTime, listQuery, pageWithin } from "../validation.ts";
import { eventFromRow, INGEST_TYPES } from "./event-type.ts";

export const eventLogQuery = listQuery.extend({
  status: z.enum(["pending", "processing", "completed", "retrying", "failed"]).optional(),
  type: z.enum(INGEST_TYPES).optional(),
  collection: collectionName.optional(),
  recordId: z.string().min(1).max(255).optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
});
export type EventLogQuery = z.output<typeof eventLogQuery>;

type LoggedEvent = EventLog & { actions: EventAction[] };

/** The events with these ids (newest first), each with its actions. */
async function withActions(q: Queryable, ids: string[]): Promise<LoggedEvent[]> {
  if (ids.length === 0) return [];
  const events = await runSql<EventLog>(
    q,
    sql`SELECT * FROM event_log WHERE id = ANY(${ids}::text[]) ORDER BY id DESC`,
  );
  const actions = await runSql<EventAction>(
    q,
    sql`SELECT * FROM event_actions WHERE "eventId" = ANY(${ids}::text[]) ORDER BY id`,
  );
  const byEvent = new Map<string, EventAction[]>();
  for (const action of actions) byEvent.set(action.eventId, [...(byEvent.get(action.eventId) ?? []), action]);
  return events.map((event) => ({ ...eventFromRow(event), actions: byEvent.get(event.id) ?? [] }));
}

/**
 * What an action adds to a page beside its error and result: its other fields as JSON (kind, ids, status,
 * counts, times), with room to spare.
 */
const ACTION_BYTES = 400;

/** What a filter that was stopped should do instead. */
const NARROWER = "narrow it with since and until (a shorter time range), a collection with a recordId, or a status";

/**
 * Newest first; since/until bound receivedAt (since inclusive, until exclusive). With any filter, the
 * selection runs bounded (filtered-lists.ts). A page is cut at LIMITS.pageBytes of the events' data and
 * their actions: an event may carry a thousand actions, each with its error and result.
 */
export async function listEvents(deps: ListDeps, query: EventLogQuery) {
  const filters = [
    query.status ? sql`status = ${query.status}::"EventStatus"` : undefined,
    query.type ? sql`type = ${query.type}::"EventType"` : undefined,
    query.collection ? sql`collection = ${query.collection}` : undefined,
    query.recordId ? sql`"recordId" = ${query.recordId}` : undefined,
    query.since ? sql`"receivedAt" >= ${new Date(query.since)}` : undefined,
    query.until ? sql`"receivedAt" < ${new Date(query.until)}` : undefined,
  ].filter((c) => c !== undefined);
  const conditions = query.cursor ? [sql`id < ${query.cursor}`, ...filters] : filters;
  // Sizes first, then only the rows that fit the page's byte budget. The actions are summed for the rows
  // the limit keeps only (the inner query), through event_actions' (eventId, ...) index.
  const selection = sql`SELECT page.id, page.bytes + coalesce((
        SELECT sum(${ACTION_BYTES} + coalesce(octet_length(a.error), 0) + coalesce(octet_length(a.result::text), 0))
        FROM event_actions a WHERE a."eventId" = page.id), 0)::float8 AS bytes
      FROM (SELECT id, "payloadBytes" AS bytes FROM event_log
        ${conditions.length ? sql`WHERE ${join(conditions, " AND ")}` : empty}
        ORDER BY id DESC LIMIT ${query.limit + 1}) page
      ORDER BY page.id DESC`;
  type Size = { id: string; bytes: number };
  const q = fromPg(deps.pool);
  const sizes = filters.length
    ? await selectFiltered<Size>(deps, selection, NARROWER)
    : await runSql<Size>(q, selection);
  const { ids, nextCursor } = pageWithin(sizes, query.limit, LIMITS.pageBytes);
  return { data: await withActions(q, ids), nextCursor };
}

export async function getEvent(q: Queryable, id: string): Promise<LoggedEvent> {
  const [event] = await withActions(q, [id]);
  if (!event) throw notFound("event", id);
  return event;
}
