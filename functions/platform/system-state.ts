// What the log, the queue and the sweep know, read when asked (by /metrics and the dashboard): the same
// answer from every process.
import type { QueryConfig } from "pg";
import type { CoreDeps } from "./core-deps.ts";
import { registerSystemGauges, type SystemState } from "./metrics.ts";
import { withTimeout } from "./timeout.ts";

const READ_TIMEOUT_MS = 5_000;
/** Scrapes within this of each other share one count of the log (it reads the whole status index). */
const COUNT_CACHE_MS = 5_000;

export function systemState({ pool, queue }: Pick<CoreDeps, "pool" | "queue">): SystemState {
  let counted: { at: number; counts: Promise<Record<string, number>> } | undefined;
  // A count still running at the timeout loses its connection (pg's query_timeout: the pool closes it), so a
  // slow count never holds one; Postgres stops it at the role's statement_timeout. Not `SET LOCAL
  // statement_timeout`: through RDS Proxy any SET pins the connection to its client for the session.
  const countByStatus = async () => {
    // pg reads query_timeout from a query's config too; @types/pg does not list it.
    const count = {
      text: `SELECT status, count(*) AS n FROM event_log GROUP BY status`,
      query_timeout: READ_TIMEOUT_MS,
    };
    const { rows } = await pool.query<{ status: string; n: string }>(count as QueryConfig);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };
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
