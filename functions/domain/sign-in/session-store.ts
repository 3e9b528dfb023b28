// Dashboard sessions kept in Postgres, so every instance of the API (many Lambdas) agrees on which are
// live: sign-out deletes the row and a copied cookie is refused everywhere from then on. The cookie itself
// is signed (functions/dashboard/session.ts), so only a cookie this server made costs a read.
import sql from "sql-template-tag";
import { LIMITS } from "../limits.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";

/**
 * Records a session that lasts until `expiresAt`, signed in with the key `keyId` (null: API_KEY). Past
 * `max` (LIMITS.dashboardSessions) live sessions, the ones closest to their expiry end: signing in again
 * and again cannot grow the table without bound.
 */
export async function openSession(
  q: Queryable,
  id: string,
  expiresAt: Date,
  { keyId = null, max = LIMITS.dashboardSessions }: { keyId?: string | null; max?: number } = {},
): Promise<void> {
  await runSql(
    q,
    sql`INSERT INTO dashboard_sessions (id, "expiresAt", "keyId") VALUES (${id}, ${expiresAt}, ${keyId})`,
  );
  await runSql(
    q,
    sql`DELETE FROM dashboard_sessions WHERE id IN (
      SELECT id FROM dashboard_sessions ORDER BY "expiresAt" DESC, id OFFSET ${max})`,
  );
}

/**
 * The key a session was signed in with (`keyId` null: API_KEY), when it was opened, is not closed yet and
 * has not expired; undefined otherwise (one primary-key read).
 */
export async function openSessionKey(
  q: Queryable,
  id: string,
  now: Date,
): Promise<{ keyId: string | null } | undefined> {
  const [row] = await runSql<{ keyId: string | null }>(
    q,
    sql`SELECT "keyId" FROM dashboard_sessions WHERE id = ${id} AND "expiresAt" > ${now}`,
  );
  return row;
}

export async function closeSession(q: Queryable, id: string): Promise<void> {
  await runSql(q, sql`DELETE FROM dashboard_sessions WHERE id = ${id}`);
}

/** Deletes the sessions expired at `now` (the sweep); answers how many. */
export async function pruneSessions(q: Queryable, now: Date): Promise<number> {
  return (await runSql(q, sql`DELETE FROM dashboard_sessions WHERE "expiresAt" <= ${now} RETURNING 1`)).length;
}
