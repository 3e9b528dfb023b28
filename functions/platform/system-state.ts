// What the log, the queue and the sweep know, read when asked (by /metrics and the dashboard): the same
// answer from every process.
import type { CoreDeps } from "./core-deps.ts";
import type { SystemState } from "./metrics.ts";
import { withTimeout } from "./timeout.ts";

const READ_TIMEOUT_MS = 5_000;

export function systemState({ pool, queue }: Pick<CoreDeps, "pool" | "queue">): SystemState {
  return {
    async eventsByStatus() {
      // One index-only pass over (status, id) per status.
      const { rows } = await withTimeout(
        pool.query<{ status: string; n: string }>(`SELECT status, count(*) AS n FROM event_log GROUP BY status`),
        READ_TIMEOUT_MS,
        "postgres",
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    },
    queueJobs: () => queue.counts(),
    async sweep() {
      const { rows } = await withTimeout(
        pool.query<{ lastRunAt: Date; runs: string; requeuedEvents: string; requeuedActions: string; failedEvents: string; prunedEvents: string }>(
          `SELECT "lastRunAt", runs, "requeuedEvents", "requeuedActions", "failedEvents", "prunedEvents" FROM sweep_state WHERE id = 1`,
        ),
        READ_TIMEOUT_MS,
        "postgres",
      );
      const row = rows[0];
      return {
        runs: Number(row?.runs ?? 0),
        requeuedEvents: Number(row?.requeuedEvents ?? 0),
        requeuedActions: Number(row?.requeuedActions ?? 0),
        failedEvents: Number(row?.failedEvents ?? 0),
        prunedEvents: Number(row?.prunedEvents ?? 0),
        lastRunAt: row?.lastRunAt ?? null,
      };
    },
  };
}
