// The replay transition: a person asks for actions to run again, each with a fresh retry budget.
import sql, { empty, join, type Sql } from "sql-template-tag";
import type { Pool } from "../../../platform/pool.ts";
import { runSql, transaction, type Queryable } from "../../../platform/sql.ts";
import { lockEvents, refreshEventStatuses } from "./event-status.ts";

/**
 * Resets the actions `selected` picks (a condition over actions `a` of events `e`), at most `limit`, to
 * pending, on `q`: a transaction of the caller's, so the reset commits with what records it (the audit
 * entry). Answers them. Rows another transaction holds are skipped. Once it has committed, their events'
 * statuses follow with settleReplayedEvents.
 */
export async function replayActionRows(
  q: Queryable,
  selected: Sql[],
  limit: number,
  now: Date,
): Promise<Array<{ id: string; eventId: string }>> {
  return runSql<{ id: string; eventId: string }>(
    q,
    sql`UPDATE event_actions SET status = 'pending', attempts = 0, "unfinishedRuns" = 0, error = NULL, waiting = NULL,
        "errorCode" = NULL, "nextAttemptAt" = NULL, "completedAt" = NULL, "updatedAt" = ${now}
      WHERE id IN (
        SELECT a.id FROM event_actions a JOIN event_log e ON e.id = a."eventId"
        WHERE TRUE ${selected.length ? join(selected, " ") : empty}
        ORDER BY a.id LIMIT ${limit}
        FOR UPDATE OF a SKIP LOCKED)
      RETURNING id, "eventId"`,
  );
}

/**
 * After a replay's reset committed: its events' statuses follow the rule, in a transaction of its own
 * under the events' locks (taken after the actions' were let go, in the order every writer takes them).
 */
export async function settleReplayedEvents(pool: Pool, rows: Array<{ eventId: string }>, now: Date): Promise<void> {
  const eventIds = [...new Set(rows.map((r) => r.eventId))].sort();
  if (eventIds.length === 0) return;
  await transaction(pool, async (q) => {
    await lockEvents(q, eventIds);
    await refreshEventStatuses(q, eventIds, now);
  });
}

/** An unmatched event given up (failed) gets its tries afresh: pending again. */
export async function retryUnmatchedEvent(q: Queryable, eventId: string): Promise<void> {
  await runSql(
    q,
    sql`UPDATE event_log SET status = 'pending', attempts = 0, error = NULL, "completedAt" = NULL, "durationMs" = NULL
      WHERE id = ${eventId} AND "matchedAt" IS NULL AND status = 'failed'`,
  );
}
