// Reading the audit trail (GET /audit) and forgetting entries past AUDIT_RETENTION_DAYS (the sweep).
import sql, { empty, join } from "sql-template-tag";
import { z } from "zod";
import { deleteInBatches, runSql, type Queryable } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";
import { isoDateTime, listQuery, pageWithin } from "../validation.ts";
import { AUDIT_ACTIONS, type AuditEntryRow } from "./audit-entry.ts";

export const auditQuery = listQuery.extend({
  targetId: z.string().min(1).max(200).optional().meta({ description: "entries about this definition, webhook, ..." }),
  keyId: z.string().min(1).max(200).optional().meta({ description: "entries made with this key" }),
  action: z.enum(AUDIT_ACTIONS).optional(),
  since: isoDateTime.optional().meta({ description: "entries made at or after this time" }),
  until: isoDateTime.optional().meta({ description: "entries made before this time" }),
});
export type AuditQuery = z.output<typeof auditQuery>;

/** Newest first; a page stops at LIMITS.pageBytes of before and after (nextCursor continues it). */
export async function listAuditEntries(q: Queryable, query: AuditQuery) {
  const where = [
    query.cursor ? sql`AND id < ${query.cursor}` : empty,
    query.targetId ? sql`AND "targetId" = ${query.targetId}` : empty,
    query.keyId ? sql`AND "keyId" = ${query.keyId}` : empty,
    query.action ? sql`AND action = ${query.action}` : empty,
    query.since ? sql`AND at >= ${query.since}::timestamptz` : empty,
    query.until ? sql`AND at < ${query.until}::timestamptz` : empty,
  ];
  const sizes = await runSql<{ id: string; bytes: number }>(
    q,
    sql`SELECT id, coalesce(octet_length(before::text), 0) + coalesce(octet_length(after::text), 0) AS bytes
      FROM audit_entries WHERE TRUE ${join(where, " ")} ORDER BY id DESC LIMIT ${query.limit + 1}`,
  );
  const { ids, nextCursor } = pageWithin(sizes, query.limit, LIMITS.pageBytes);
  const data = await runSql<AuditEntryRow>(
    q,
    sql`SELECT * FROM audit_entries WHERE id = ANY(${ids}::text[]) ORDER BY id DESC`,
  );
  return { data, nextCursor };
}

/** Deletes entries made before `before`, a bounded number of batches a run (the next run goes on). */
export function pruneAuditEntries(q: Queryable, before: Date): Promise<number> {
  // No FOR UPDATE: it needs the UPDATE privilege, which tetik's role has not on this table. Two sweeps
  // that pick the same rows only wait for each other; the second finds them gone.
  return deleteInBatches(
    q,
    (limit) => sql`DELETE FROM audit_entries WHERE id IN (
        SELECT id FROM audit_entries WHERE at < ${before} ORDER BY at LIMIT ${limit})
      RETURNING 1`,
  );
}
