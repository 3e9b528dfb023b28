// GET /health: are Postgres and Redis reachable, and is the sweep running? Down dependencies make the
// answer a 503; a sweep that has not run for three intervals makes it "degraded" (still a 200: the API
// works, but work the queue lost is not being recovered).
import type { CoreDeps } from "../../platform/core-deps.ts";
import { withTimeout } from "../../platform/timeout.ts";

const CHECK_TIMEOUT_MS = 2_000;
/** Intervals the sweep may miss before health says so (it runs every SWEEP_INTERVAL_MS, in AWS every minute). */
const MISSED_SWEEPS = 3;

export interface Health {
  status: "ok" | "degraded";
  database: "up" | "down";
  /** "unused" when the queue is in Postgres (QUEUE_BACKEND=postgres). */
  redis: "up" | "down" | "unused";
  sweep: { lastRunAt: string | null; status: "ok" | "late" | "never" | "unknown" };
}

export async function checkHealth({
  pool,
  queue,
  config,
  now,
}: Pick<CoreDeps, "pool" | "queue" | "config" | "now">): Promise<Health> {
  const [state, redis] = await Promise.all([
    withTimeout(
      pool.query<{ lastRunAt: Date }>(`SELECT "lastRunAt" FROM sweep_state WHERE id = 1`),
      CHECK_TIMEOUT_MS,
      "postgres",
    ).then(
      ({ rows }) => ({ up: true as const, lastRunAt: rows[0]?.lastRunAt ?? null }),
      () => ({ up: false as const, lastRunAt: null }),
    ),
    queue.ping().then(
      () => "up" as const,
      () => "down" as const,
    ),
  ]);
  // With the queue in Postgres, its answer is the database's too.
  const onPostgres = config.QUEUE_BACKEND === "postgres";
  const database = state.up && (!onPostgres || redis === "up") ? ("up" as const) : ("down" as const);
  const sweep = {
    lastRunAt: state.lastRunAt?.toISOString() ?? null,
    status: sweepStatus(state, now(), config.SWEEP_INTERVAL_MS),
  };
  const healthy = database === "up" && (onPostgres || redis === "up") && sweep.status === "ok";
  return { status: healthy ? "ok" : "degraded", database, redis: onPostgres ? "unused" : redis, sweep };
}

function sweepStatus(
  { up, lastRunAt }: { up: boolean; lastRunAt: Date | null },
  now: Date,
  intervalMs: number,
): Health["sweep"]["status"] {
  if (!up) return "unknown";
  if (!lastRunAt) return "never";
  return now.getTime() - lastRunAt.getTime() > MISSED_SWEEPS * intervalMs ? "late" : "ok";
}
