// A webhook's health, as a person sees it on the webhook: consecutive failures, the last success and
// failure, and whether tetik stopped sending to it. Advisory: written after the log, outside its
// transaction and batched apart, so a hot webhook row never holds the log's locks and a failure to write
// it never makes a delivery run again. Its turns (failing, disabled, recovered) are operational events,
// written in the transaction that changes the health.
import sql from "sql-template-tag";
import { createBatcher } from "../../platform/batcher.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Pool } from "../../platform/pool.ts";
import { runSql, transaction, type Queryable } from "../../platform/sql.ts";
import {
  emitOperationalEvents,
  FAILING_AFTER,
  type Emitted,
  type OperationalEvent,
} from "../operational/operational-events.ts";

export interface DeliveryResult {
  webhookId: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  /** The delivery was of an operational event: its webhook's turns are not reported (no loops). */
  operational?: boolean;
}

export interface HealthChanges {
  /** Webhooks whose failure count goes back to 0 and whose last success moves. */
  succeeded: string[];
  failed: Array<{ webhookId: string; failures: number; error: string | null; disable: string | null }>;
  /** Webhooks that delivered operational events in this batch: no operational event about them. */
  quiet?: string[];
}

/** A webhook's health columns, before or after a batch. */
export interface WebhookHealth {
  id: string;
  url: string;
  definitionId: string;
  definitionName: string;
  active: boolean;
  consecutiveFailures: number;
  lastError: string | null;
  disabledReason: string | null;
}

/** How often a success is written per webhook and process: most deliveries succeed, and change nothing. */
const SUCCESS_WRITE_MS = 1000;

/**
 * What a batch of results changes. A 410 Gone says the endpoint is no more (Standard Webhooks): tetik
 * stops sending to it. A success is written when the last write of one is older than a second (the map
 * holds those times; a failure removes its entry, so the next success clears the count).
 */
export function healthChanges(results: DeliveryResult[], lastSuccessWritten: Map<string, number>, now: Date) {
  const succeeded = [...new Set(results.filter((r) => r.ok).map((r) => r.webhookId))].filter(
    (id) => now.getTime() - (lastSuccessWritten.get(id) ?? 0) >= SUCCESS_WRITE_MS,
  );
  for (const id of succeeded) lastSuccessWritten.set(id, now.getTime());
  const failed = new Map<string, HealthChanges["failed"][number]>();
  for (const r of results.filter((r) => !r.ok)) {
    const entry = failed.get(r.webhookId) ?? { webhookId: r.webhookId, failures: 0, error: null, disable: null };
    entry.failures += 1;
    entry.error = r.error;
    if (r.status === 410) entry.disable = "the receiver answered 410 Gone";
    failed.set(r.webhookId, entry);
    lastSuccessWritten.delete(r.webhookId);
  }
  const quiet = [...new Set(results.filter((r) => r.operational).map((r) => r.webhookId))];
  return { succeeded, failed: [...failed.values()], quiet } satisfies HealthChanges;
}

/**
 * The turns a batch made, as operational events: `webhook.failing` when the failures in a row reach
 * FAILING_AFTER, `webhook.disabled` when tetik turned the webhook off, `webhook.recovered` at the first
 * success after it was failing. `before` and `after` hold the webhooks the batch changed; `succeeded` those
 * it wrote a success for.
 */
export function healthTurns(
  before: Map<string, WebhookHealth>,
  after: Map<string, WebhookHealth>,
  succeeded: Set<string>,
): OperationalEvent[] {
  const events: OperationalEvent[] = [];
  for (const [id, now] of after) {
    const was = before.get(id);
    if (!was) continue;
    const about = {
      webhookId: id,
      webhookUrl: now.url,
      definitionId: now.definitionId,
      definitionName: now.definitionName,
    };
    const failures = { consecutiveFailures: now.consecutiveFailures, lastError: now.lastError };
    if (succeeded.has(id) && was.consecutiveFailures >= FAILING_AFTER && now.consecutiveFailures === 0)
      events.push({
        kind: "webhook.recovered",
        recordId: id,
        data: { ...about, failuresBefore: was.consecutiveFailures },
      });
    if (was.consecutiveFailures < FAILING_AFTER && now.consecutiveFailures >= FAILING_AFTER)
      events.push({ kind: "webhook.failing", recordId: id, data: { ...about, ...failures } });
    if (was.active && !now.active)
      events.push({
        kind: "webhook.disabled",
        recordId: id,
        data: { ...about, reason: now.disabledReason, ...failures },
      });
  }
  return events;
}

const healthColumns = sql`w.id, w.url, w."definitionId", w.active, w."consecutiveFailures", w."lastError",
  w."disabledReason", (SELECT d.name FROM event_definitions d WHERE d.id = w."definitionId") AS "definitionName"`;
const byId = (rows: WebhookHealth[]) => new Map(rows.map((row) => [row.id, row]));

/**
 * Writes the changes with the operational events they make, in one transaction that locks the webhooks
 * first (in id order: writers of one webhook wait for each other, never deadlock); answers those events.
 */
async function writeHealth(pool: Pool, changes: HealthChanges, now: Date): Promise<Emitted[]> {
  const ids = [...new Set([...changes.succeeded, ...changes.failed.map((f) => f.webhookId)])].sort();
  if (ids.length === 0) return [];
  return transaction(pool, async (q) => {
    const before = await runSql<WebhookHealth>(
      q,
      sql`SELECT ${healthColumns} FROM webhooks w WHERE w.id = ANY(${ids}::text[]) ORDER BY w.id FOR UPDATE`,
    );
    const after = await updateHealth(q, changes, now);
    const quiet = new Set(changes.quiet ?? []);
    const turns = healthTurns(byId(before), byId(after), new Set(changes.succeeded)).filter(
      (turn) => !quiet.has(turn.recordId),
    );
    return emitOperationalEvents(q, turns, now);
  });
}

/** The health statements; answers the rows they changed, as they are after (the failures' last). */
async function updateHealth(q: Queryable, changes: HealthChanges, now: Date): Promise<WebhookHealth[]> {
  const { succeeded, failed } = changes;
  const changed: WebhookHealth[] = [];
  if (succeeded.length) {
    const rows = await runSql<WebhookHealth>(
      q,
      sql`UPDATE webhooks w SET "consecutiveFailures" = 0, "lastSuccessAt" = ${now}
      WHERE id = ANY(${succeeded}::text[])
        AND ("consecutiveFailures" <> 0 OR "lastSuccessAt" IS NULL
          OR "lastSuccessAt" < ${now}::timestamptz - interval '1 second')
      RETURNING ${healthColumns}`,
    );
    changed.push(...rows);
  }
  if (failed.length) {
    const rows = await runSql<WebhookHealth>(
      q,
      sql`UPDATE webhooks w SET
        "consecutiveFailures" = w."consecutiveFailures" + v.failures, "lastFailureAt" = ${now}, "lastError" = v.error,
        active = CASE WHEN v.disable IS NOT NULL THEN false ELSE w.active END,
        "disabledReason" = coalesce(v.disable, w."disabledReason")
      FROM unnest(${failed.map((f) => f.webhookId)}::text[], ${failed.map((f) => f.failures)}::int[],
        ${failed.map((f) => f.error)}::text[], ${failed.map((f) => f.disable)}::text[])
        AS v(id, failures, error, disable)
      WHERE w.id = v.id
      RETURNING ${healthColumns}`,
    );
    changed.push(...rows);
  }
  return changed;
}

/**
 * Notes delivery results, batched per process; never fails its caller (a failure is logged). `announce`
 * queues the operational events a batch made, after its commit.
 */
export function createHealthRecorder(
  pool: Pool,
  now: () => Date,
  log: Logger,
  announce: (emitted: Emitted[]) => Promise<void>,
) {
  const lastSuccessWritten = new Map<string, number>();
  const batcher = createBatcher<DeliveryResult, void>(async (results) => {
    const at = now();
    await announce(await writeHealth(pool, healthChanges(results, lastSuccessWritten, at), at));
    return results.map(() => undefined);
  });
  return (result: DeliveryResult): Promise<void> =>
    batcher.add(result).catch((err) => log.warn({ err }, "could not update webhook health"));
}
