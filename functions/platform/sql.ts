// Plain SQL for the hot paths, runnable on a pg pool, a pg client in a transaction, or a Prisma
// transaction, so one statement serves every caller.
import type pg from "pg";
import type { Sql } from "sql-template-tag";
import type { Pool, Prisma } from "./db.ts";

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

export function fromPrisma(tx: Prisma.TransactionClient): Queryable {
  return {
    query: <R>(text: string, params: unknown[] = []) => tx.$queryRawUnsafe<R[]>(text, ...params),
  };
}

/** Runs `work` in a transaction on one pooled connection; rolls back if it throws. */
export async function transaction<T>(pool: Pool, work: (q: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(fromPg(client));
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
