// What use cases need from the outside world, built once per process and passed explicitly.
import type { Config } from "./config.ts";
import { createDb, type Db } from "./db.ts";
import { logger, type Logger } from "./logger.ts";
import { createJobQueue, type JobQueue } from "./queue.ts";

export interface Deps {
  config: Config;
  db: Db;
  queue: JobQueue;
  log: Logger;
  now: () => Date;
}

export function createDeps(config: Config, component: string, poolSize?: number): Deps {
  return {
    config,
    db: createDb({ url: config.DATABASE_URL, poolSize }),
    queue: createJobQueue({ url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }),
    log: logger(component),
    now: () => new Date(),
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.queue.close(), deps.db.$disconnect()]);
}
