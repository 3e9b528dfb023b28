// The sweep: Postgres is the record of all work, the queue only carries it. Every run hands back to the
// queue whatever the queue lost (Redis flushed or down, a worker killed, an enqueue after commit that
// failed) and prunes old completed events. Everything it does is bounded and safe to repeat or to run
// in several places at once: a job id already queued is left alone, and processors are idempotent.
import type { Deps } from "../../platform/deps.ts";

export interface SweepResult {
  requeuedEvents: number;
  requeuedActions: number;
  prunedEvents: number;
}

/** At most this many prune batches per run, so one run stays short even after a long pause. */
const MAX_PRUNE_BATCHES = 10;
const PRUNE_BATCH = 1000;

export async function runSweep(deps: Pick<Deps, "db" | "queue" | "config" | "log" | "now">): Promise<SweepResult> {
  const { db, queue, config } = deps;
  const now = deps.now();
  const cutoff = new Date(now.getTime() - config.SWEEP_GRACE_MS);
  const limit = config.SWEEP_BATCH_SIZE;

  // Events not yet matched: pending past the grace period, or claimed by a worker whose lease lapsed.
  const events = await db.eventLog.findMany({
    where: {
      matchedAt: null,
      OR: [
        { status: "pending", receivedAt: { lt: cutoff } },
        { status: "processing", leaseExpiresAt: { lt: now } },
      ],
    },
    select: { id: true },
    orderBy: { id: "asc" },
    take: limit,
  });
  await queue.add("process-event", events.map((e) => ({ id: e.id, data: { eventId: e.id } })));

  // Actions with no sign of life since the grace period, or whose retry is overdue.
  const actions = await db.eventAction.findMany({
    where: {
      OR: [
        { status: { in: ["pending", "processing"] }, updatedAt: { lt: cutoff } },
        { status: "retrying", nextAttemptAt: { lt: cutoff } },
      ],
    },
    select: { id: true },
    orderBy: { id: "asc" },
    take: limit,
  });
  await queue.add("run-action", actions.map((a) => ({ id: a.id, data: { actionId: a.id } })));

  const prunedEvents = await pruneCompletedEvents(deps, new Date(now.getTime() - config.LOG_RETENTION_DAYS * 86_400_000));
  const result = { requeuedEvents: events.length, requeuedActions: actions.length, prunedEvents };
  deps.log.info(result, "sweep done");
  return result;
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
