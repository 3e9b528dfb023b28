// The status rules of delivery, each written once, as SQL the writers build their statements from (the
// worker's batched writers in functions/worker/pipeline/ included): an event's status from its actions',
// a planned action's first status, a trigger run's outcome, and failing an action. See README.md.
//
// An event's status from its actions' statuses:
//
//   any action retrying               -> retrying
//   else any pending or processing    -> processing
//   else any failed                   -> failed
//   else (all completed, or none)     -> completed
import type { EventStatus } from "../../platform/db.ts";
import type { Pool } from "../../platform/pool.ts";
import { transaction, type Queryable } from "../../platform/sql.ts";

/**
 * A planned action's first status: failed when it cannot run (`errorCode` set), processing for a webhook
 * (its first attempt starts now), pending for a trigger (it runs right after the write).
 */
export const plannedActionStatusSql = (a: { kind: string; errorCode: string }) =>
  `(CASE WHEN ${a.errorCode} IS NOT NULL THEN 'failed' WHEN ${a.kind} = 'webhook' THEN 'processing' ELSE 'pending'
    END)::"EventStatus"`;

/** A trigger run's outcome: failed when its filter selected more than TRIGGER_MAX_RECORDS, else completed. */
export const triggerRunStatusSql = (tooMany: string) =>
  `(CASE WHEN ${tooMany} THEN 'failed' ELSE 'completed' END)::"EventStatus"`;

/** Statuses after which nothing more happens to an event (until a replay). */
export const FINAL_STATUSES = ["completed", "failed"] as const;

/** Statuses as a SQL list: `'pending', 'processing'`. */
export const sqlList = (statuses: readonly EventStatus[]) => statuses.map((s) => `'${s}'`).join(", ");

/**
 * The rule as a SQL expression. `has(statuses)` is SQL that is true when one of the event's actions is in
 * one of `statuses`: over all its actions `bool_or(a.status IN (...))`, for an event with one action a
 * test of that action's status.
 */
export function eventStatusSql(has: (statuses: EventStatus[]) => string): string {
  return `(CASE
    WHEN ${has(["retrying"])} THEN 'retrying'
    WHEN ${has(["pending", "processing"])} THEN 'processing'
    WHEN ${has(["failed"])} THEN 'failed'
    ELSE 'completed' END)::"EventStatus"`;
}

/** SQL: true when `status` (SQL) is final. */
export const isFinalSql = (status: string) => `${status} IN (${sqlList(FINAL_STATUSES)})`;

/** One action's part of its event's error: `webhook whk_1: the receiver answered 503`. */
export const actionErrorSql = (a: { kind: string; targetId: string; error: string; status: string }) =>
  `${a.kind} || ' ' || ${a.targetId} || ': ' || coalesce(${a.error}, ${a.status}::text)`;

/** Whose errors an event shows: its actions that failed or wait for a retry. */
export const showsErrorSql = (status: string) => `${status} IN (${sqlList(["failed", "retrying"])})`;

/**
 * The columns an event's new status sets besides itself: completedAt and durationMs (from receivedAt) once
 * it is final, cleared otherwise, and its lease, which a status set from actions no longer needs.
 */
export function settledColumnsSql(status: string, at: string): string {
  return `"leaseExpiresAt" = NULL,
    "completedAt" = CASE WHEN ${isFinalSql(status)} THEN ${at}::timestamptz END,
    "durationMs" = CASE WHEN ${isFinalSql(status)}
      THEN GREATEST(0, round(extract(epoch FROM (${at}::timestamptz - e."receivedAt")) * 1000))::int END`;
}

const LOCK_EVENTS = `SELECT id FROM event_log WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

const ACTION_ERROR = actionErrorSql({
  kind: "a.kind::text",
  targetId: 'a."targetId"',
  error: "a.error",
  status: "a.status",
});

const REFRESH_STATUSES = `
  UPDATE event_log e SET status = s.status, error = s.error, ${settledColumnsSql("s.status", "$2")}
  FROM (
    SELECT ev.id,
      ${eventStatusSql((statuses) => `bool_or(a.status IN (${sqlList(statuses)}))`)} AS status,
      string_agg(${ACTION_ERROR}, '; ' ORDER BY a.id)
        FILTER (WHERE ${showsErrorSql("a.status")}) AS error
    FROM unnest($1::text[]) AS ev(id) LEFT JOIN event_actions a ON a."eventId" = ev.id
    GROUP BY ev.id
  ) s
  WHERE e.id = s.id`;

/** Serialises writers of these events' statuses for the rest of the transaction (in id order: no deadlocks). */
export async function lockEvents(q: Queryable, eventIds: string[]): Promise<void> {
  await q.query(LOCK_EVENTS, [eventIds]);
}

/** Recomputes and stores the events' statuses; call inside the transaction that changed their actions. */
export async function refreshEventStatuses(q: Queryable, eventIds: string[], now: Date): Promise<void> {
  if (eventIds.length > 0) await q.query(REFRESH_STATUSES, [eventIds, now]);
}

/** Recomputes events' statuses under their row locks, in a transaction of its own. */
export async function recomputeEventStatuses(pool: Pool, eventIds: string[], now: Date): Promise<void> {
  if (eventIds.length === 0) return;
  await transaction(pool, async (q) => {
    await lockEvents(q, eventIds);
    await refreshEventStatuses(q, eventIds, now);
  });
}

/**
 * Fails an action for good, with a code and a reason. Under its event's row lock, so two actions of one
 * event finishing at once cannot leave a stale status behind.
 */
export async function failAction(
  pool: Pool,
  action: { id: string; eventId: string },
  now: Date,
  errorCode: string,
  error: string,
): Promise<void> {
  await transaction(pool, async (q) => {
    await lockEvents(q, [action.eventId]);
    await q.query(
      `UPDATE event_actions SET status = 'failed', error = $2, "errorCode" = $3, "nextAttemptAt" = NULL,
         "completedAt" = $4, "updatedAt" = $4 WHERE id = $1`,
      [action.id, error, errorCode, now],
    );
    await refreshEventStatuses(q, [action.eventId], now);
  });
}
