// Reading the event log.
import { z } from "zod";
import type { Deps } from "../../platform/deps.ts";
import type { Prisma } from "../../platform/db.ts";
import { notFound } from "../errors.ts";
import { LIMITS } from "../limits.ts";
import { collectionName, isoDateTime, listQuery, pageWithin } from "../validation.ts";
import { INGEST_TYPES, toDbEventType } from "./event-type.ts";

export const eventLogQuery = listQuery.extend({
  status: z.enum(["pending", "processing", "completed", "retrying", "failed"]).optional(),
  type: z.enum(INGEST_TYPES).optional(),
  collection: collectionName.optional(),
  recordId: z.string().min(1).max(255).optional(),
  since: isoDateTime.optional(),
  until: isoDateTime.optional(),
});
export type EventLogQuery = z.output<typeof eventLogQuery>;

/** Newest first; since/until bound receivedAt (since inclusive, until exclusive). */
export async function listEvents(db: Deps["db"], query: EventLogQuery) {
  const where: Prisma.EventLogWhereInput = {
    ...(query.cursor ? { id: { lt: query.cursor } } : {}),
    ...(query.status ? { status: query.status } : {}),
    ...(query.type ? { type: toDbEventType(query.type) } : {}),
    ...(query.collection ? { collection: query.collection } : {}),
    ...(query.recordId ? { recordId: query.recordId } : {}),
    ...(query.since || query.until
      ? { receivedAt: { ...(query.since ? { gte: new Date(query.since) } : {}), ...(query.until ? { lt: new Date(query.until) } : {}) } }
      : {}),
  };
  // Sizes first, then only the rows that fit the page's byte budget.
  const sizes = await db.eventLog.findMany({ where, orderBy: { id: "desc" }, take: query.limit + 1, select: { id: true, payloadBytes: true } });
  const { ids, nextCursor } = pageWithin(
    sizes.map((row) => ({ id: row.id, bytes: row.payloadBytes })),
    query.limit,
    LIMITS.pageBytes,
  );
  const data = await db.eventLog.findMany({ where: { id: { in: ids } }, orderBy: { id: "desc" }, include: { actions: { orderBy: { id: "asc" } } } });
  return { data, nextCursor };
}

export async function getEvent(db: Deps["db"], id: string) {
  const event = await db.eventLog.findUnique({ where: { id }, include: { actions: { orderBy: { id: "asc" } } } });
  if (!event) throw notFound("event", id);
  return event;
}
