// Accepting events: commit to Postgres first (that is the promise behind the 202), then enqueue. If the
// queue is unreachable the events stay pending and the sweep enqueues them later. Requests that arrive
// together are committed together (one multi-row INSERT, one addBulk), each still answered only after
// its own events are committed.
import { createHash } from "node:crypto";
import { stringify } from "safe-stable-stringify";
import sql, { empty, raw, type Sql } from "sql-template-tag";
import { createBatcher } from "../../platform/batcher.ts";
import { isDependencyDown, isNotAnOutage } from "../../platform/dependency-errors.ts";
import type { Deps } from "../../platform/deps.ts";
import { newId } from "../../platform/ids.ts";
import { dependencyOf, outageLog } from "../../platform/outage-log.ts";
import { EVENTS_PER_JOB } from "../../platform/queue.ts";
import { fromPg, runSql, type Queryable } from "../../platform/sql.ts";
import { AppError } from "../errors.ts";
import { changedFields } from "./changed-fields.ts";
import type { EventInput } from "./event-input.ts";

export interface Causation {
  causationId: string;
  depth: number;
}

/** An event_log row about to be inserted. */
export interface NewEvent {
  id: string;
  type: string;
  collection: string;
  recordId: string;
  data: Record<string, unknown>;
  previous: Record<string, unknown> | null;
  changedFields: string[];
  idempotencyKey: string | null;
  /** Of the request that carried the key: a repeat of the key must carry the same. */
  idempotencyDigest: string | null;
  occurredAt: Date;
  receivedAt: Date;
  causationId: string | null;
  depth: number;
}

export interface RowOptions {
  /** One per row: a row whose key exists is not inserted again. */
  keys?: string[];
  /** The digest of the request the keys came from (see requestDigest). */
  digest?: string;
  causation?: Causation;
}

/** Builds the rows for inputs; idempotency keys (one per row) make repeats no-ops. */
export function eventRows(inputs: EventInput[], now: Date, { keys, digest, causation }: RowOptions = {}): NewEvent[] {
  return inputs.map((input, i) => ({
    id: newId("evt"),
    type: input.type,
    collection: input.collection,
    recordId: input.recordId,
    data: input.data,
    previous: input.previous ?? null,
    changedFields: input.type === "collection.updated" ? changedFields(input.data, input.previous) : [],
    idempotencyKey: keys?.[i] ?? null,
    idempotencyDigest: keys?.[i] ? (digest ?? null) : null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : now,
    receivedAt: now,
    causationId: causation?.causationId ?? null,
    depth: causation?.depth ?? 0,
  }));
}

/** What makes two requests the same: their events, whatever the order of keys in their JSON. */
export function requestDigest(inputs: EventInput[]): string {
  return createHash("sha256").update(stringify(inputs)).digest("base64url");
}

/** The columns, in order, of the rows an event INSERT takes (see eventsInsertFrom). */
export const EVENT_SOURCE_COLUMNS = [
  "id",
  "type",
  "collection",
  "record_id",
  "data",
  "previous",
  "changed",
  "key",
  "occurred",
  "received",
  "causation",
  "depth",
  "digest",
  "bytes",
];

/**
 * The INSERT of events from `source`, a query whose rows have the columns of EVENT_SOURCE_COLUMNS in
 * that order (`changed` as a JSON array), returning the ids it created: run alone or as a step of a larger
 * statement. Every writer of the log goes through it.
 */
export function eventsInsertFrom(source: Sql): Sql {
  return sql`
    INSERT INTO event_log (id, type, collection, "recordId", data, previous, "changedFields", "idempotencyKey",
      "occurredAt", "receivedAt", "causationId", depth, "idempotencyDigest", "payloadBytes")
    SELECT v.id, v.type::"EventType", v.collection, v.record_id, v.data, v.previous,
      ARRAY(SELECT jsonb_array_elements_text(v.changed)), v.key, v.occurred, v.received, v.causation, v.depth,
      v.digest, v.bytes
    FROM (${source}) AS v(${raw(EVENT_SOURCE_COLUMNS.join(", "))})
    ON CONFLICT ("idempotencyKey") DO NOTHING
    RETURNING id`;
}

/**
 * The INSERT of event rows built here (see eventsInsertFrom); `only` keeps the rows it selects (a condition
 * over `v`).
 */
export function eventsInsert(rows: NewEvent[], only?: Sql): Sql {
  const col = <T>(pick: (row: NewEvent) => T) => rows.map(pick);
  const data = col((r) => JSON.stringify(r.data));
  const previous = col((r) => (r.previous === null ? null : JSON.stringify(r.previous)));
  const bytes = rows.map((_, i) => Buffer.byteLength(data[i]!) + (previous[i] ? Buffer.byteLength(previous[i]!) : 0));
  return eventsInsertFrom(sql`
    SELECT * FROM unnest(
      ${col((r) => r.id)}::text[],
      ${col((r) => r.type)}::text[],
      ${col((r) => r.collection)}::text[],
      ${col((r) => r.recordId)}::text[],
      ${data}::jsonb[],
      ${previous}::jsonb[],
      ${col((r) => JSON.stringify(r.changedFields))}::jsonb[],
      ${col((r) => r.idempotencyKey)}::text[],
      ${col((r) => r.occurredAt)}::timestamptz[],
      ${col((r) => r.receivedAt)}::timestamptz[],
      ${col((r) => r.causationId)}::text[],
      ${col((r) => r.depth)}::int[],
      ${col((r) => r.idempotencyDigest)}::text[],
      ${bytes}::int[]
    ) AS v(${raw(EVENT_SOURCE_COLUMNS.join(", "))})
    ${only ? sql`WHERE ${only}` : empty}`);
}

export interface Inserted {
  /** Per row: its new id, or for a repeated idempotency key the id of the event first stored under it. */
  ids: string[];
  created: string[];
  /** Per row: its key was first used by a request with another body. */
  reused: boolean[];
}

/**
 * Inserts rows and answers each one's id. The unique index on idempotency keys decides, so concurrent
 * repeats cannot both insert.
 */
export async function insertEvents(q: Queryable, rows: NewEvent[]): Promise<Inserted> {
  if (rows.length === 0) return { ids: [], created: [], reused: [] };
  const inserted = await runSql<{ id: string }>(q, eventsInsert(rows));
  const created = new Set(inserted.map((row) => row.id));
  const repeated = rows.filter((row) => row.idempotencyKey && !created.has(row.id)).map((row) => row.idempotencyKey!);
  const firsts = repeated.length
    ? await q.query<{ id: string; idempotencyKey: string; idempotencyDigest: string | null }>(
        `SELECT id, "idempotencyKey", "idempotencyDigest" FROM event_log WHERE "idempotencyKey" = ANY($1::text[])`,
        [repeated],
      )
    : [];
  const byKey = new Map(firsts.map((row) => [row.idempotencyKey, row]));
  const first = (row: NewEvent) => (created.has(row.id) ? undefined : byKey.get(row.idempotencyKey!));
  return {
    ids: rows.map((row) => first(row)?.id ?? row.id),
    created: [...created],
    // Keys stored before digests were kept (null) are taken at their word.
    reused: rows.map((row) => {
      const stored = first(row)?.idempotencyDigest;
      return row.idempotencyDigest !== null && stored != null && stored !== row.idempotencyDigest;
    }),
  };
}

/**
 * Hands committed events to the queue in jobs of up to EVENTS_PER_JOB, each named by its first event (so
 * the sweep, which names jobs by event, does not queue that one twice). Failure is logged, not raised:
 * the sweep picks the events up.
 */
export async function enqueueEvents({ queue, log }: Pick<Deps, "queue" | "log">, eventIds: string[]): Promise<void> {
  const jobs = [];
  for (let i = 0; i < eventIds.length; i += EVENTS_PER_JOB) {
    const chunk = eventIds.slice(i, i + EVENTS_PER_JOB);
    jobs.push({ id: chunk[0]!, data: { eventIds: chunk } });
  }
  try {
    await queue.add("process-events", jobs);
  } catch (error) {
    // While the queue is down, every batch would say so: the outage log says it once, then at a bounded rate.
    if (isDependencyDown(error)) outageLog(log).down(dependencyOf(error), error);
    else
      log.warn(
        { err: error, events: eventIds.length },
        "queue unavailable: events stay pending until the sweep enqueues them",
      );
  }
}

export interface IngestOptions {
  idempotencyKey?: string;
  /** POST /events/batch: keeps its keys apart from POST /events, since one key names one request. */
  batch?: boolean;
}

export type Ingest = (inputs: EventInput[], options?: IngestOptions) => Promise<string[]>;

const keyReused = () =>
  new AppError(
    "idempotency_key_reused",
    "this Idempotency-Key was used before with a different body; use a new key for a new request",
  );

/** The ingestion of one process: concurrent requests share a commit and an enqueue. */
export function createIngest(deps: Pick<Deps, "pool" | "queue" | "log" | "now">): Ingest {
  const q = fromPg(deps.pool);
  const batcher = createBatcher<NewEvent[], string[] | AppError>(
    async (requests) => {
      const { ids, created, reused } = await insertEvents(q, requests.flat());
      const taken = new Set<string>();
      let offset = 0;
      const answers = requests.map((rows) => {
        const start = offset;
        offset += rows.length;
        if (!reused.slice(start, offset).some(Boolean)) return ids.slice(start, offset);
        for (const row of rows) taken.add(row.id);
        return keyReused();
      });
      // A refused request changes nothing: rows of it this flush created (only when two requests raced
      // with one key and different bodies) are taken back before anything is queued.
      const refused = created.filter((id) => taken.has(id));
      if (refused.length) await runSql(q, sql`DELETE FROM event_log WHERE id = ANY(${refused}::text[])`);
      await enqueueEvents(
        deps,
        created.filter((id) => !taken.has(id)),
      );
      return answers;
    },
    { maxSize: 100, retryAlone: isNotAnOutage },
  );

  return async (inputs, { idempotencyKey, batch = false } = {}) => {
    const keys = idempotencyKey
      ? inputs.map((_, i) => (batch ? `batch:${idempotencyKey}#${i}` : `event:${idempotencyKey}`))
      : undefined;
    const answer = await batcher.add(eventRows(inputs, deps.now(), { keys, digest: keys && requestDigest(inputs) }));
    if (answer instanceof AppError) throw answer;
    return answer;
  };
}
