// What use cases need from the outside world, built once per process and passed explicitly. These are
// the dependencies every function has; Prisma comes on top only where it is used (deps.ts).
import type { Config } from "./config.ts";
import { logger, type Logger } from "./logger.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { createPool, type Pool } from "./pool.ts";
import { createQueryGate, type QueryGate } from "./query-gate.ts";
import { createFlowLimiter, type FlowLimiter } from "./flow-limiter.ts";
import { createPostgresFlowLimiter } from "./flow-limiter-postgres.ts";
import { outageLog } from "./outage-log.ts";
import { createJobQueue, type JobQueue } from "./queue.ts";
import { createSecretBox, parseSecretsKey, type SecretBox } from "./secret-box.ts";

export interface CoreDeps {
  config: Config;
  /** Plain SQL on the hot paths (Prisma's query engine costs several times more CPU), and under Prisma. */
  pool: Pool;
  /** A quarter of `pool` for list filters, whose cost the request shapes (see query-gate.ts). */
  listQueries: QueryGate;
  queue: JobQueue;
  /** Per-webhook flow control (rates, requests in flight, pauses), shared by every process (Redis or Postgres). */
  flow: FlowLimiter;
  log: Logger;
  /** Seals and opens secrets stored at rest (webhook signing secrets). */
  secrets: SecretBox;
  /** This process's Prometheus registry and counters. */
  metrics: Metrics;
  now: () => Date;
}

export function secretBoxFor(config: Pick<Config, "SECRETS_KEY" | "SECRETS_KEY_PREVIOUS">): SecretBox {
  const parse = (key: string) => parseSecretsKey(key)!; // validated with the configuration
  return createSecretBox(
    config.SECRETS_KEY ? parse(config.SECRETS_KEY) : undefined,
    (config.SECRETS_KEY_PREVIOUS ?? []).map(parse),
  );
}

/** `onAuthFailure` hears when Postgres refuses the password (see pool.ts). */
export function createCoreDeps(
  config: Config,
  component: string,
  poolSize?: number,
  onAuthFailure?: () => void,
): CoreDeps {
  const log = logger(component);
  const queue = createJobQueue({
    log,
    backend: config.QUEUE_BACKEND,
    url: config.REDIS_URL,
    databaseUrl: config.QUEUE_DATABASE_URL,
    prefix: config.QUEUE_PREFIX,
  });
  const pool = createPool({ url: config.DATABASE_URL, poolSize, onAuthFailure });
  // A new connection is Postgres answering: the end of an outage, where one was logged (outage-log.ts).
  pool.on("connect", () => outageLog(log).up("postgres"));
  return {
    config,
    pool,
    listQueries: createQueryGate(pool),
    queue,
    flow: queue.redis ? createFlowLimiter(queue.redis, config.QUEUE_PREFIX) : createPostgresFlowLimiter(pool),
    log,
    secrets: secretBoxFor(config),
    metrics: createMetrics(),
    now: () => new Date(),
  };
}

/** Closes what `deps` holds, Prisma's client included when it has one. */
export async function closeDeps(deps: CoreDeps & { db?: { $disconnect(): Promise<void> } }): Promise<void> {
  await Promise.allSettled([deps.queue.close(), deps.db?.$disconnect()]);
  await deps.pool.end().catch(() => {});
}
