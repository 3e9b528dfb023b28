// Every audit entry is also an operational event `config.changed` (SPEC, "Operational events"): the entry
// without its before and after, about the changed target, inserted in the change's transaction and queued
// after its commit (or by the sweep, if queueing fails).
import type { CoreDeps } from "../../platform/core-deps.ts";
import type { Queryable } from "../../platform/sql.ts";
import { announceOperationalEvents, emitOperationalEvent, type Emitted } from "../operational/operational-events.ts";
import type { AuditEntryRow } from "./audit-entry.ts";

export type ConfigChange = Emitted;

export async function reportConfigChange(q: Queryable, entry: AuditEntryRow, now: Date): Promise<ConfigChange> {
  return emitOperationalEvent(
    q,
    {
      kind: "config.changed",
      recordId: entry.targetId,
      data: {
        auditId: entry.id,
        action: entry.action,
        target: { kind: entry.targetKind, id: entry.targetId },
        keyId: entry.keyId,
        keyName: entry.keyName,
        requestId: entry.requestId,
      },
    },
    now,
  );
}

/** After the commit. A queue that is down is logged there; the sweep queues the event later. */
export async function announceConfigChanges(
  deps: Pick<CoreDeps, "queue" | "log"> & { metrics?: Pick<CoreDeps["metrics"], "operationalEvents"> },
  change: ConfigChange | undefined,
): Promise<void> {
  if (change) await announceOperationalEvents(deps, [change]);
}
