// Prisma over the pg driver adapter: no Rust engine, nothing downloaded (see prisma.config.ts).
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./db/generated/client.ts";

export type Db = PrismaClient;
export { Prisma } from "./db/generated/client.ts";
export type { DeliveryAttempt, EventAction, EventDefinition, EventLog, EventTrigger, Webhook } from "./db/generated/client.ts";
export * from "./db/generated/enums.ts";

export interface DbOptions {
  url: string;
  /** Connections in this process's pool. A Lambda instance serves one request at a time: keep it small. */
  poolSize?: number;
}

export function createDb({ url, poolSize = 10 }: DbOptions): Db {
  const adapter = new PrismaPg({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 5_000,
    // A query that cannot finish in this time is a sick database: fail it rather than hold the request.
    statement_timeout: 30_000,
  });
  return new PrismaClient({ adapter });
}
