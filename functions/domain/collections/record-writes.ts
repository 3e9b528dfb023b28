// Writing records, each write together with the collection.* event that reports it: callers run these
// inside a transaction that also inserts the events, so a record never changes without its event and no
// event exists for a write that rolled back. Used by the collections API and by triggers alike.
import type { Prisma } from "../../platform/db.ts";
import { Prisma as P } from "../../platform/db.ts";
import type { EventInput } from "../events/event-input.ts";
import { fromPrisma } from "../../platform/sql.ts";
import { eventRows, insertEvents, type Causation } from "../events/ingest-events.ts";

type Tx = Prisma.TransactionClient;
type Data = Record<string, unknown>;
const { sql } = P;

export interface RecordRow {
  collection: string;
  id: string;
  data: Data;
  createdAt: Date;
  updatedAt: Date;
}

export interface RecordWrite {
  record: RecordRow;
  event: EventInput;
}

const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

/** Inserts a record; answers undefined when one with that id already exists (nothing written). */
export async function insertRecord(tx: Tx, collection: string, id: string, data: Data, now: Date): Promise<RecordWrite | undefined> {
  const rows = await tx.$queryRaw<RecordRow[]>`
    INSERT INTO records (collection, id, data, "dataBytes", "createdAt", "updatedAt")
    VALUES (${collection}, ${id}, ${jsonb(data)}, octet_length(${jsonb(data)}::text), ${now}, ${now})
    ON CONFLICT DO NOTHING
    RETURNING collection, id, data, "createdAt", "updatedAt"`;
  const record = rows[0];
  if (!record) return undefined;
  return { record, event: { type: "collection.created", collection, recordId: id, data: record.data, occurredAt: now.toISOString() } };
}

/**
 * Merges `patch` into the data of the records `where` selects, skipping those it would not change.
 * At most `limit` rows are touched; the caller decides what more than that means.
 */
export async function mergeIntoRecords(tx: Tx, collection: string, where: Prisma.Sql, patch: Data, now: Date, limit: number): Promise<RecordWrite[]> {
  const rows = await tx.$queryRaw<Array<RecordRow & { previous: Data }>>`
    WITH target AS (
      SELECT id, data FROM records
      WHERE collection = ${collection} AND ${where} AND NOT (data @> ${jsonb(patch)})
      ORDER BY id LIMIT ${limit} FOR UPDATE
    )
    UPDATE records r SET data = r.data || ${jsonb(patch)}, "dataBytes" = octet_length((r.data || ${jsonb(patch)})::text), "updatedAt" = ${now}
    FROM target WHERE r.collection = ${collection} AND r.id = target.id
    RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt", target.data AS previous`;
  return rows.map(({ previous, ...record }) => ({
    record,
    event: { type: "collection.updated", collection, recordId: record.id, data: record.data, previous, occurredAt: now.toISOString() },
  }));
}

/** Deletes the records `where` selects (at most `limit`); each event carries the data the record had. */
export async function deleteRecords(tx: Tx, collection: string, where: Prisma.Sql, now: Date, limit: number): Promise<RecordWrite[]> {
  const rows = await tx.$queryRaw<RecordRow[]>`
    WITH target AS (
      SELECT id FROM records WHERE collection = ${collection} AND ${where}
      ORDER BY id LIMIT ${limit} FOR UPDATE
    )
    DELETE FROM records r USING target WHERE r.collection = ${collection} AND r.id = target.id
    RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt"`;
  return rows.map((record) => ({
    record,
    event: { type: "collection.deleted", collection, recordId: record.id, data: record.data, occurredAt: now.toISOString() },
  }));
}

/** A predicate selecting one record by id. */
export const byId = (id: string) => sql`id = ${id}`;

/**
 * Inserts the events reporting `writes` in the caller's transaction and answers the ids of those created
 * (to enqueue after commit). `keyPrefix` makes the inserts idempotent when a job runs again.
 */
export async function insertWriteEvents(
  tx: Tx,
  writes: RecordWrite[],
  now: Date,
  options: { causation?: Causation; keyPrefix?: string } = {},
): Promise<string[]> {
  if (writes.length === 0) return [];
  const keys = options.keyPrefix ? writes.map((w) => `${options.keyPrefix}:${w.record.id}`) : undefined;
  const { created } = await insertEvents(fromPrisma(tx), eventRows(writes.map((w) => w.event), now, { keys, causation: options.causation }));
  return created;
}
