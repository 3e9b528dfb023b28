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
    const [rows, [version]] = await Promise.all([
      q.query<EventLog>(`SELECT * FROM event_log WHERE id = ANY($1::text[])`, [ids]),
      q.query<{ version: string }>(`SELECT version FROM config_version WHERE id = 1`),
    ]);
    const byId = new Map(rows.map((row) => [row.id, eventFromRow(row)]));
    const configVersion = BigInt(version?.version ?? 0);
    return ids.map((id) => ({ event: byId.get(id), configVersion }));
  });
}
