// A share of the pool for statements whose cost the request shapes (list filters): they take turns on a few
// of its connections, each under a statement timeout of its own, so however costly they are the rest of the
// pool stays free for everything else (ingestion, reads by id, the worker's writes).
import type { Sql } from "sql-template-tag";
import type { Pool } from "./pool.ts";
import { runSql, transaction } from "./sql.ts";

/** Postgres cancelled the statement at its statement_timeout (SQLSTATE 57014, query_canceled). */
export class StatementTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`the statement ran past its ${timeoutMs} ms timeout`);
    this.name = "StatementTimeoutError";
  }
}

/** Every turn was taken for as long as the caller would wait. */
export class GateFullError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no turn came within ${waitedMs} ms`);
    this.name = "GateFullError";
  }
}

export interface QueryGate {
  /**
   * Runs `statement` once a turn is free (waiting at most `waitMs`, else GateFullError), in a transaction
   * of its own under `timeoutMs` of statement_timeout (else StatementTimeoutError).
   */
  select<R>(statement: Sql, limits: { timeoutMs: number; waitMs: number }): Promise<R[]>;
}

/** A quarter of the pool (at least one connection) takes turns: the other three quarters never wait on it. */
export function turnsFor(poolSize: number): number {
  return Math.max(1, Math.floor(poolSize / 4));
}

export function createQueryGate(pool: Pool, turns = turnsFor(pool.options.max ?? 10)): QueryGate {
  const take = turnstile(turns);
  return {
    async select<R>(statement: Sql, { timeoutMs, waitMs }: { timeoutMs: number; waitMs: number }) {
      const done = await take(waitMs);
      try {
        return await transaction(pool, async (q) => {
          // Local to the transaction: it ends with it, so the connection goes back to the pool (and through
          // RDS Proxy or PgBouncer to other clients) as it came. The role's own 30 s stays for the rest.
          await q.query("SELECT set_config('statement_timeout', $1, true)", [String(timeoutMs)]);
          return await runSql<R>(q, statement);
        });
      } catch (error) {
        if ((error as { code?: string }).code === "57014") throw new StatementTimeoutError(timeoutMs);
        throw error;
      } finally {
        done();
      }
    },
  };
}

/** At most `size` holders at once; the rest wait in order, each at most its `waitMs`. */
function turnstile(size: number): (waitMs: number) => Promise<() => void> {
  let free = size;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return (waitMs) => {
    if (free > 0) {
      free--;
      return Promise.resolve(release);
    }
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(release);
      };
      const timer = setTimeout(() => {
        waiting.splice(waiting.indexOf(wake), 1);
        reject(new GateFullError(waitMs));
      }, waitMs);
      waiting.push(wake);
    });
  };
}
