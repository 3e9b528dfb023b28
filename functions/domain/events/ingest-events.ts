// Accepting events: commit to Postgres first (that is the promise behind the 202), then enqueue. If the
// queue is unreachable the events stay pending and the sweep enqueues them later.
import type { Deps } from "../../platform/deps.ts";
import { Prisma } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { changedFields } from "./changed-fields.ts";
import type { EventInput } from "./event-input.ts";
import { toDbEventType } from "./event-type.ts";

export interface Causation {
  causationId: string;
  depth: number;
}

type IngestDeps = Pick<Deps, "db" | "queue" | "log" | "now">;
type Db = Deps["db"] | Prisma.TransactionClient;

/** Builds the event_log rows for inputs; idempotency keys (one per row) make repeats no-ops. */
export function eventRows(inputs: EventInput[], now: Date, keys?: string[], causation?: Causation): Prisma.EventLogCreateManyInput[] {
  return inputs.map((input, i) => ({
    id: newId("evt"),
    type: toDbEventType(input.type),
    collection: input.collection,
    recordId: input.recordId,
    data: input.data as Prisma.InputJsonValue,
    previous: input.previous ? (input.previous as Prisma.InputJsonValue) : Prisma.DbNull,
    changedFields: input.type === "collection.updated" ? changedFields(input.data, input.previous) : [],
    idempotencyKey: keys?.[i] ?? null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : now,
    receivedAt: now,
    causationId: causation?.causationId ?? null,
    depth: causation?.depth ?? 0,
  }));
}

/**
 * Inserts event rows and answers each one's id: the new id, or for a repeated idempotency key the id of
 * the event first stored under it. The unique index decides, so concurrent repeats cannot both insert.
 */
export async function insertEvents(db: Db, rows: Prisma.EventLogCreateManyInput[]): Promise<{ ids: string[]; created: string[] }> {
  const keyed = rows.filter((row) => row.idempotencyKey);
  if (keyed.length === 0) {
    await db.eventLog.createMany({ data: rows });
    const ids = rows.map((row) => row.id);
    return { ids, created: ids };
  }
  const inserted = await db.eventLog.createManyAndReturn({ data: rows, skipDuplicates: true, select: { id: true } });
  const created = new Set(inserted.map((row) => row.id));
  const existing = await db.eventLog.findMany({
    where: { idempotencyKey: { in: keyed.map((row) => row.idempotencyKey!) } },
    select: { id: true, idempotencyKey: true },
  });
  const byKey = new Map(existing.map((row) => [row.idempotencyKey, row.id]));
  const ids = rows.map((row) => (row.idempotencyKey ? byKey.get(row.idempotencyKey) ?? row.id : row.id));
  return { ids, created: ids.filter((id) => created.has(id)) };
}

/** Hands committed events to the queue; failure is logged, not raised: the sweep picks them up. */
export async function enqueueEvents({ queue, log }: Pick<Deps, "queue" | "log">, eventIds: string[]): Promise<void> {
  try {
    await queue.add("process-event", eventIds.map((eventId) => ({ id: eventId, data: { eventId } })));
  } catch (error) {
    log.warn({ err: error, events: eventIds.length }, "queue unavailable: events stay pending until the sweep enqueues them");
  }
}

/**
 * Accepts events (all or nothing) and answers their ids. `batch` keeps the idempotency keys of
 * POST /events and POST /events/batch apart: one key means one request of one kind.
 */
export async function ingestEvents(deps: IngestDeps, inputs: EventInput[], options: { idempotencyKey?: string; batch?: boolean } = {}): Promise<string[]> {
  const { idempotencyKey, batch = false } = options;
  const keys = idempotencyKey
    ? inputs.map((_, i) => (batch ? `batch:${idempotencyKey}#${i}` : `event:${idempotencyKey}`))
    : undefined;
  const rows = eventRows(inputs, deps.now(), keys);
  const { ids, created } = await insertEvents(deps.db, rows);
  await enqueueEvents(deps, created);
  return ids;
}
