// An event's status is the aggregate of its actions' statuses. This SQL is the one place that decides it:
// completed when every action succeeded or there were none; retrying while one waits for another attempt;
// processing while others run; failed when all finished and one failed for good.
import type { Pool } from "../../platform/pool.ts";
import { transaction, type Queryable } from "../../platform/sql.ts";

const LOCK_EVENTS = `SELECT id FROM event_log WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`;

const REFRESH_STATUSES = `
  UPDATE event_log e SET
    status = s.status::"EventStatus",
    error = s.error,
    "leaseExpiresAt" = NULL,
    "completedAt" = CASE WHEN s.status IN ('completed', 'failed') THEN $2::timestamptz END,
    "durationMs" = CASE WHEN s.status IN ('completed', 'failed')
      THEN GREATEST(0, round(extract(epoch FROM ($2::timestamptz - e."receivedAt")) * 1000))::int END
  FROM (
    SELECT ev.id,
      CASE
        WHEN bool_or(a.status = 'retrying') THEN 'retrying'
        WHEN bool_or(a.status IN ('pending', 'processing')) THEN 'processing'
        WHEN bool_or(a.status = 'failed') THEN 'failed'
        ELSE 'completed'
      END AS status,
      string_agg(a.kind::text || ' ' || a."targetId" || ': ' || coalesce(a.error, a.status::text), '; ' ORDER BY a.id)
        FILTER (WHERE a.status IN ('failed', 'retrying')) AS error
    FROM unnest($1::text[]) AS ev(id) LEFT JOIN event_actions a ON a."eventId" = ev.id
    GROUP BY ev.id
  ) s
  WHERE e.id = s.id`;

/** Serialises writers of these events' aggregates for the rest of the transaction (in id order: no deadlocks). */
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
 * event finishing at once cannot leave a stale aggregate behind.
 */
export async function failAction(pool: Pool, action: { id: string; eventId: string }, now: Date, errorCode: string, error: string): Promise<void> {
  await transaction(pool, async (q) => {
    await lockEvents(q, [action.eventId]);
    await q.query(
      `UPDATE event_actions SET status = 'failed', error = $2, "errorCode" = $3, "nextAttemptAt" = NULL, "completedAt" = $4, "updatedAt" = $4 WHERE id = $1`,
      [action.id, error, errorCode, now],
    );
    await refreshEventStatuses(q, [action.eventId], now);
  });
}
