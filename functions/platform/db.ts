// Prisma over the pg driver adapter: no Rust engine, nothing downloaded (see prisma.config.ts). Only what
// needs the ORM imports this module: the functions that do not (events, collections, health) stay free of
// its query compiler, which is most of a Lambda bundle's size and start-up time.
import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "./db/generated/client.ts";

export type Db = PrismaClient;
export { Prisma } from "./db/generated/client.ts";
export type {
  ApiKey,
  AuditEntry,
  DeliveryAttempt,
  EventAction,
  EventDefinition,
  EventLog,
  EventTrigger,
  Webhook,
} from "./db/generated/client.ts";
export * from "./db/generated/enums.ts";
export type { Pool } from "./pool.ts";

export function createDb(pool: pg.Pool): Db {
  return new PrismaClient({ adapter: new PrismaPg(pool) });
}
