// Claims the events of concurrent jobs in one statement: marks them processing under a lease and reads
// them, with the config_version current at that moment. The claim is what makes a job the one that
// matches and first delivers an event: a second job for it (the sweep's, a duplicate) finds it taken.
import { createBatcher } from "../../platform/batcher.ts";
import type { EventLog } from "../../platform/db.ts";
import type { MatchableEvent } from "../events/match-definitions.ts";
import type { Queryable } from "../../platform/sql.ts";
import { eventFromRow } from "./event-rows.ts";

export interface ClaimedEvent {
  /** Undefined when the event is not there, already matched, or claimed by a run whose lease holds. */
  event: MatchableEvent | undefined;
  configVersion: bigint;
}

// Claimable: unmatched, and pending (also when the sweep has just queued it again) or held by a lease
// that lapsed. The version rides along with the claimed rows (or alone, when none was claimed).
const CLAIM_EVENTS = `
  WITH claimed AS (
    UPDATE event_log e SET status = 'processing', "startedAt" = coalesce(e."startedAt", $2), attempts = e.attempts + 1,
      "leaseExpiresAt" = $3
    WHERE e.id = ANY($1::text[]) AND e."matchedAt" IS NULL
      AND (e.status = 'pending' OR e."leaseExpiresAt" IS NULL OR e."leaseExpiresAt" < $2)
    -- What matching and delivery read, and no more: every column returned is parsed for every event.
    RETURNING e.id, e.type, e.collection, e."recordId", e."occurredAt", e.depth, e.data, e.previous, e."changedFields"
  )
  SELECT c.*, v.version AS "configVersion" FROM config_version v LEFT JOIN claimed c ON true WHERE v.id = 1`;

export function createEventClaimer(q: Queryable, now: () => Date, leaseMs: number) {
  return createBatcher<string, ClaimedEvent>(async (ids) => {
    const at = now();
    const rows = await q.query<EventLog & { configVersion: string }>(CLAIM_EVENTS, [ids, at, new Date(at.getTime() + leaseMs)]);
    const configVersion = BigInt(rows[0]?.configVersion ?? 0);
    const byId = new Map(rows.filter((row) => row.id).map(({ configVersion: _, ...row }) => [row.id, eventFromRow(row as EventLog)]));
    return ids.map((id) => ({ event: byId.get(id), configVersion }));
  });
}
