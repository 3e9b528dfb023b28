// Writing records, each write together with the collection.* event that reports it: callers run these
// inside a transaction that also inserts the events, so a record never changes without its event and no
// event exists for a write that rolled back. Used by the collections API (many requests' writes in one
// statement each) and by triggers alike. Plain SQL on any Queryable: no ORM on this path.
import sql, { type Sql } from "sql-template-tag";
import { runSql, type Queryable } from "../../platform/sql.ts";
import type { EventInput } from "../events/event-input.ts";
import { eventRows, eventsInsert, insertEvents, type Causation } from "../events/ingest-events.ts";

type Data = Record<string, unknown>;

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

export interface RecordKey {
  collection: string;
  id: string;
}

const keyOf = (k: RecordKey) => `${k.collection}\u0000${k.id}`;
const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;

const created = (record: RecordRow, now: Date): RecordWrite => ({
  record,
  event: { type: "collection.created", collection: record.collection, recordId: record.id, data: record.data, occurredAt: now.toISOString() },
});
const updated = (record: RecordRow, previous: Data, now: Date): RecordWrite => ({
  record,
  event: { type: "collection.updated", collection: record.collection, recordId: record.id, data: record.data, previous, occurredAt: now.toISOString() },
});
const deleted = (record: RecordRow, now: Date): RecordWrite => ({
  record,
  event: { type: "collection.deleted", collection: record.collection, recordId: record.id, data: record.data, occurredAt: now.toISOString() },
});

/** Keyed by collection and id, for callers to find their own among rows written together. */
const byKey = <R extends RecordKey>(rows: R[]) => new Map(rows.map((row) => [keyOf(row), row]));

/** The INSERT of new records (keys distinct), returning the keys of those created; a taken id is skipped. */
function recordsInsert(items: Array<RecordKey & { data: Data }>, now: Date): Sql {
  const data = items.map((i) => JSON.stringify(i.data));
  return sql`
    INSERT INTO records (collection, id, data, "dataBytes", "createdAt", "updatedAt")
    SELECT v.collection, v.id, v.data, v.bytes, ${now}, ${now}
    FROM unnest(${items.map((i) => i.collection)}::text[], ${items.map((i) => i.id)}::text[], ${data}::jsonb[],
      ${data.map((d) => Buffer.byteLength(d))}::int[]) AS v(collection, id, data, bytes)
    ORDER BY v.collection, v.id
    ON CONFLICT DO NOTHING
    RETURNING collection, id`;
}

/** The write of a record created now, as the answer to its request and the event to report it. */
const createdNow = (item: RecordKey & { data: Data }, now: Date) => created({ collection: item.collection, id: item.id, data: item.data, createdAt: now, updatedAt: now }, now);

/**
 * Inserts records (one statement for all); answers the write of each one created, by key. A record whose
 * id is taken is not written and has no entry. Keys must be distinct.
 */
export async function insertRecords(q: Queryable, items: Array<RecordKey & { data: Data }>, now: Date): Promise<Map<string, RecordWrite>> {
  if (items.length === 0) return new Map();
  const made = await runSql<RecordKey>(q, recordsInsert(items, now));
  const byItem = new Map(items.map((item) => [keyOf(item), item]));
  return new Map(made.map((row) => [keyOf(row), createdNow(byItem.get(keyOf(row))!, now)]));
}

/**
 * Creates records and the events that report them in one statement, atomic without a transaction (the
 * collections API's common case: a flush of creates). Answers, by key, each created record's write and
 * event id; a record whose id is taken has neither. Keys must be distinct.
 */
export async function insertRecordsWithEvents(q: Queryable, items: Array<RecordKey & { data: Data }>, now: Date): Promise<Map<string, { write: RecordWrite; eventId: string }>> {
  if (items.length === 0) return new Map();
  const writes = items.map((item) => createdNow(item, now));
  const rows = eventRows(writes.map((w) => w.event), now);
  const made = await runSql<RecordKey>(
    q,
    sql`WITH created AS (${recordsInsert(items, now)}),
      events AS (${eventsInsert(rows, sql`(v.collection, v.record_id) IN (SELECT collection, id FROM created)`)})
      SELECT collection, id FROM created`,
  );
  const byKey = new Map(writes.map((write, i) => [keyOf(write.record), { write, eventId: rows[i]!.id }]));
  return new Map(made.map((row) => [keyOf(row), byKey.get(keyOf(row))!]));
}

export type PatchOutcome = { write: RecordWrite } | { unchanged: RecordRow };

/**
 * Merges each patch into its record's data (one statement for all). Answers, by key, the write of each
 * record it changed, or the record as it is when the patch would change nothing (nothing is written);
 * a missing record has no entry. The records are locked in key order and read at their latest, so the
 * event's `previous` is what the patch changed, also when another transaction patched it just before.
 */
export async function patchRecords(q: Queryable, items: Array<RecordKey & { patch: Data }>, now: Date): Promise<Map<string, PatchOutcome>> {
  if (items.length === 0) return new Map();
  const rows = await runSql<RecordRow & { previous: Data; changed: boolean }>(
    q,
    sql`WITH v AS (
        SELECT * FROM unnest(${items.map((i) => i.collection)}::text[], ${items.map((i) => i.id)}::text[], ${items.map((i) => JSON.stringify(i.patch))}::jsonb[])
          AS v(collection, id, patch)
      ), current AS (
        SELECT r.collection, r.id, r.data, r."createdAt", r."updatedAt", v.patch
        FROM records r JOIN v ON r.collection = v.collection AND r.id = v.id
        ORDER BY r.collection, r.id FOR UPDATE OF r
      ), changed AS (
        UPDATE records r SET data = c.data || c.patch, "dataBytes" = octet_length((c.data || c.patch)::text), "updatedAt" = ${now}
        FROM current c WHERE r.collection = c.collection AND r.id = c.id AND NOT (c.data @> c.patch)
        RETURNING r.collection, r.id, r.data, r."updatedAt"
      )
      SELECT c.collection, c.id, coalesce(ch.data, c.data) AS data, c.data AS previous, c."createdAt",
        coalesce(ch."updatedAt", c."updatedAt") AS "updatedAt", ch.id IS NOT NULL AS changed
      FROM current c LEFT JOIN changed ch ON ch.collection = c.collection AND ch.id = c.id`,
  );
  return new Map(
    rows.map(({ previous, changed, ...record }) => [keyOf(record), changed ? { write: updated(record, previous, now) } : { unchanged: record }]),
  );
}

/** Deletes records by key (one statement for all); answers the write of each one deleted, by key. */
export async function deleteRecordsByKey(q: Queryable, items: RecordKey[], now: Date): Promise<Map<string, RecordWrite>> {
  if (items.length === 0) return new Map();
  const rows = await runSql<RecordRow>(
    q,
    sql`WITH v AS (
        SELECT * FROM unnest(${items.map((i) => i.collection)}::text[], ${items.map((i) => i.id)}::text[]) AS v(collection, id)
      ), target AS (
        SELECT r.collection, r.id FROM records r JOIN v ON r.collection = v.collection AND r.id = v.id
        ORDER BY r.collection, r.id FOR UPDATE OF r
      )
      DELETE FROM records r USING target t WHERE r.collection = t.collection AND r.id = t.id
      RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt"`,
  );
  return new Map([...byKey(rows)].map(([key, row]) => [key, deleted(row, now)]));
}

/** Writes to the records a filter selects: all of them, or (past `limit` of them) none. */
export interface FilteredWrites {
  writes: RecordWrite[];
  /** More than `limit` records were selected: nothing was written. */
  tooMany: boolean;
}

/** The rows a statement returned beside the count of records it selected (one row with nulls when it wrote none). */
function filtered<R extends RecordRow>(rows: Array<Partial<R> & { matched: number }>, limit: number, toWrite: (row: R) => RecordWrite): FilteredWrites {
  const tooMany = (rows[0]?.matched ?? 0) > limit;
  if (tooMany) return { tooMany, writes: [] };
  return { tooMany, writes: rows.filter((row) => row.id != null).map(({ matched: _, ...row }) => toWrite(row as unknown as R)) };
}

/**
 * Merges `patch` into the data of the records `where` selects, skipping those it would not change; if
 * more than `limit` would change, none is (one statement either way).
 */
export async function mergeIntoRecords(q: Queryable, collection: string, where: Sql, patch: Data, now: Date, limit: number): Promise<FilteredWrites> {
  const rows = await runSql<Partial<RecordRow & { previous: Data }> & { matched: number }>(
    q,
    sql`WITH target AS (
        SELECT id, data FROM records
        WHERE collection = ${collection} AND ${where} AND NOT (data @> ${jsonb(patch)})
        ORDER BY id LIMIT ${limit + 1} FOR UPDATE
      ), counted AS (SELECT count(*)::int AS matched FROM target),
      changed AS (
        UPDATE records r SET data = r.data || ${jsonb(patch)}, "dataBytes" = octet_length((r.data || ${jsonb(patch)})::text), "updatedAt" = ${now}
        FROM target WHERE r.collection = ${collection} AND r.id = target.id AND (SELECT matched FROM counted) <= ${limit}
        RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt", target.data AS previous
      )
      SELECT counted.matched, changed.* FROM counted LEFT JOIN changed ON true`,
  );
  return filtered<RecordRow & { previous: Data }>(rows, limit, ({ previous, ...record }) => updated(record, previous, now));
}

/** Deletes the records `where` selects, or none if there are more than `limit`; each event carries the data the record had. */
export async function deleteRecords(q: Queryable, collection: string, where: Sql, now: Date, limit: number): Promise<FilteredWrites> {
  const rows = await runSql<Partial<RecordRow> & { matched: number }>(
    q,
    sql`WITH target AS (
        SELECT id FROM records WHERE collection = ${collection} AND ${where}
        ORDER BY id LIMIT ${limit + 1} FOR UPDATE
      ), counted AS (SELECT count(*)::int AS matched FROM target),
      removed AS (
        DELETE FROM records r USING target
        WHERE r.collection = ${collection} AND r.id = target.id AND (SELECT matched FROM counted) <= ${limit}
        RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt"
      )
      SELECT counted.matched, removed.* FROM counted LEFT JOIN removed ON true`,
  );
  return filtered<RecordRow>(rows, limit, (record) => deleted(record, now));
}

export { keyOf as recordKey };

/**
 * Inserts the events reporting `writes` in the caller's transaction and answers their ids, in the order
 * of `writes` (all of them new: to enqueue after commit). `keyPrefix` makes the inserts idempotent when a
 * job runs again: then only the ids of events created now are answered.
 */
export async function insertWriteEvents(q: Queryable, writes: RecordWrite[], now: Date, options: { causation?: Causation; keyPrefix?: string } = {}): Promise<string[]> {
  if (writes.length === 0) return [];
  const keys = options.keyPrefix ? writes.map((w) => `${options.keyPrefix}:${w.record.id}`) : undefined;
  const { ids, created } = await insertEvents(q, eventRows(writes.map((w) => w.event), now, { keys, causation: options.causation }));
  return keys ? created : ids;
}
