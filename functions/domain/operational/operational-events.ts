// Operational events: tetik's own happenings, written to its event log as `collection.created` events in the
// reserved collection `tetik` (RESERVED_COLLECTION), so definitions watch them like any other collection.
// Each is inserted in the transaction of the change it reports (a webhook's health, an action's final
// failure, an audit entry) and queued after the commit like any accepted event; if queueing fails the
// event stays pending and the sweep queues it. No operational event is made about the delivery of an
// operational event: callers pass only changes caused by events of other collections (no loops).
import sql, { type Sql } from "sql-template-tag";
import type { Deps } from "../../platform/deps.ts";
import { newId } from "../../platform/ids.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { enqueueEvents, eventRows, eventsInsert, eventsInsertFrom } from "../events/ingest-events.ts";
import { RESERVED_COLLECTION } from "../validation.ts";

export { RESERVED_COLLECTION as OPERATIONAL_COLLECTION };

export const OPERATIONAL_KINDS = [
  "webhook.failing",
  "webhook.disabled",
  "webhook.recovered",
  "delivery.exhausted",
  "config.changed",
] as const;
export type OperationalKind = (typeof OPERATIONAL_KINDS)[number];

/** Failed deliveries in a row after which a webhook is `webhook.failing` (and a success `webhook.recovered`). */
export const FAILING_AFTER = 5;

/** One happening: `recordId` is the webhook, event or key it is about; `data` gets `kind` put first. */
export interface OperationalEvent {
  kind: OperationalKind;
  recordId: string;
  data?: Record<string, unknown>;
  /** The event that caused it (delivery.exhausted: the event whose action failed), for its chain's depth. */
  causation?: { causationId: string; depth: number };
}

/** What a committed emit hands to announceOperationalEvents. */
export interface Emitted {
  id: string;
  kind: OperationalKind;
}

/** A Prisma interactive transaction, as the config API's writers hold one. */
interface PrismaTransaction {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

// Prisma's driver adapter passes Dates inside arrays poorly; ISO text casts to timestamptz the same.
const plain = (value: unknown): unknown =>
  value instanceof Date ? value.toISOString() : Array.isArray(value) ? value.map(plain) : value;

function asQueryable(tx: Queryable | PrismaTransaction): Queryable {
  if (!("$queryRawUnsafe" in tx)) return tx;
  return { query: <R>(text: string, params: unknown[] = []) => tx.$queryRawUnsafe<R[]>(text, ...params.map(plain)) };
}

/**
 * Inserts operational events in the caller's transaction (a pg Queryable or a Prisma transaction) and
 * answers what it inserted. After the commit, pass the answer to announceOperationalEvents (or leave it to
 * the sweep, which queues pending events after SWEEP_GRACE_MS).
 */
export async function emitOperationalEvents(
  tx: Queryable | PrismaTransaction,
  events: OperationalEvent[],
  now: Date,
): Promise<Emitted[]> {
  if (events.length === 0) return [];
  const rows = events.flatMap((event) =>
    eventRows(
      [
        {
          type: "collection.created",
          collection: RESERVED_COLLECTION,
          recordId: event.recordId,
          data: { ...event.data, kind: event.kind },
        },
      ],
      now,
      { causation: event.causation },
    ),
  );
  const inserted = await runSql<{ id: string }>(asQueryable(tx), eventsInsert(rows));
  const created = new Set(inserted.map((row) => row.id));
  return rows.flatMap((row, i) => (created.has(row.id) ? [{ id: row.id, kind: events[i]!.kind }] : []));
}

/**
 * One operational event, e.g. the audit trail's `config.changed` inside the transaction of the change:
 * `emitOperationalEvent(tx, { kind: "config.changed", recordId: target.id, data: { action, target, keyId } })`.
 */
export async function emitOperationalEvent(
  tx: Queryable | PrismaTransaction,
  event: OperationalEvent,
  now: Date = new Date(),
): Promise<Emitted> {
  const [emitted] = await emitOperationalEvents(tx, [event], now);
  return emitted!;
}

/** After the commit: queues the events (a failure is logged; the sweep queues them) and counts them. */
export async function announceOperationalEvents(
  deps: Pick<Deps, "queue" | "log"> & { metrics?: Pick<Deps["metrics"], "operationalEvents"> },
  emitted: Emitted[],
): Promise<void> {
  if (emitted.length === 0) return;
  for (const { kind } of emitted) deps.metrics?.operationalEvents.inc({ kind });
  await enqueueEvents(
    deps,
    emitted.map((e) => e.id),
  );
}

/**
 * The INSERT of `delivery.exhausted` events for actions that failed for good, as a statement or a step of
 * one. `failures` is a query with the columns (id: the new event's, action_id, event_id, action_kind,
 * target_id, definition_id, error_code, error, attempts, http_status, at). Failures of actions of
 * operational events are left out (no loops); a failure's event is the operational event's cause, so a
 * chain through triggers stays within TRIGGER_MAX_DEPTH. Returns the ids and kinds it inserted.
 */
export function exhaustedEventsInsert(failures: Sql): Sql {
  const data = sql`jsonb_strip_nulls(jsonb_build_object(
    'kind', 'delivery.exhausted', 'eventId', x.event_id, 'collection', e.collection, 'recordId', e."recordId",
    'actionId', x.action_id, 'actionKind', x.action_kind,
    'webhookId', CASE WHEN x.action_kind::text = 'webhook' THEN x.target_id END, 'webhookUrl', w.url,
    'triggerId', CASE WHEN x.action_kind::text = 'trigger' THEN x.target_id END,
    'definitionId', x.definition_id, 'definitionName', d.name,
    'errorCode', x.error_code, 'error', x.error, 'attempts', x.attempts, 'httpStatus', x.http_status))`;
  return eventsInsertFrom(sql`
    SELECT x.id, 'collection.created', ${RESERVED_COLLECTION}::text, x.event_id, o.data, NULL::jsonb, '[]'::jsonb,
      NULL::text, x.at, x.at, x.event_id, e.depth + 1, NULL::text, octet_length(o.data::text)
    FROM (${failures}) AS x(id, action_id, event_id, action_kind, target_id, definition_id, error_code, error,
      attempts, http_status, at)
    JOIN event_log e ON e.id = x.event_id
    LEFT JOIN webhooks w ON x.action_kind::text = 'webhook' AND w.id = x.target_id
    LEFT JOIN event_definitions d ON d.id = x.definition_id
    CROSS JOIN LATERAL (SELECT ${data} AS data) o
    WHERE e.collection <> ${RESERVED_COLLECTION}`);
}

/** The answer of exhaustedEventsInsert as Emitted rows. */
export const asEmitted = (rows: Array<{ id: string }>): Emitted[] =>
  rows.map((row) => ({ id: row.id, kind: "delivery.exhausted" }));

/** A new event id per failure to report (null for what fails nothing), for exhaustedEventsInsert's rows. */
export const exhaustedIds = (failed: boolean[]) => failed.map((f) => (f ? newId("evt") : null));

/** SQL: rows `(id, action_id, ...)` for exhaustedEventsInsert from event_actions `a` (as they are now). */
export const failedActionRows = (ids: string[], actionIds: string[], at: Date) => sql`
  SELECT c.id, a.id, a."eventId", a.kind::text, a."targetId", a."definitionId", a."errorCode", a.error, a.attempts,
    (a.result ->> 'status')::int, ${at}::timestamptz
  FROM unnest(${ids}::text[], ${actionIds}::text[]) AS c(id, action_id)
  JOIN event_actions a ON a.id = c.action_id AND a.status = 'failed'`;
