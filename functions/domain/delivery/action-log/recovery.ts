// Transitions the sweep makes: work the queue lost handed back (claimed with FOR UPDATE SKIP LOCKED and
// stamped, so two sweeps never take the same row and a row is not taken again before the grace period has
// passed once more), unmatched events whose tries ran out failed, and old completed events pruned.
import sql from "sql-template-tag";
import { deleteInBatches, runSql, type Queryable } from "../../../platform/sql.ts";
import { LIMITS } from "../../limits.ts";
import { FINAL_STATUSES, settledColumnsSql, sqlList } from "./event-status.ts";

export interface RecoverySettings {
  /** How long work shows no sign of life before it counts as lost. */
  graceMs: number;
  /** Most rows of each kind taken by one run. */
  batchSize: number;
}

/**
 * Unmatched events with no sign of life: pending past the grace period, or claimed by a worker whose
 * lease lapsed. They are pending again (so a worker may claim them), and their lease is pushed one grace
 * period on, so the next sweep leaves them to this one's jobs.
 */
export async function takeStuckEvents(q: Queryable, now: Date, { graceMs, batchSize }: RecoverySettings) {
  const cutoff = new Date(now.getTime() - graceMs);
  const until = new Date(now.getTime() + graceMs);
  const rows = await runSql<{ id: string }>(
    q,
    sql`UPDATE event_log SET "leaseExpiresAt" = ${until}, status = 'pending'
    WHERE id IN (
      SELECT id FROM event_log
      WHERE "matchedAt" IS NULL AND status IN ('pending', 'processing') AND attempts < ${LIMITS.processingTries}
        AND "receivedAt" < ${cutoff} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})
      ORDER BY id LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`,
  );
  return rows.map((r) => r.id);
}

/**
 * Unmatched events whose tries ran out (each ended in an error or a crash) and whose last lease lapsed:
 * failed for good, with the last reason, instead of being queued again forever. A replay tries again.
 */
export async function failExhaustedEvents(q: Queryable, now: Date, { batchSize }: RecoverySettings) {
  const rows = await runSql<{ id: string }>(
    q,
    sql`UPDATE event_log e SET status = 'failed', ${settledColumnsSql(sql`'failed'`, sql`${now}`)},
      error = 'processing_failed: gave up after ' || attempts || ' tries that did not finish; the last: '
        || coalesce(error, 'the worker stopped (crashed or was stopped) while processing it')
    WHERE id IN (
      SELECT id FROM event_log
      WHERE "matchedAt" IS NULL AND status IN ('pending', 'processing') AND attempts >= ${LIMITS.processingTries}
        AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})
      ORDER BY id LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`,
  );
  return rows.length;
}

/**
 * Actions untouched for the grace period while pending, processing, or overdue for their retry, and not in
 * a first run whose lease holds (later runs have a job of their own, which the queue keeps unique). Stamped:
 * the sweep never decides a retry's time, an action it wakes early waits for its nextAttemptAt.
 */
export async function takeStuckActions(q: Queryable, now: Date, { graceMs, batchSize }: RecoverySettings) {
  const cutoff = new Date(now.getTime() - graceMs);
  const rows = await runSql<{ id: string }>(
    q,
    sql`UPDATE event_actions SET "updatedAt" = ${now}
    WHERE id IN (
      SELECT id FROM event_actions a
      WHERE "updatedAt" < ${cutoff} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})
        AND (status IN ('pending', 'processing') OR (status = 'retrying' AND "nextAttemptAt" < ${cutoff}))
        -- Waiting in order behind an unfinished one: its end releases it; only a lost release is repaired.
        AND NOT (a.waiting = 'order' AND EXISTS (
          SELECT 1 FROM event_actions p
          WHERE p."targetId" = a."targetId" AND p."orderKey" = a."orderKey" AND p."eventId" < a."eventId"
            AND p.status NOT IN (${sqlList(FINAL_STATUSES)})))
      ORDER BY id LIMIT ${batchSize}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`,
  );
  return rows.map((r) => r.id);
}

/** Deletes completed events (their actions and attempts cascade) older than `before`; failed ones stay. */
export function pruneCompletedEvents(q: Queryable, before: Date): Promise<number> {
  return deleteInBatches(
    q,
    (limit) => sql`DELETE FROM event_log WHERE id IN (
        SELECT id FROM event_log WHERE status = 'completed' AND "completedAt" < ${before}
        ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING 1`,
  );
}
