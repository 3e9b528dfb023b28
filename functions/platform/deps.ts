// What use cases need from the outside world, built once per process and passed explicitly.
import type { Config } from "./config.ts";
import { createDb, createPool, type Db, type Pool } from "./db.ts";
import { logger, type Logger } from "./logger.ts";
import { createJobQueue, type JobQueue } from "./queue.ts";
import { createSecretBox, parseSecretsKey, type SecretBox } from "./secret-box.ts";

export interface Deps {
  config: Config;
  db: Db;
  /** The pool under `db`, for the hot paths' plain SQL (Prisma's query engine costs several times more CPU). */
  pool: Pool;
  queue: JobQueue;
  log: Logger;
  /** Seals and opens secrets stored at rest (webhook signing secrets). */
  secrets: SecretBox;
  now: () => Date;
}

export function secretBoxFor(config: Pick<Config, "SECRETS_KEY" | "SECRETS_KEY_PREVIOUS">): SecretBox {
  const parse = (key: string) => parseSecretsKey(key)!; // validated with the configuration
  return createSecretBox(config.SECRETS_KEY ? parse(config.SECRETS_KEY) : undefined, (config.SECRETS_KEY_PREVIOUS ?? []).map(parse));
}

export function createDeps(config: Config, component: string, poolSize?: number): Deps {
  const pool = createPool({ url: config.DATABASE_URL, poolSize });
  return {
    config,
    pool,
    db: createDb(pool),
    queue: createJobQueue({ url: config.REDIS_URL, prefix: config.QUEUE_PREFIX }),
    log: logger(component),
    secrets: secretBoxFor(config),
    now: () => new Date(),
  };
}

export async function closeDeps(deps: Deps): Promise<void> {
  await Promise.allSettled([deps.queue.close(), deps.db.$disconnect()]);
  await deps.pool.end().catch(() => {});
}
