// Wrong API keys typed into the dashboard's sign-in, counted in Postgres so every instance of the API
// shares the count (Redis may be absent: QUEUE_BACKEND=postgres). Windows are fixed (LIMITS.signInWindowMs,
// aligned to the epoch): one row per client address per window, and one for all addresses together.
//
// A try is taken before the key is compared and given back when the key was right, so tries racing each
// other cannot get past the bound: each takes its number under the row's lock. An address past its own
// bound no longer adds to the shared count, so one address cannot lock everyone else out alone; once the
// shared count is spent, new addresses write nothing.
import sql from "sql-template-tag";
import { LIMITS } from "../limits.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";

export interface SignInLimits {
  signInTriesPerAddress: number;
  signInTriesOverall: number;
  signInWindowMs: number;
}

export type SignInTry =
  | { allowed: true; windowStart: Date }
  /** `by`: which bound was reached, the address's own or the one for all addresses. */
  | { allowed: false; by: "address" | "all"; retryAfterMs: number };

const ALL = "all";
const scopeOf = (address: string) => `address:${address}`;

/** Takes one try for `address` in the window of `now`, or says until when tries are refused. */
export async function takeSignInTry(
  q: Queryable,
  address: string,
  now: Date,
  limits: SignInLimits = LIMITS,
): Promise<SignInTry> {
  const windowStart = new Date(Math.floor(now.getTime() / limits.signInWindowMs) * limits.signInWindowMs);
  const [row] = await runSql<{ mine: number | null; total: number | null }>(
    q,
    sql`WITH mine AS (
        INSERT INTO sign_in_tries (scope, "windowStart", tries)
        SELECT ${scopeOf(address)}::text, ${windowStart}::timestamptz, 1
        WHERE NOT EXISTS (
          SELECT 1 FROM sign_in_tries
          WHERE scope = ${ALL} AND "windowStart" = ${windowStart} AND tries >= ${limits.signInTriesOverall})
        ON CONFLICT (scope, "windowStart") DO UPDATE SET tries = sign_in_tries.tries + 1
        RETURNING tries
      ), total AS (
        INSERT INTO sign_in_tries (scope, "windowStart", tries)
        SELECT ${ALL}::text, ${windowStart}::timestamptz, 1 FROM mine
        WHERE mine.tries <= ${limits.signInTriesPerAddress}
        ON CONFLICT (scope, "windowStart") DO UPDATE SET tries = sign_in_tries.tries + 1
        RETURNING tries
      )
      SELECT (SELECT tries FROM mine) AS mine, (SELECT tries FROM total) AS total`,
  );
  const retryAfterMs = windowStart.getTime() + limits.signInWindowMs - now.getTime();
  if (row?.mine == null) return { allowed: false, by: "all", retryAfterMs };
  if (row.mine > limits.signInTriesPerAddress) return { allowed: false, by: "address", retryAfterMs };
  if (row.total == null || row.total > limits.signInTriesOverall) return { allowed: false, by: "all", retryAfterMs };
  return { allowed: true, windowStart };
}

/** Gives back a try whose key was right: only wrong keys count against the bounds. */
export async function giveBackSignInTry(q: Queryable, address: string, windowStart: Date): Promise<void> {
  await runSql(
    q,
    sql`UPDATE sign_in_tries SET tries = tries - 1
      WHERE "windowStart" = ${windowStart} AND scope IN (${ALL}, ${scopeOf(address)}) AND tries > 0`,
  );
}

/** Deletes the counts of windows that ended before `now` (the sweep); answers how many rows. */
export async function pruneSignInTries(q: Queryable, now: Date, limits: SignInLimits = LIMITS): Promise<number> {
  const before = new Date(now.getTime() - limits.signInWindowMs);
  return (await runSql(q, sql`DELETE FROM sign_in_tries WHERE "windowStart" <= ${before} RETURNING 1`)).length;
}
