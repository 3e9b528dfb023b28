// Plain SQL, runnable on a pg pool or on a pg client in a transaction, so one statement serves every caller.
import type pg from "pg";
import type { Sql } from "sql-template-tag";
import { isReadTimeout, type Pool } from "./pool.ts";

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/** Runs a statement composed with sql-template-tag (values become $n parameters) on any Queryable. */
export function runSql<R = Record<string, unknown>>(q: Queryable, statement: Sql): Promise<R[]> {
  return q.query<R>(statement.text, statement.values);
}

export function fromPg(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R>(text: string, params: unknown[] = []) {
      return (await client.query(text, params)).rows as R[];
    },
  };
}

/**
 * Runs `work` in a transaction on one pooled connection; rolls back if it throws. A connection that stopped
 * answering (pg's query_timeout) is not given back to the pool: it is closed, which ends the transaction.
 */
export async function transaction<T>(pool: Pool, work: (q: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(fromPg(client));
    await client.query("COMMIT");
    return result;
  } catch (error) {
    if (isReadTimeout(error)) broken = error as Error;
    else await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Batches a pruning delete takes per run, so one run stays short even after a long pause (the next goes on). */
const MAX_DELETE_BATCHES = 10;
const DELETE_BATCH = 1000;

/**
 * Runs a pruning DELETE in batches of DELETE_BATCH rows, at most MAX_DELETE_BATCHES of them; answers how many
 * rows went. `batch(limit)` is the statement for one batch: it deletes at most `limit` rows and RETURNs one
 * row per row deleted.
 */
export async function deleteInBatches(q: Queryable, batch: (limit: number) => Sql): Promise<number> {
  let deleted = 0;
  for (let n = 0; n < MAX_DELETE_BATCHES; n++) {
    const rows = await runSql(q, batch(DELETE_BATCH));
    deleted += rows.length;
    if (rows.length < DELETE_BATCH) break;
  }
  return deleted;
}
