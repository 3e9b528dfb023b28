// Accepting events: commit to Postgres first (that is the promise behind the 202), then enqueue. If the
// queue is unreachable the events stay pending and the sweep enqueues them later. Requests that arrive
// together are committed together (one multi-row INSERT, one addBulk), each still answered only after
// its own events are committed.
import { createBatcher } from "../../platform/batcher.ts";
import { isNotAnOutage } from "../../platform/dependency-errors.ts";
import type { Deps } from "../../platform/deps.ts";
import { newId } from "../../platform/ids.ts";
import { EVENTS_PER_JOB } from "../../platform/queue.ts";
import { fromPg, type Queryable } from "../../platform/sql.ts";
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
  occurredAt: Date;
  receivedAt: Date;
  causationId: string | null;
  depth: number;
}

/** Builds the rows for inputs; idempotency keys (one per row) make repeats no-ops. */
export function eventRows(inputs: EventInput[], now: Date, keys?: string[], causation?: Causation): NewEvent[] {
  return inputs.map((input, i) => ({
    id: newId("evt"),
    type: input.type,
    collection: input.collection,
    recordId: input.recordId,
    data: input.data,
    previous: input.previous ?? null,
    changedFields: input.type === "collection.updated" ? changedFields(input.data, input.previous) : [],
    idempotencyKey: keys?.[i] ?? null,
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : now,
    receivedAt: now,
    causationId: causation?.causationId ?? null,
    depth: causation?.depth ?? 0,
  }));
}

const INSERT_EVENTS = `
  INSERT INTO event_log (id, type, collection, "recordId", data, previous, "changedFields", "idempotencyKey",
    "occurredAt", "receivedAt", "causationId", depth)
  SELECT v.id, v.type::"EventType", v.collection, v.record_id, v.data, v.previous,
    ARRAY(SELECT jsonb_array_elements_text(v.changed)), v.key, v.occurred, v.received, v.causation, v.depth
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[], $7::jsonb[], $8::text[],
    $9::timestamptz[], $10::timestamptz[], $11::text[], $12::int[])
    AS v(id, type, collection, record_id, data, previous, changed, key, occurred, received, causation, depth)
  ON CONFLICT ("idempotencyKey") DO NOTHING
  RETURNING id`;

/**
 * Inserts rows and answers each one's id: the new id, or for a repeated idempotency key the id of the
 * event first stored under it. The unique index decides, so concurrent repeats cannot both insert.
 */
export async function insertEvents(q: Queryable, rows: NewEvent[]): Promise<{ ids: string[]; created: string[] }> {
  if (rows.length === 0) return { ids: [], created: [] };
  const col = <T>(pick: (row: NewEvent) => T) => rows.map(pick);
  const json = (value: unknown) => (value === null ? null : JSON.stringify(value));
  const inserted = await q.query<{ id: string }>(INSERT_EVENTS, [
    col((r) => r.id),
    col((r) => r.type),
    col((r) => r.collection),
    col((r) => r.recordId),
    col((r) => json(r.data)),
    col((r) => json(r.previous)),
    col((r) => JSON.stringify(r.changedFields)),
    col((r) => r.idempotencyKey),
    col((r) => r.occurredAt),
    col((r) => r.receivedAt),
    col((r) => r.causationId),
    col((r) => r.depth),
  ]);
  const created = new Set(inserted.map((row) => row.id));
  const repeated = rows.filter((row) => row.idempotencyKey && !created.has(row.id)).map((row) => row.idempotencyKey!);
  const firsts = repeated.length
    ? await q.query<{ id: string; idempotencyKey: string }>(`SELECT id, "idempotencyKey" FROM event_log WHERE "idempotencyKey" = ANY($1::text[])`, [repeated])
    : [];
  const byKey = new Map(firsts.map((row) => [row.idempotencyKey, row.id]));
  const ids = rows.map((row) => (created.has(row.id) ? row.id : (byKey.get(row.idempotencyKey!) ?? row.id)));
  return { ids, created: [...created] };
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
    log.warn({ err: error, events: eventIds.length }, "queue unavailable: events stay pending until the sweep enqueues them");
  }
}

export interface IngestOptions {
  idempotencyKey?: string;
  /** POST /events/batch: keeps its keys apart from POST /events, since one key names one request. */
  batch?: boolean;
}

export type Ingest = (inputs: EventInput[], options?: IngestOptions) => Promise<string[]>;

/** The ingestion of one process: concurrent requests share a commit and an enqueue. */
export function createIngest(deps: Pick<Deps, "pool" | "queue" | "log" | "now">): Ingest {
  const q = fromPg(deps.pool);
  const batcher = createBatcher<NewEvent[], string[]>(async (requests) => {
    const { ids, created } = await insertEvents(q, requests.flat());
    await enqueueEvents(deps, created);
    let offset = 0;
    return requests.map((rows) => ids.slice(offset, (offset += rows.length)));
  }, { maxSize: 100, retryAlone: isNotAnOutage });

  return (inputs, { idempotencyKey, batch = false } = {}) => {
    const keys = idempotencyKey ? inputs.map((_, i) => (batch ? `batch:${idempotencyKey}#${i}` : `event:${idempotencyKey}`)) : undefined;
    return batcher.add(eventRows(inputs, deps.now(), keys));
  };
}
