// The flow limiter on Postgres, for deployments without Redis (QUEUE_BACKEND=postgres): the same decisions
// as the Redis limiter (flow-limiter.ts, whose comments say what each one is), on the same state kept in
// two small tables (flow_entries, flow_pauses). A turn is one call of tetik_flow_take (the migration
// 20261207000000_flow_on_postgres), the Lua script's steps in PL/pgSQL: one round trip, atomic under an
// advisory lock of its webhook, on Postgres's clock. Pauses and back-offs, rare, are short transactions
// under the same lock.
import { randomBytes } from "node:crypto";
import sql from "sql-template-tag";
import {
  BACKOFF_MEMORY_MS,
  BOOKING_HORIZON_MS,
  FIRST_BACKOFF_MS,
  MAX_IN_FLIGHT_WAIT_MS,
  PROBE_WINDOW_MS,
  STALE_BOOKING_MS,
  type FlowLimiter,
  type Turn,
  type WaitReason,
} from "./flow-limiter.ts";
import type { Pool } from "./pool.ts";
import { fromPg, runSql, transaction, type Queryable } from "./sql.ts";

const nowMs = sql`floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint`;

/** Takes the webhook's lock for the rest of the transaction and answers Postgres's time. */
async function lockWebhook(q: Queryable, webhookId: string): Promise<number> {
  const [row] = await runSql<{ now: string }>(
    q,
    sql`SELECT pg_advisory_xact_lock(hashtextextended('tetik-flow:' || ${webhookId}, 0)), ${nowMs} AS now`,
  );
  return Number(row!.now);
}

interface PauseRow {
  pausedUntil: number;
  probeUntil: number;
  probing: string | null;
  probingUntil: number;
  backoffCount: number;
  backoffUntil: number;
}

async function pauseRow(q: Queryable, webhookId: string): Promise<PauseRow | undefined> {
  const [row] = await runSql<Record<keyof PauseRow, string | number | null>>(
    q,
    sql`SELECT "pausedUntil", "probeUntil", probing, "probingUntil", "backoffCount", "backoffUntil"
      FROM flow_pauses WHERE "webhookId" = ${webhookId}`,
  );
  if (!row) return undefined;
  return {
    pausedUntil: Number(row.pausedUntil),
    probeUntil: Number(row.probeUntil),
    probing: row.probing as string | null,
    probingUntil: Number(row.probingUntil),
    backoffCount: Number(row.backoffCount),
    backoffUntil: Number(row.backoffUntil),
  };
}

async function setPause(q: Queryable, webhookId: string, changes: Partial<PauseRow>) {
  const row = { ...((await pauseRow(q, webhookId)) ?? emptyPause), ...changes };
  await runSql(
    q,
    sql`INSERT INTO flow_pauses ("webhookId", "pausedUntil", "probeUntil", probing, "probingUntil", "backoffCount",
        "backoffUntil")
      VALUES (${webhookId}, ${row.pausedUntil}, ${row.probeUntil}, ${row.probing}, ${row.probingUntil},
        ${row.backoffCount}, ${row.backoffUntil})
      ON CONFLICT ("webhookId") DO UPDATE SET "pausedUntil" = EXCLUDED."pausedUntil",
        "probeUntil" = EXCLUDED."probeUntil", probing = EXCLUDED.probing, "probingUntil" = EXCLUDED."probingUntil",
        "backoffCount" = EXCLUDED."backoffCount", "backoffUntil" = EXCLUDED."backoffUntil"`,
  );
}

const emptyPause: PauseRow = {
  pausedUntil: 0,
  probeUntil: 0,
  probing: null,
  probingUntil: 0,
  backoffCount: 0,
  backoffUntil: 0,
};

export function createPostgresFlowLimiter(pool: Pool): FlowLimiter {
  const instance = randomBytes(6).toString("hex");
  let sequence = 0;

  async function pause(q: Queryable, webhookId: string, ms: number): Promise<Date> {
    const now = await lockWebhook(q, webhookId);
    const current = (await pauseRow(q, webhookId))?.pausedUntil ?? 0;
    const until = now + Math.max(1, Math.round(ms));
    // A new pause starts a new probe; a longer pause already set stands.
    if (until > current)
      await setPause(q, webhookId, { pausedUntil: until, probeUntil: until + PROBE_WINDOW_MS, probing: null });
    return new Date(Math.max(until, current));
  }

  const limiter: FlowLimiter = {
    async take(webhookId, limits, { token, leaseMs, booking }) {
      const member = `${instance}:${sequence++}`;
      const [row] = await runSql<{
        ok: number;
        wait_or_at: string;
        reason: WaitReason | null;
        probe: boolean;
        booking: string | null;
      }>(
        fromPg(pool),
        sql`SELECT * FROM tetik_flow_take(${webhookId}, ${limits.maxPerSecond ?? 0}, ${limits.maxInFlight ?? 0},
          ${member}, ${leaseMs}, ${MAX_IN_FLIGHT_WAIT_MS}, ${token}, ${booking ?? ""}, ${BOOKING_HORIZON_MS},
          ${STALE_BOOKING_MS})`,
      );
      const { ok, wait_or_at: waitOrAt, reason, probe, booking: booked } = row!;
      if (ok === 1)
        return { ok: true, token: limits.maxInFlight ? token : null, at: Number(waitOrAt), probe } satisfies Turn;
      const waiting = { ok: false, waitMs: Number(waitOrAt), reason: reason! } as const;
      return booked ? { ...waiting, booking: booked } : waiting;
    },
    async release(webhookId, token) {
      await runSql(
        fromPg(pool),
        sql`DELETE FROM flow_entries WHERE "webhookId" = ${webhookId} AND kind = 'open' AND member = ${token}`,
      );
    },
    pause: (webhookId, ms) => transaction(pool, (q) => pause(q, webhookId, ms)),
    backOff: (webhookId, maxMs) =>
      transaction(pool, async (q) => {
        const now = await lockWebhook(q, webhookId);
        const row = await pauseRow(q, webhookId);
        const inARow = (row && row.backoffUntil > now ? row.backoffCount : 0) + 1;
        await setPause(q, webhookId, { backoffCount: inARow, backoffUntil: now + BACKOFF_MEMORY_MS });
        return pause(q, webhookId, Math.min(maxMs, FIRST_BACKOFF_MS * 2 ** Math.min(30, inARow - 1)));
      }),
    async recovered(webhookId) {
      await runSql(fromPg(pool), sql`UPDATE flow_pauses SET "backoffCount" = 0 WHERE "webhookId" = ${webhookId}`);
    },
    async endProbe(webhookId) {
      await runSql(
        fromPg(pool),
        sql`UPDATE flow_pauses SET "probeUntil" = 0, probing = NULL, "probingUntil" = 0
          WHERE "webhookId" = ${webhookId}`,
      );
    },
    async paused() {
      const rows = await runSql<{ webhookId: string; pausedUntil: string }>(
        fromPg(pool),
        sql`SELECT "webhookId", "pausedUntil" FROM flow_pauses WHERE "probeUntil" > ${nowMs}`,
      );
      return new Map(rows.map((r) => [r.webhookId, new Date(Number(r.pausedUntil))]));
    },
    async state(webhookId) {
      const [row] = await runSql<{ inFlight: number; pausedUntil: string | null; now: string }>(
        fromPg(pool),
        sql`SELECT (SELECT count(*)::int FROM flow_entries
            WHERE "webhookId" = ${webhookId} AND kind = 'open' AND at > ${nowMs}) AS "inFlight",
          (SELECT "pausedUntil" FROM flow_pauses WHERE "webhookId" = ${webhookId}) AS "pausedUntil", ${nowMs} AS now`,
      );
      const until = Number(row?.pausedUntil ?? 0);
      return { inFlight: row?.inFlight ?? 0, pausedUntil: until > Number(row!.now) ? new Date(until) : null };
    },
  };
  return limiter;
}
