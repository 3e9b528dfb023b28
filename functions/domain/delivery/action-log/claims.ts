// Claims of accepted events: a claim (a lease) makes one run the one that matches an event and makes its
// first attempts; a second run for it (the sweep's, a duplicate job) finds it taken or matched.
import sql from "sql-template-tag";
import { errorReason, isDependencyDown } from "../../../platform/dependency-errors.ts";
import type { EventLog } from "../../../platform/db.ts";
import { runSql, type Queryable } from "../../../platform/sql.ts";
import { eventFromRow } from "../../events/event-type.ts";
import { LIMITS } from "../../limits.ts";
import type { MatchableEvent } from "../../matching/match-definitions.ts";
import { storableText } from "../../storable-json.ts";

export interface ClaimedEvent {
  /** Undefined when the event is not there, already matched, or claimed by a run whose lease holds. */
  event: MatchableEvent | undefined;
  /** config_version when the event was claimed: the config it is matched against is at least this new. */
  configVersion: bigint;
}

export interface LeaseSettings {
  /** Timeout of webhooks that set none. */
  defaultTimeoutMs: number;
  /** How long a claim outlasts the longest timeout, for the writes after the attempts. */
  marginMs: number;
}

/**
 * Claims events in one statement: marks them processing under a lease and reads them, with the
 * config_version current at that moment (riding along with the rows, or alone when none was claimed).
 *
 * Claimable: unmatched, claimed fewer than LIMITS.processingTries times (past that the sweep fails it), and
 * pending (also when the sweep has just queued it again) or held by a lease that lapsed. The lease outlasts
 * the first attempts it covers, so another worker never takes an event whose deliveries are still in
 * flight: the longest timeout of the active webhooks of its own collection's active definitions (read in
 * this same snapshot, so a webhook saved before the event counts) and a margin for the writes. No longer,
 * either: after a worker died, its claimed events wait that long before the sweep hands them on, and a
 * slow webhook of another collection does not make them wait for it.
 */
export async function claimEvents(
  q: Queryable,
  ids: string[],
  now: Date,
  lease: LeaseSettings,
): Promise<ClaimedEvent[]> {
  const rows = await runSql<EventLog & { configVersion: string }>(
    q,
    sql`
    WITH claimed AS (
      UPDATE event_log e SET status = 'processing', "startedAt" = coalesce(e."startedAt", ${now}),
        attempts = e.attempts + 1,
        -- Per claimed row, by index: the collection's definitions, then their webhooks. Not a second read of
        -- event_log: on a log whose statistics lag (a fresh one filling fast) the planner scanned it whole.
        "leaseExpiresAt" = ${now}::timestamptz + (GREATEST(${lease.defaultTimeoutMs}::int, coalesce((
            SELECT max(w."timeoutMs") FROM event_definitions d JOIN webhooks w ON w."definitionId" = d.id
            WHERE d.collection = e.collection AND d.active AND w.active), 0))
          + ${lease.marginMs}::int) * interval '1 millisecond'
      WHERE e.id = ANY(${ids}::text[]) AND e."matchedAt" IS NULL AND e.attempts < ${LIMITS.processingTries}
        AND (e.status = 'pending' OR e."leaseExpiresAt" IS NULL OR e."leaseExpiresAt" < ${now})
      -- What matching and delivery read, and no more: every column returned is parsed for every event.
      RETURNING e.id, e.type, e.collection, e."recordId", e."occurredAt", e.depth, e.data, e.previous,
        e."changedFields"
    )
    SELECT c.*, v.version AS "configVersion" FROM config_version v LEFT JOIN claimed c ON true WHERE v.id = 1`,
  );
  const configVersion = BigInt(rows[0]?.configVersion ?? 0);
  const byId = new Map(
    rows.filter((row) => row.id).map(({ configVersion: _, ...row }) => [row.id, eventFromRow(row as EventLog)]),
  );
  // Two runs may ask for one event in the same flush: the claim is the first one's.
  return ids.map((id) => {
    const event = byId.get(id);
    byId.delete(id);
    return { event, configVersion };
  });
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
  await runSql(
    q,
    sql`UPDATE event_log
      SET status = 'pending', "leaseExpiresAt" = NULL, attempts = attempts - ${outage ? 1 : 0}::int,
        error = coalesce(${reason}, error)
      WHERE id = ${eventId} AND "matchedAt" IS NULL AND status = 'processing'`,
  );
}
