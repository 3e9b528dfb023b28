// What use cases need from the outside world, built once per process and passed explicitly.
import type { Config } from "./config.ts";
import { createDb, createPool, type Db, type Pool } from "./db.ts";
import { logger, type Logger } from "./logger.ts";
import { createJobQueue, type JobQueue } from "./queue.ts";

export interface Deps {
  config: Config;
  db: Db;
  /** The pool under `db`, for the hot paths' plain SQL (Prisma's query engine costs several times more CPU). */
  pool: Pool;
  queue: JobQueue;
  log: Logger;
  now: () => Date;
}

export function createDeps(config: Config, component: string, poolSize?: number): Deps {
  const pool = createPool({ url: config.DATABASE_URL, poolSize });
  return {
    config,
    pool,
    db: createDb(pool),
    queue: createJobQueue({ url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }),
    log: logger(component),
    now: () => new Date(),
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.queue.close(), deps.db.$disconnect()]);
  await deps.pool.end().catch(() => {});
}
