// The sweep: Postgres is the record of all work, the queue only carries it. Every run hands back to the
// queue whatever the queue lost (Redis flushed or down, a worker killed, an enqueue after commit that
// failed) and prunes old completed events. Each run is bounded, and several may run at once: rows are
// claimed with FOR UPDATE SKIP LOCKED and stamped, so two sweeps never take the same row and a row is
// not taken again before the grace period has passed once more. A job id already queued is left alone,
// and processors are idempotent, so taking a row whose job was only slow costs nothing.
import type { Deps } from "../../platform/deps.ts";
import { settledColumnsSql } from "../delivery/statuses.ts";
import { LIMITS } from "../limits.ts";

export interface SweepResult {
  requeuedEvents: number;
  requeuedActions: number;
  /** Unmatched events given up after LIMITS.processingTries tries. */
  failedEvents: number;
  prunedEvents: number;
}

/** At most this many prune batches per run, so one run stays short even after a long pause. */
const MAX_PRUNE_BATCHES = 10;
const PRUNE_BATCH = 1000;

type SweepDeps = Pick<Deps, "db" | "pool" | "queue" | "config" | "log" | "now">;

/**
 * Unmatched events with no sign of life: pending past the grace period, or claimed by a worker whose
 * lease lapsed. They are pending again (so a worker may claim them), and their lease is pushed one grace
 * period on, so the next sweep leaves them to this one's jobs.
 */
async function claimStuckEvents({ db, config }: SweepDeps, now: Date): Promise<string[]> {
  const cutoff = new Date(now.getTime() - config.SWEEP_GRACE_MS);
  const until = new Date(now.getTime() + config.SWEEP_GRACE_MS);
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    UPDATE event_log SET "leaseExpiresAt" = ${until}, status = 'pending'
    WHERE id IN (
      SELECT id FROM event_log
      WHERE "matchedAt" IS NULL AND status IN ('pending', 'processing') AND attempts < ${LIMITS.processingTries}
        AND "receivedAt" < ${cutoff} AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < ${now})
      ORDER BY id LIMIT ${config.SWEEP_BATCH_SIZE}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  return rows.map((r) => r.id);
}

const FAIL_EXHAUSTED_EVENTS = `
  UPDATE event_log e SET status = 'failed', ${settledColumnsSql("'failed'", "$1")},
    error = 'processing_failed: gave up after ' || attempts || ' tries that did not finish; the last: '
      || coalesce(error, 'the worker stopped (crashed or was stopped) while processing it')
  WHERE id IN (
    SELECT id FROM event_log
    WHERE "matchedAt" IS NULL AND status IN ('pending', 'processing') AND attempts >= $2
      AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" < $1)
    ORDER BY id LIMIT $3
    FOR UPDATE SKIP LOCKED)`;

/**
 * Unmatched events whose tries ran out (each ended in an error or a crash) and whose last lease lapsed:
 * failed for good, with the last reason, instead of being queued again forever. A replay tries again.
 */
async function failExhaustedEvents({ pool, config }: SweepDeps, now: Date): Promise<number> {
  const { rowCount } = await pool.query(FAIL_EXHAUSTED_EVENTS, [now, LIMITS.processingTries, config.SWEEP_BATCH_SIZE]);
  return rowCount ?? 0;
}

/** Actions untouched for the grace period while pending, processing, or overdue for their retry. */
async function claimStuckActions({ db, config }: SweepDeps, now: Date): Promise<string[]> {
  const cutoff = new Date(now.getTime() - config.SWEEP_GRACE_MS);
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    UPDATE event_actions SET "updatedAt" = ${now}
    WHERE id IN (
      SELECT id FROM event_actions
      WHERE "updatedAt" < ${cutoff}
        AND (status IN ('pending', 'processing') OR (status = 'retrying' AND "nextAttemptAt" < ${cutoff}))
      ORDER BY id LIMIT ${config.SWEEP_BATCH_SIZE}
      FOR UPDATE SKIP LOCKED)
    RETURNING id`;
  return rows.map((r) => r.id);
}

/** Deletes completed events (their actions and attempts cascade) older than `before`; failed ones stay. */
async function pruneCompletedEvents({ db }: Pick<Deps, "db">, before: Date): Promise<number> {
  let pruned = 0;
  for (let batch = 0; batch < MAX_PRUNE_BATCHES; batch++) {
    const deleted = await db.$executeRaw`
      DELETE FROM event_log WHERE id IN (
        SELECT id FROM event_log WHERE status = 'completed' AND "completedAt" < ${before}
        ORDER BY id LIMIT ${PRUNE_BATCH} FOR UPDATE SKIP LOCKED)`;
    pruned += deleted;
    if (deleted < PRUNE_BATCH) break;
  }
  return pruned;
}

export async function runSweep(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.now();
  const failedEvents = await failExhaustedEvents(deps, now);
  const events = await claimStuckEvents(deps, now);
  await deps.queue.add(
    "process-events",
    events.map((id) => ({ id, data: { eventIds: [id] } })),
  );
  const actions = await claimStuckActions(deps, now);
  await deps.queue.add(
    "run-action",
    actions.map((id) => ({ id, data: { actionId: id } })),
  );
  const prunedEvents = await pruneCompletedEvents(
    deps,
    new Date(now.getTime() - deps.config.LOG_RETENTION_DAYS * 86_400_000),
  );
  const result = { requeuedEvents: events.length, requeuedActions: actions.length, failedEvents, prunedEvents };
  // For GET /health: a sweep that stopped running leaves lost work pending, and nothing else would say so.
  // Totals added in the database, so /metrics counts every run whichever process made it.
  const totals = {
    runs: 1n,
    requeuedEvents: BigInt(events.length),
    requeuedActions: BigInt(actions.length),
    failedEvents: BigInt(failedEvents),
    prunedEvents: BigInt(prunedEvents),
  };
  await deps.db.sweepState.upsert({
    where: { id: 1 },
    create: { id: 1, lastRunAt: now, lastResult: result, ...totals },
    update: {
      lastRunAt: now,
      lastResult: result,
      ...Object.fromEntries(Object.entries(totals).map(([name, n]) => [name, { increment: n }])),
    },
  });
  deps.log.info(result, "sweep done");
  return result;
}
