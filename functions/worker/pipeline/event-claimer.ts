// Claims the events of concurrent jobs in one statement: marks them processing under a lease and reads
// them, with the config_version current at that moment. The claim is what makes a job the one that
// matches and first delivers an event: a second job for it (the sweep's, a duplicate) finds it taken.
import { createBatcher } from "../../platform/batcher.ts";
import { errorReason, isDependencyDown, isNotAnOutage } from "../../platform/dependency-errors.ts";
import { LIMITS } from "../../domain/limits.ts";
import { storableText } from "../../domain/storable-json.ts";
import type { EventLog } from "../../platform/db.ts";
import type { ClaimedEvent } from "../../domain/delivery/pipeline.ts";
import type { Queryable } from "../../platform/sql.ts";
import { eventFromRow } from "../../domain/events/event-type.ts";

// Claimable: unmatched, claimed fewer than LIMITS.processingTries times (past that the sweep fails it),
// and pending (also when the sweep has just queued it again) or held by a lease that lapsed. The lease
// outlasts the first attempts it covers, so another worker never takes an event whose deliveries are
// still in flight: the longest timeout of an active webhook (read in this same snapshot, so a webhook
// saved before the event counts) and a margin for the writes. No longer, either: after a worker died,
// its claimed events wait that long before the sweep hands them on.
// The version rides along with the claimed rows (or alone, when none was claimed).
const CLAIM_EVENTS = `
  WITH lease AS (
    SELECT $2::timestamptz
      + (GREATEST($3::int, coalesce(max("timeoutMs"), 0)) + $4::int) * interval '1 millisecond' AS until
    FROM webhooks WHERE active
  ), claimed AS (
    UPDATE event_log e SET status = 'processing', "startedAt" = coalesce(e."startedAt", $2), attempts = e.attempts + 1,
      "leaseExpiresAt" = (SELECT until FROM lease)
    WHERE e.id = ANY($1::text[]) AND e."matchedAt" IS NULL AND e.attempts < $5
      AND (e.status = 'pending' OR e."leaseExpiresAt" IS NULL OR e."leaseExpiresAt" < $2)
    -- What matching and delivery read, and no more: every column returned is parsed for every event.
    RETURNING e.id, e.type, e.collection, e."recordId", e."occurredAt", e.depth, e.data, e.previous, e."changedFields"
  )
  SELECT c.*, v.version AS "configVersion" FROM config_version v LEFT JOIN claimed c ON true WHERE v.id = 1`;

export interface LeaseSettings {
  /** Timeout of webhooks that set none. */
  defaultTimeoutMs: number;
  /** How long a claim outlasts the longest timeout, for the writes after the attempts. */
  marginMs: number;
}

export function createEventClaimer(q: Queryable, now: () => Date, lease: LeaseSettings) {
  return createBatcher<string, ClaimedEvent>(
    async (ids) => {
      const rows = await q.query<EventLog & { configVersion: string }>(CLAIM_EVENTS, [
        ids,
        now(),
        lease.defaultTimeoutMs,
        lease.marginMs,
        LIMITS.processingTries,
      ]);
      const configVersion = BigInt(rows[0]?.configVersion ?? 0);
      const byId = new Map(
        rows.filter((row) => row.id).map(({ configVersion: _, ...row }) => [row.id, eventFromRow(row as EventLog)]),
      );
      // Two jobs may ask for one event in the same flush: the claim is the first one's.
      return ids.map((id) => {
        const event = byId.get(id);
        byId.delete(id);
        return { event, configVersion };
      });
    },
    { retryAlone: isNotAnOutage },
  );
}

/**
 * Gives up a claim on an event not matched yet, so the job's retry can claim it at once instead of
 * waiting for the lease. A matched event is left as it is: its actions carry on. The error is kept as
 * the event's reason; a claim cut short by an outage does not count as one of its tries (unless the
 * outage is Postgres's own and this release cannot be written either).
 */
export async function releaseClaim(q: Queryable, eventId: string, error: unknown): Promise<void> {
  const outage = isDependencyDown(error);
  const reason = outage ? null : storableText(errorReason(error));
  await q.query(
    `UPDATE event_log
     SET status = 'pending', "leaseExpiresAt" = NULL, attempts = attempts - $2::int, error = coalesce($3, error)
     WHERE id = $1 AND "matchedAt" IS NULL AND status = 'processing'`,
    [eventId, outage ? 1 : 0, reason],
  );
}
