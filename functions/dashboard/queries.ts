// What the dashboard shows that the API has no route for: the overview's figures and an event's
// surroundings (its attempts, its chain). Each read is bounded: time ranges by id (ids begin with the
// millisecond they were made, so "the last hour" is a range of the primary key), samples by LIMIT.
import { checkHealth } from "../domain/health/check-health.ts";
import type { CoreDeps } from "../platform/core-deps.ts";
import type { DeliveryAttempt } from "../platform/db.ts";
import { firstIdAt } from "../platform/ids.ts";

export interface Bucket {
  start: Date;
  received: number;
  failed: number;
}

export interface Overview {
  lastHour: Record<string, number>;
  lastDay: Record<string, number>;
  hours: Bucket[];
  latency: { p50Ms: number | null; p99Ms: number | null; sample: number };
  queue: Record<string, number> | null;
  webhooks: Array<{
    id: string;
    url: string;
    active: boolean;
    consecutiveFailures: number;
    lastError: string | null;
    disabledReason: string | null;
  }>;
  sweep: { lastRunAt: string | null; status: string };
  /** Webhooks paused by a receiver's Retry-After now (null: Redis unreachable). */
  paused: Array<{ id: string; url: string; until: string }> | null;
}

const LATENCY_SAMPLE = 10_000;

export async function readOverview(
  deps: Pick<CoreDeps, "pool" | "queue" | "flow" | "config" | "now">,
): Promise<Overview> {
  const now = deps.now();
  const hourAgo = firstIdAt("evt", new Date(now.getTime() - 3600_000));
  const dayAgo = firstIdAt("evt", new Date(now.getTime() - 24 * 3600_000));
  const byStatus = async (from: string) => {
    const { rows } = await deps.pool.query<{ status: string; n: string }>(
      `SELECT status, count(*) AS n FROM event_log WHERE id >= $1 GROUP BY status`,
      [from],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };
  const [lastHour, lastDay, hours, latency, queue, webhooks, health, paused] = await Promise.all([
    byStatus(hourAgo),
    byStatus(dayAgo),
    deps.pool
      .query<{ start: Date; received: string; failed: string }>(
        // Hours of UTC, whatever the database session's time zone.
        `SELECT date_trunc('hour', "receivedAt" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS start,
                count(*) AS received, count(*) FILTER (WHERE status = 'failed') AS failed
         FROM event_log WHERE id >= $1 GROUP BY 1 ORDER BY 1`,
        [dayAgo],
      )
      .then(({ rows }) =>
        rows.map((r) => ({ start: r.start, received: Number(r.received), failed: Number(r.failed) })),
      ),
    // From arrival to the first attempt's start, over the newest events of the last hour.
    deps.pool
      .query<{ p50: number | null; p99: number | null; n: string }>(
        `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, count(*) AS n
         FROM (SELECT extract(epoch FROM (d."requestedAt" - e."receivedAt")) * 1000 AS ms
               FROM (SELECT id, "receivedAt" FROM event_log WHERE id >= $1 ORDER BY id DESC LIMIT ${LATENCY_SAMPLE}) e
               JOIN event_actions a ON a."eventId" = e.id AND a.kind = 'webhook'
               JOIN delivery_attempts d ON d."actionId" = a.id AND d.attempt = 1) s`,
        [hourAgo],
      )
      .then(({ rows }) => ({
        p50Ms: rows[0]?.p50 ?? null,
        p99Ms: rows[0]?.p99 ?? null,
        sample: Number(rows[0]?.n ?? 0),
      })),
    deps.queue.counts().catch(() => null),
    deps.pool
      .query<Overview["webhooks"][number]>(
        `SELECT id, url, active, "consecutiveFailures", "lastError", "disabledReason" FROM webhooks
         WHERE "consecutiveFailures" > 0 OR "disabledReason" IS NOT NULL
         ORDER BY "consecutiveFailures" DESC, id LIMIT 20`,
      )
      .then(({ rows }) => rows),
    checkHealth(deps),
    pausedWebhooks(deps).catch(() => null),
  ]);
  // Every hour of the day, those without events too.
  const first = Math.floor((now.getTime() - 23 * 3600_000) / 3600_000) * 3600_000;
  const filled = Array.from({ length: 24 }, (_, i) => {
    const start = new Date(first + i * 3600_000);
    return hours.find((h) => h.start.getTime() === start.getTime()) ?? { start, received: 0, failed: 0 };
  });
  return { lastHour, lastDay, hours: filled, latency, queue, webhooks, sweep: health.sweep, paused };
}

/** Webhooks paused now, with their URLs, soonest end first. */
async function pausedWebhooks(deps: Pick<CoreDeps, "pool" | "flow">): Promise<NonNullable<Overview["paused"]>> {
  const paused = await deps.flow.paused();
  if (paused.size === 0) return [];
  const { rows } = await deps.pool.query<{ id: string; url: string }>(
    `SELECT id, url FROM webhooks WHERE id = ANY($1::text[])`,
    [[...paused.keys()]],
  );
  return rows
    .map((w) => ({ ...w, until: paused.get(w.id)!.toISOString() }))
    .sort((a, b) => a.until.localeCompare(b.until));
}

/** Every delivery attempt of the event's actions, oldest first (through the actions' indexes; at most 1,000). */
export async function attemptsOf(deps: Pick<CoreDeps, "pool">, eventId: string): Promise<DeliveryAttempt[]> {
  const { rows } = await deps.pool.query<DeliveryAttempt>(
    `SELECT d.* FROM event_actions a JOIN delivery_attempts d ON d."actionId" = a.id
     WHERE a."eventId" = $1 ORDER BY d.id LIMIT 1000`,
    [eventId],
  );
  return rows;
}

/** The events this event's triggers caused (at most 50). */
export async function causedBy(deps: Pick<CoreDeps, "pool">, eventId: string) {
  const { rows } = await deps.pool.query<{
    id: string;
    type: string;
    collection: string;
    recordId: string;
    status: string;
  }>(
    `SELECT id, replace(type::text, '_', '.') AS type, collection, "recordId", status FROM event_log
     WHERE "causationId" = $1 ORDER BY id LIMIT 50`,
    [eventId],
  );
  return rows;
}
