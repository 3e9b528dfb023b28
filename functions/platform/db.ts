// Prisma over the pg driver adapter: no Rust engine, nothing downloaded (see prisma.config.ts).
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./db/generated/client.ts";

export type Db = PrismaClient;
export { Prisma } from "./db/generated/client.ts";
export type { DeliveryAttempt, EventAction, EventDefinition, EventLog, EventTrigger, Webhook } from "./db/generated/client.ts";
export * from "./db/generated/enums.ts";

export type Pool = pg.Pool;

export interface DbOptions {
  url: string;
  /** Connections in this process's pool. A Lambda instance serves one request at a time: keep it small. */
  poolSize?: number;
}

/** A pg pool; Prisma and the hot paths' plain SQL share it. */
export function createPool({ url, poolSize = 10 }: DbOptions): pg.Pool {
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

export function createDb(pool: pg.Pool): Db {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}
