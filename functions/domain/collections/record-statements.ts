// Writing records, each write together with the collection.* event that reports it, so a record never
// changes without its event and no event exists for a write that rolled back: the collections API's
// writes do both in one statement (many requests' writes at once); triggers write records here and their
// events in the same transaction. Plain SQL on any Queryable: no ORM on this path.
import sql, { type Sql } from "sql-template-tag";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { AppError } from "../errors.ts";
import type { EventInput } from "../events/event-input.ts";
import { newId } from "../../platform/ids.ts";
import { formatBytes, LIMITS } from "../limits.ts";
import { eventRows, eventsInsert, eventsInsertFrom } from "../events/ingest-events.ts";

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

/**
 * A patch merged into a record (`data || patch`: top-level fields replaced) and whether that changes it:
 * compared as a whole, since containment (@>) would call {"tags": ["a"]} already in {"tags": ["a", "b"]}.
 * Shared by the API's patches and triggers' updates.
 */
const merged = (data: Sql, patch: Sql) => sql`(${data} || ${patch})`;
const changes = (data: Sql, patch: Sql) => sql`${merged(data, patch)} IS DISTINCT FROM ${data}`;
const mergeInto = (data: Sql, patch: Sql, now: Date) =>
  sql`data = ${merged(data, patch)}, "dataBytes" = octet_length(${merged(data, patch)}::text), "updatedAt" = ${now}`;
const jsonb = (value: unknown) => sql`${JSON.stringify(value)}::jsonb`;
/** The size of merged data as JSON, as the records' "dataBytes" keeps it. */
const mergedBytes = (data: Sql, patch: Sql) => sql`octet_length(${merged(data, patch)}::text)`;

/** A write refused because the record it would leave is larger than LIMITS.recordBytes. */
export const recordTooLarge = (record: RecordKey, bytes: number) =>
  new AppError(
    "record_too_large",
    `record ${record.id} in ${record.collection} would be ${bytes} bytes of JSON; ` +
      `at most ${formatBytes(LIMITS.recordBytes)} (LIMITS.recordBytes); nothing was changed`,
  );

const created = (record: RecordRow, now: Date): RecordWrite => ({
  record,
  event: {
    type: "collection.created",
    collection: record.collection,
    recordId: record.id,
    data: record.data,
    occurredAt: now.toISOString(),
  },
});
const updated = (record: RecordRow, previous: Data, now: Date): RecordWrite => ({
  record,
  event: {
    type: "collection.updated",
    collection: record.collection,
    recordId: record.id,
    data: record.data,
    previous,
    occurredAt: now.toISOString(),
  },
});
const deleted = (record: RecordRow, now: Date): RecordWrite => ({
  record,
  event: {
    type: "collection.deleted",
    collection: record.collection,
    recordId: record.id,
    data: record.data,
    occurredAt: now.toISOString(),
  },
});

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
const createdNow = (item: RecordKey & { data: Data }, now: Date) =>
  created({ collection: item.collection, id: item.id, data: item.data, createdAt: now, updatedAt: now }, now);

/**
 * Inserts records (one statement for all); answers the write of each one created, by key. A record whose
 * id is taken is not written and has no entry. Keys must be distinct.
 */
export async function insertRecords(
  q: Queryable,
  items: Array<RecordKey & { data: Data }>,
  now: Date,
): Promise<Map<string, RecordWrite>> {
  if (items.length === 0) return new Map();
  const made = await runSql<RecordKey>(q, recordsInsert(items, now));
  const byItem = new Map(items.map((item) => [keyOf(item), item]));
  return new Map(made.map((row) => [keyOf(row), createdNow(byItem.get(keyOf(row))!, now)]));
}

/**
 * Answered for a request's write: the record after it (null once deleted) and its event (null when nothing
 * changed).
 */
export interface WriteDone {
  record: RecordRow | null;
  eventId: string | null;
}

const eventIdsFor = (items: unknown[]) => items.map(() => newId("evt"));
const keyColumns = (items: RecordKey[]) =>
  sql`${items.map((i) => i.collection)}::text[], ${items.map((i) => i.id)}::text[]`;

/** The top-level fields that differ between w.data and w.previous, sorted (as changedFields() does in JS). */
const CHANGED_FIELDS = sql`(
  SELECT coalesce(jsonb_agg(k ORDER BY k COLLATE "C"), '[]'::jsonb)
  FROM (SELECT jsonb_object_keys(w.data) UNION SELECT jsonb_object_keys(w.previous)) AS keys(k)
  WHERE w.data -> k IS DISTINCT FROM w.previous -> k)`;

/** The events of a statement's written rows `from` (event_id, collection, id, data, previous): see eventsInsertFrom. */
function recordEvents(type: "collection.updated" | "collection.deleted", from: Sql, now: Date): Sql {
  return eventsInsertFrom(sql`
    SELECT w.event_id, ${type}, w.collection, w.id, w.data, w.previous,
      ${type === "collection.updated" ? CHANGED_FIELDS : sql`'[]'::jsonb`},
      NULL::text, ${now}::timestamptz, ${now}::timestamptz, NULL::text, 0, NULL::text,
      octet_length(w.data::text) + coalesce(octet_length(w.previous::text), 0)
    FROM ${from} w`);
}

/**
 * Creates records and the events that report them, in one statement: atomic without a transaction. A
 * record whose id is taken is not written and has no entry in the answer (by key). Keys must be distinct.
 */
export async function createRecordsWithEvents(
  q: Queryable,
  items: Array<RecordKey & { data: Data }>,
  now: Date,
): Promise<Map<string, WriteDone>> {
  if (items.length === 0) return new Map();
  const writes = items.map((item) => createdNow(item, now));
  const rows = eventRows(
    writes.map((w) => w.event),
    now,
  );
  const made = await runSql<RecordKey>(
    q,
    sql`WITH created AS (${recordsInsert(items, now)}),
      events AS (${eventsInsert(rows, sql`(v.collection, v.record_id) IN (SELECT collection, id FROM created)`)})
      SELECT collection, id FROM created`,
  );
  const byKey = new Map(
    writes.map((write, i) => [keyOf(write.record), { record: write.record, eventId: rows[i]!.id }]),
  );
  return new Map(made.map((row) => [keyOf(row), byKey.get(keyOf(row))!]));
}

/**
 * Merges each patch into its record's data and writes the events of those it changed, in one statement.
 * Answers, by key, the record after the patch and its event (null when the patch changed nothing, and
 * nothing was written), or record_too_large for a patch that would leave the record past LIMITS.recordBytes
 * (measured on the merged data in the statement that writes it, so a patch just before counts); a missing
 * record has no entry. The records are locked in key order and read at their latest, so an event's
 * `previous` is what its patch changed, also when another transaction patched the record just before. Keys
 * must be distinct.
 */
export async function patchRecordsWithEvents(
  q: Queryable,
  items: Array<RecordKey & { patch: Data }>,
  now: Date,
): Promise<Map<string, WriteDone | AppError>> {
  if (items.length === 0) return new Map();
  const rows = await runSql<RecordRow & { eventId: string | null; tooLarge: number | null }>(
    q,
    sql`WITH v AS (
        SELECT * FROM unnest(
          ${keyColumns(items)}, ${items.map((i) => JSON.stringify(i.patch))}::jsonb[], ${eventIdsFor(items)}::text[]
        )
          AS v(collection, id, patch, event_id)
      ), current AS (
        SELECT r.collection, r.id, r.data, r."createdAt", r."updatedAt", v.patch, v.event_id,
          ${mergedBytes(sql`r.data`, sql`v.patch`)} AS bytes
        FROM records r JOIN v ON r.collection = v.collection AND r.id = v.id
        ORDER BY r.collection, r.id FOR UPDATE OF r
      ), patched AS (
        UPDATE records r SET ${mergeInto(sql`c.data`, sql`c.patch`, now)}
        FROM current c WHERE r.collection = c.collection AND r.id = c.id AND ${changes(sql`c.data`, sql`c.patch`)}
          AND c.bytes <= ${LIMITS.recordBytes}
        RETURNING r.collection, r.id, r.data, c.data AS previous, c.event_id
      ), events AS (${recordEvents("collection.updated", sql`patched`, now)})
      SELECT c.collection, c.id, coalesce(p.data, c.data) AS data, c."createdAt",
        CASE WHEN p.id IS NULL THEN c."updatedAt" ELSE ${now}::timestamptz END AS "updatedAt", p.event_id AS "eventId",
        CASE WHEN c.bytes > ${LIMITS.recordBytes} AND ${changes(sql`c.data`, sql`c.patch`)} THEN c.bytes END
          AS "tooLarge"
      FROM current c LEFT JOIN patched p ON p.collection = c.collection AND p.id = c.id`,
  );
  return new Map(
    rows.map(({ eventId, tooLarge, ...record }) => [
      keyOf(record),
      tooLarge === null ? { record, eventId } : recordTooLarge(record, tooLarge),
    ]),
  );
}

/** Deletes records by key and writes the events that report them (with the data they had), in one statement. */
export async function deleteRecordsWithEvents(
  q: Queryable,
  items: RecordKey[],
  now: Date,
): Promise<Map<string, WriteDone>> {
  if (items.length === 0) return new Map();
  const rows = await runSql<RecordKey & { eventId: string }>(
    q,
    sql`WITH v AS (
        SELECT * FROM unnest(${keyColumns(items)}, ${eventIdsFor(items)}::text[]) AS v(collection, id, event_id)
      ), target AS (
        SELECT r.collection, r.id, v.event_id FROM records r JOIN v ON r.collection = v.collection AND r.id = v.id
        ORDER BY r.collection, r.id FOR UPDATE OF r
      ), removed AS (
        DELETE FROM records r USING target t WHERE r.collection = t.collection AND r.id = t.id
        RETURNING r.collection, r.id, r.data, NULL::jsonb AS previous, t.event_id
      ), events AS (${recordEvents("collection.deleted", sql`removed`, now)})
      SELECT collection, id, event_id AS "eventId" FROM removed`,
  );
  return new Map(rows.map((row) => [keyOf(row), { record: null, eventId: row.eventId }]));
}

/** How far one write by filter may go: past any bound it writes nothing. */
export interface WriteBounds {
  /** Records it may select. */
  records: number;
  /** Records it may write (each write is an event): what its chain has left (triggers/chain-budget.ts). */
  writes: number;
  /** Bytes of JSON any record it writes may hold after the write (LIMITS.recordBytes). */
  recordBytes: number;
}

/** Which bound a write by filter would have passed. */
export type PassedBound = "records" | "recordBytes" | "writes";

/** Writes to the records a filter selects: all of them, or (past one of its bounds) none. */
export interface FilteredWrites {
  writes: RecordWrite[];
  /** The bound it would have passed, so nothing was written; null when it wrote. */
  passed: PassedBound | null;
}

/**
 * The rows a statement returned beside the count of records it selected and of those that would grow too
 * large (one row with nulls when it wrote none).
 */
function filtered<R extends RecordRow>(
  rows: Array<Partial<R> & { matched: number; oversized: number }>,
  bounds: WriteBounds,
  toWrite: (row: R) => RecordWrite,
): FilteredWrites {
  const { matched = 0, oversized = 0 } = rows[0] ?? {};
  const passed =
    matched > bounds.records ? "records" : oversized > 0 ? "recordBytes" : matched > bounds.writes ? "writes" : null;
  if (passed) return { passed, writes: [] };
  return {
    passed,
    writes: rows
      .filter((row) => row.id != null)
      .map(({ matched: _, oversized: __, ...row }) => toWrite(row as unknown as R)),
  };
}

/** The condition under which a write by filter writes: what it selected (`counted`) is within its bounds. */
const withinBounds = (bounds: WriteBounds) =>
  sql`(SELECT matched <= ${Math.min(bounds.records, bounds.writes)} AND oversized = 0 FROM counted)`;

/**
 * The records a trigger's update (with its patch: only those the patch would change) or delete (no patch)
 * selects: what the runner writes, and what a dry run lists.
 */
export const triggerTargets = (collection: string, where: Sql, patch?: Data) =>
  patch
    ? sql`collection = ${collection} AND ${where} AND ${changes(sql`data`, jsonb(patch))}`
    : sql`collection = ${collection} AND ${where}`;

/**
 * Merges `patch` into the data of the records `where` selects, skipping those it would not change; if that
 * passes one of `bounds` (too many records, or one grown past its size), none is changed (one statement
 * either way, so the sizes are those of the merge itself).
 */
export async function mergeIntoRecords(
  q: Queryable,
  collection: string,
  where: Sql,
  patch: Data,
  now: Date,
  bounds: WriteBounds,
): Promise<FilteredWrites> {
  const rows = await runSql<Partial<RecordRow & { previous: Data }> & { matched: number; oversized: number }>(
    q,
    sql`WITH target AS (
        SELECT id, data, ${mergedBytes(sql`data`, jsonb(patch))} AS bytes
        FROM records WHERE ${triggerTargets(collection, where, patch)}
        ORDER BY id LIMIT ${bounds.records + 1} FOR UPDATE
      ), counted AS (
        SELECT count(*)::int AS matched, count(*) FILTER (WHERE bytes > ${bounds.recordBytes})::int AS oversized
        FROM target
      ), changed AS (
        UPDATE records r SET ${mergeInto(sql`r.data`, jsonb(patch), now)}
        FROM target
        WHERE r.collection = ${collection} AND r.id = target.id AND ${withinBounds(bounds)}
        RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt", target.data AS previous
      )
      SELECT counted.matched, counted.oversized, changed.* FROM counted LEFT JOIN changed ON true`,
  );
  return filtered<RecordRow & { previous: Data }>(rows, bounds, ({ previous, ...record }) =>
    updated(record, previous, now),
  );
}

/**
 * Deletes the records `where` selects, or none if that passes `bounds`; each event carries the data the
 * record had.
 */
export async function deleteRecords(
  q: Queryable,
  collection: string,
  where: Sql,
  now: Date,
  bounds: WriteBounds,
): Promise<FilteredWrites> {
  const rows = await runSql<Partial<RecordRow> & { matched: number; oversized: number }>(
    q,
    sql`WITH target AS (
        SELECT id FROM records WHERE ${triggerTargets(collection, where)}
        ORDER BY id LIMIT ${bounds.records + 1} FOR UPDATE
      ), counted AS (SELECT count(*)::int AS matched, 0 AS oversized FROM target),
      removed AS (
        DELETE FROM records r USING target
        WHERE r.collection = ${collection} AND r.id = target.id AND ${withinBounds(bounds)}
        RETURNING r.collection, r.id, r.data, r."createdAt", r."updatedAt"
      )
      SELECT counted.matched, counted.oversized, removed.* FROM counted LEFT JOIN removed ON true`,
  );
  return filtered<RecordRow>(rows, bounds, (record) => deleted(record, now));
}

export { keyOf as recordKey };
