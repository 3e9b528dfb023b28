// Loads the events of concurrent jobs in one query, each with the config_version current at that moment.
import { createBatcher } from "../../platform/batcher.ts";
import type { EventLog } from "../../platform/db.ts";
import type { Queryable } from "../../platform/sql.ts";
import { eventFromRow } from "./event-rows.ts";

export interface LoadedEvent {
  event: EventLog | undefined;
  configVersion: bigint;
}

export function createEventLoader(q: Queryable) {
  return createBatcher<string, LoadedEvent>(async (ids) => {
    // One round trip: the version rides along with the events (or alone, when none of them exists).
    const rows = await q.query<EventLog & { configVersion: string }>(
      `SELECT e.*, v.version AS "configVersion"
       FROM config_version v LEFT JOIN event_log e ON e.id = ANY($1::text[]) WHERE v.id = 1`,
      [ids],
    );
    const configVersion = BigInt(rows[0]?.configVersion ?? 0);
    const byId = new Map(rows.filter((row) => row.id).map(({ configVersion: _, ...row }) => [row.id, eventFromRow(row as EventLog)]));
    return ids.map((id) => ({ event: byId.get(id), configVersion }));
  });
}
