// What the log, the queue and the sweep know, read when asked (by /metrics and the dashboard): the same
// answer from every process.
import type { CoreDeps } from "./core-deps.ts";
import { registerSystemGauges, type SystemState } from "./metrics.ts";
import { transaction } from "./sql.ts";
import { withTimeout } from "./timeout.ts";

const READ_TIMEOUT_MS = 5_000;
/** Scrapes within this of each other share one count of the log (it reads the whole status index). */
const COUNT_CACHE_MS = 5_000;

export function systemState({ pool, queue }: Pick<CoreDeps, "pool" | "queue">): SystemState {
  let counted: { at: number; counts: Promise<Record<string, number>> } | undefined;
  const countByStatus = () =>
    transaction(pool, async (q) => {
      // Stopped by Postgres itself at the timeout, so a slow count never keeps holding a connection.
      await q.query(`SET LOCAL statement_timeout = ${READ_TIMEOUT_MS}`);
      const rows = await q.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM event_log GROUP BY status`,
      );
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
    });
  return {
    eventsByStatus() {
      if (!counted || Date.now() - counted.at > COUNT_CACHE_MS) {
        const counts = countByStatus();
        counted = { at: Date.now(), counts };
        // A failed count is not kept: the next scrape tries again.
        counts.catch(() => (counted = undefined));
      }
      return counted.counts;
    },
    queueJobs: () => queue.counts(),
    async sweep() {
      const { rows } = await withTimeout(
        pool.query<{
          lastRunAt: Date;
          runs: string;
          requeuedEvents: string;
          requeuedActions: string;
          failedEvents: string;
          prunedEvents: string;
        }>(
          `SELECT "lastRunAt", runs, "requeuedEvents", "requeuedActions", "failedEvents", "prunedEvents"
           FROM sweep_state WHERE id = 1`,
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

/**
 * A scrape of `deps`' registry: this process's counters and what Postgres and Redis know now. The API's
 * GET /metrics and the worker's own serve it alike.
 */
export function metricsScrape(
  deps: Pick<CoreDeps, "pool" | "queue" | "metrics">,
): () => Promise<{ text: string; contentType: string }> {
  registerSystemGauges(deps.metrics.registry, systemState(deps));
  return async () => ({ text: await deps.metrics.registry.metrics(), contentType: deps.metrics.registry.contentType });
}
