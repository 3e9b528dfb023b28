// The status rule of delivery, written once, as SQL that the action log's statements are built from: an
// event's status from its actions', and what settles with it. See ../README.md.
//
//   any action retrying               -> retrying
//   else any pending or processing    -> processing
//   else any failed                   -> failed
//   else (all completed, or none)     -> completed
import sql, { raw, type Sql } from "sql-template-tag";
import type { EventStatus } from "../../../platform/db.ts";
import { runSql, type Queryable } from "../../../platform/sql.ts";

/** Statuses after which nothing more happens to an event or an action (until a replay). */
export const FINAL_STATUSES = ["completed", "failed"] as const satisfies EventStatus[];

/** Statuses as a SQL list: `'pending', 'processing'`. */
export const sqlList = (statuses: readonly EventStatus[]) => raw(statuses.map((s) => `'${s}'`).join(", "));

/**
 * The rule as a SQL expression. `has(statuses)` is SQL that is true when one of the event's actions is in
 * one of `statuses`: over all its actions `bool_or(a.status IN (...))`, for an event with one action a
 * test of that action's status.
 */
export function eventStatusSql(has: (statuses: EventStatus[]) => Sql): Sql {
  return sql`(CASE
    WHEN ${has(["retrying"])} THEN 'retrying'
    WHEN ${has(["pending", "processing"])} THEN 'processing'
    WHEN ${has(["failed"])} THEN 'failed'
    ELSE 'completed' END)::"EventStatus"`;
}

/** SQL: true when `status` (SQL) is final. */
export const isFinalSql = (status: Sql) => sql`${status} IN (${sqlList(FINAL_STATUSES)})`;

/**
 * One action's part of its event's error, `webhook whk_1: the receiver answered 503`, from the action row
 * `alias` (its error and status columns) with its kind and target as SQL expressions.
 */
export const actionErrorSql = (alias: string, kind: string, targetId: string) =>
  raw(`${kind} || ' ' || ${targetId} || ': ' || coalesce(${alias}.error, ${alias}.status::text)`);

/** Whose errors an event shows: its actions that failed or wait for a retry. */
export const showsErrorSql = (status: Sql) => sql`${status} IN (${sqlList(["failed", "retrying"])})`;

/**
 * The columns an event's new status sets besides itself (`e` is the event): completedAt and durationMs
 * (from receivedAt) once it is final, cleared otherwise, and its lease, which a status set from actions no
 * longer needs.
 */
export function settledColumnsSql(status: Sql, at: Sql): Sql {
  return sql`"leaseExpiresAt" = NULL,
    "completedAt" = CASE WHEN ${isFinalSql(status)} THEN ${at}::timestamptz END,
    "durationMs" = CASE WHEN ${isFinalSql(status)}
      THEN GREATEST(0, round(extract(epoch FROM (${at}::timestamptz - e."receivedAt")) * 1000))::int END`;
}

/** Serialises writers of these events' statuses for the rest of the transaction (in id order: no deadlocks). */
export async function lockEvents(q: Queryable, eventIds: string[]): Promise<void> {
  await runSql(q, sql`SELECT id FROM event_log WHERE id = ANY(${eventIds}::text[]) ORDER BY id FOR UPDATE`);
}

/** Recomputes and stores the events' statuses; call inside the transaction that changed their actions. */
export async function refreshEventStatuses(q: Queryable, eventIds: string[], now: Date): Promise<void> {
  if (eventIds.length === 0) return;
  const a = (column: string) => raw(`a.${column}`);
  const actionError = actionErrorSql("a", "a.kind::text", 'a."targetId"');
  await runSql(
    q,
    sql`
    UPDATE event_log e SET status = s.status, error = s.error, ${settledColumnsSql(raw("s.status"), sql`${now}`)}
    FROM (
      SELECT ev.id,
        ${eventStatusSql((statuses) => sql`bool_or(a.status IN (${sqlList(statuses)}))`)} AS status,
        string_agg(${actionError}, '; ' ORDER BY a.id)
          FILTER (WHERE ${showsErrorSql(a("status"))}) AS error
      FROM unnest(${eventIds}::text[]) AS ev(id) LEFT JOIN event_actions a ON a."eventId" = ev.id
      GROUP BY ev.id
    ) s
    WHERE e.id = s.id`,
  );
}

/** The record an event is about, as an ordered action's orderKey (`e` the event row); orderKey() in JS. */
export const orderKeySql = (e: Sql) => sql`${e}.collection || chr(31) || ${e}."recordId"`;
export const orderKey = (event: { collection: string; recordId: string }) =>
  `${event.collection}\u001f${event.recordId}`;
