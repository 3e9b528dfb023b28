// The one way to make a configuration change audited: the change and its entry commit together or not
// at all. A change that throws (a 4xx or anything else) rolls back and leaves no entry; a change that
// reports nothing changed (revoking a revoked key) leaves none either. Each entry also makes the
// operational event `config.changed` in the same transaction, queued after the commit.
import type { CoreDeps } from "../../platform/core-deps.ts";
import type { Db, Prisma } from "../../platform/db.ts";
import { transaction, type Queryable } from "../../platform/sql.ts";
import { insertEntry, type Actor, type AuditRecord } from "./audit-entry.ts";
import { announceConfigChanges, reportConfigChange, type ConfigChange } from "./config-changed.ts";

export type { Actor, AuditRecord };

/** What a change answers: its result, and its entry (null: nothing changed, no entry). */
export interface AuditedChange<T> {
  result: T;
  entry: AuditRecord | null;
}

export type AuditDeps = Pick<CoreDeps, "now" | "queue" | "log"> & {
  metrics?: Pick<CoreDeps["metrics"], "operationalEvents">;
};

/** A Prisma transaction as a Queryable, for the entry's INSERT beside the change's own statements. */
const onPrisma = (tx: Prisma.TransactionClient): Queryable => ({
  query: <R>(text: string, params: unknown[] = []) => tx.$queryRawUnsafe<R[]>(text, ...params),
});

async function record(deps: AuditDeps, q: Queryable, actor: Actor, entry: AuditRecord): Promise<ConfigChange> {
  const row = await insertEntry(q, actor, entry, deps.now());
  return reportConfigChange(q, row, deps.now());
}

/**
 * Runs `change` in a Prisma interactive transaction and writes its entry there. Functions that open a
 * transaction of their own (addToDefinition) join this one when handed its client.
 */
export async function audited<T>(
  deps: AuditDeps & { db: Db },
  actor: Actor,
  change: (tx: Prisma.TransactionClient) => Promise<AuditedChange<T>>,
): Promise<T> {
  let reported: ConfigChange | undefined;
  const result = await deps.db.$transaction(async (tx) => {
    const done = await change(tx);
    if (done.entry) reported = await record(deps, onPrisma(tx), actor, done.entry);
    return done.result;
  });
  await announceConfigChanges(deps, reported);
  return result;
}

/** The same on plain SQL (the functions that carry no ORM: keys, replay): `change` runs on `q`. */
export async function auditedSql<T>(
  deps: AuditDeps & Pick<CoreDeps, "pool">,
  actor: Actor,
  change: (q: Queryable) => Promise<AuditedChange<T>>,
): Promise<T> {
  let reported: ConfigChange | undefined;
  const result = await transaction(deps.pool, async (q) => {
    const done = await change(q);
    if (done.entry) reported = await record(deps, q, actor, done.entry);
    return done.result;
  });
  await announceConfigChanges(deps, reported);
  return result;
}
