// The sweep: Postgres is the record of all work, the queue only carries it. Every run hands back to the
// queue whatever the queue lost (Redis flushed or down, a worker killed, an enqueue after commit that
// failed) and prunes old completed events (and the counts of chains that stopped writing as long ago), and
// audit entries past AUDIT_RETENTION_DAYS.
// Each run is bounded, and several may run at once: rows are claimed with FOR UPDATE SKIP LOCKED and
// stamped, so two sweeps never take the same row and a row is not taken again before the grace period has
// passed once more. A job id already queued is left alone, and processors are idempotent, so taking a row
// whose job was only slow costs nothing.
import type { Deps } from "../../platform/deps.ts";
import { fromPg } from "../../platform/sql.ts";
import {
  failExhaustedEvents,
  pruneCompletedEvents,
  takeStuckActions,
  takeStuckEvents,
} from "../delivery/action-log/action-log.ts";
import { pruneAuditEntries } from "../audit/audit-log.ts";
import { pruneChainBudgets } from "../triggers/chain-budget.ts";
import { pruneSessions } from "../sign-in/session-store.ts";
import { pruneSignInTries } from "../sign-in/throttle.ts";

export interface SweepResult {
  requeuedEvents: number;
  requeuedActions: number;
  /** Unmatched events given up after LIMITS.processingTries tries. */
  failedEvents: number;
  prunedEvents: number;
}

type SweepDeps = Pick<Deps, "db" | "pool" | "queue" | "config" | "log" | "now">;

export async function runSweep(deps: SweepDeps): Promise<SweepResult> {
  const now = deps.now();
  const q = fromPg(deps.pool);
  const settings = { graceMs: deps.config.SWEEP_GRACE_MS, batchSize: deps.config.SWEEP_BATCH_SIZE };
  const failedEvents = await failExhaustedEvents(q, now, settings);
  const events = await takeStuckEvents(q, now, settings);
  await deps.queue.add(
    "process-events",
    events.map((id) => ({ id, data: { eventIds: [id] } })),
  );
  const actions = await takeStuckActions(q, now, settings);
  await deps.queue.add(
    "run-action",
    actions.map((id) => ({ id, data: { actionId: id } })),
  );
  const retention = new Date(now.getTime() - deps.config.LOG_RETENTION_DAYS * 86_400_000);
  const prunedEvents = await pruneCompletedEvents(q, retention);
  await pruneChainBudgets(q, retention);
  // The audit trail keeps its own time; bounded per run like the log's deletes.
  await pruneAuditEntries(q, new Date(now.getTime() - deps.config.AUDIT_RETENTION_DAYS * 86_400_000));
  // Dashboard sessions past their expiry and sign-in counts of past windows: small rows, not reported.
  await pruneSessions(q, now);
  await pruneSignInTries(q, now);
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
