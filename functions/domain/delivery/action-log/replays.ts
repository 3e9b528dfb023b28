// The replay transition: a person asks for actions to run again, each with a fresh retry budget.
import sql, { empty, join, type Sql } from "sql-template-tag";
import type { Pool } from "../../../platform/pool.ts";
import { fromPg, runSql, transaction } from "../../../platform/sql.ts";
import { lockEvents, refreshEventStatuses } from "./event-status.ts";

/**
 * Resets the actions `selected` picks (a condition over actions `a` of events `e`), at most `limit`, to
 * pending; their events' statuses follow. Answers them. Rows another transaction holds are skipped.
 */
export async function replayActionRows(
  pool: Pool,
  selected: Sql[],
  limit: number,
  now: Date,
): Promise<Array<{ id: string; eventId: string }>> {
  const rows = await runSql<{ id: string; eventId: string }>(
    fromPg(pool),
    sql`UPDATE event_actions SET status = 'pending', attempts = 0, "unfinishedRuns" = 0, error = NULL, waiting = NULL,
        "errorCode" = NULL, "nextAttemptAt" = NULL, "completedAt" = NULL, "updatedAt" = ${now}
      WHERE id IN (
        SELECT a.id FROM event_actions a JOIN event_log e ON e.id = a."eventId"
        WHERE TRUE ${selected.length ? join(selected, " ") : empty}
        ORDER BY a.id LIMIT ${limit}
        FOR UPDATE OF a SKIP LOCKED)
      RETURNING id, "eventId"`,
  );
  const eventIds = [...new Set(rows.map((r) => r.eventId))].sort();
  if (eventIds.length > 0) {
    await transaction(pool, async (q) => {
      await lockEvents(q, eventIds);
      await refreshEventStatuses(q, eventIds, now);
    });
  }
  return rows;
}

/** An unmatched event given up (failed) gets its tries afresh: pending again. */
export async function retryUnmatchedEvent(pool: Pool, eventId: string): Promise<void> {
  await runSql(
    fromPg(pool),
    sql`UPDATE event_log SET status = 'pending', attempts = 0, error = NULL, "completedAt" = NULL, "durationMs" = NULL
      WHERE id = ${eventId} AND "matchedAt" IS NULL AND status = 'failed'`,
  );
}
