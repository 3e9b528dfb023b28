// A webhook's health, as a person sees it on the webhook: consecutive failures, the last success and
// failure, and whether tetik stopped sending to it. Advisory: written after the log, outside its
// transaction and batched apart, so a hot webhook row never holds the log's locks and a failure to write
// it never makes a delivery run again.
import sql from "sql-template-tag";
import { createBatcher } from "../../platform/batcher.ts";
import type { Logger } from "../../platform/logger.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";

export interface DeliveryResult {
  webhookId: string;
  ok: boolean;
  status: number | null;
  error: string | null;
}

export interface HealthChanges {
  /** Webhooks whose failure count goes back to 0 and whose last success moves. */
  succeeded: string[];
  failed: Array<{ webhookId: string; failures: number; error: string | null; disable: string | null }>;
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
  return { succeeded, failed: [...failed.values()] } satisfies HealthChanges;
}

async function writeHealth(q: Queryable, changes: HealthChanges, now: Date): Promise<void> {
  const { succeeded, failed } = changes;
  if (succeeded.length) {
    await runSql(
      q,
      sql`UPDATE webhooks SET "consecutiveFailures" = 0, "lastSuccessAt" = ${now}
      WHERE id = ANY(${succeeded}::text[])
        AND ("consecutiveFailures" <> 0 OR "lastSuccessAt" IS NULL
          OR "lastSuccessAt" < ${now}::timestamptz - interval '1 second')`,
    );
  }
  if (failed.length) {
    await runSql(
      q,
      sql`UPDATE webhooks w SET
        "consecutiveFailures" = w."consecutiveFailures" + v.failures, "lastFailureAt" = ${now}, "lastError" = v.error,
        active = CASE WHEN v.disable IS NOT NULL THEN false ELSE w.active END,
        "disabledReason" = coalesce(v.disable, w."disabledReason")
      FROM unnest(${failed.map((f) => f.webhookId)}::text[], ${failed.map((f) => f.failures)}::int[],
        ${failed.map((f) => f.error)}::text[], ${failed.map((f) => f.disable)}::text[])
        AS v(id, failures, error, disable)
      WHERE w.id = v.id`,
    );
  }
}

/** Notes delivery results, batched per process; never fails its caller (a failure is logged). */
export function createHealthRecorder(q: Queryable, now: () => Date, log: Logger) {
  const lastSuccessWritten = new Map<string, number>();
  const batcher = createBatcher<DeliveryResult, void>(async (results) => {
    const at = now();
    await writeHealth(q, healthChanges(results, lastSuccessWritten, at), at);
    return results.map(() => undefined);
  });
  return (result: DeliveryResult): Promise<void> =>
    batcher.add(result).catch((err) => log.warn({ err }, "could not update webhook health"));
}
