// The pg pool every query goes through: the hot paths' plain SQL directly, Prisma through its adapter.
import pg from "pg";

export type Pool = pg.Pool;

export interface PoolOptions {
  url: string;
  /** Connections in this process's pool. A Lambda instance serves one request at a time: keep it small. */
  poolSize?: number;
}

export function createPool({ url, poolSize = 10 }: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // A query that cannot finish in this time is a sick database: fail it rather than hold the request.
    statement_timeout: 30_000,
  });
  // An idle connection that breaks is replaced on next use; the error itself needs no handling.
  pool.on("error", () => {});
  return pool;
}
