// The job catalog and the producer side of the queue. Jobs carry ids (and at most a hint that saves a read):
// Postgres holds the data, so a lost job is recreated from the database by the sweep, and a job that runs
// twice finds its work done.
import { createPostgresBackend, Queue, runMigrations, type JobsOptions, type PgQueryable } from "bullmq";
import { Redis } from "ioredis";
import { UnavailableError } from "./dependency-errors.ts";
import type { FlowLimits, WaitReason } from "./flow-limiter.ts";
import type { Logger } from "./logger.ts";
import { outageLog } from "./outage-log.ts";
import { withTimeout } from "./timeout.ts";

// Redis keys are `${QUEUE_PREFIX}:delivery:*`. (Jobs queued under an older name are recreated by the sweep.)
export const QUEUE_NAME = "delivery";

/** Job name -> payload. One queue carries all kinds; the worker dispatches on the name. */
export interface JobCatalog {
  /**
   * Match accepted events and make their actions' first attempts. Events accepted together travel
   * together (up to EVENTS_PER_JOB): the queue's cost is paid per job, not per event.
   */
  "process-events": { eventIds: string[] };
  /** Run one action (a webhook delivery or a trigger) of one event. */
  "run-action": { actionId: string; awaiting?: AwaitedTurn };
}

/**
 * A delivery waiting for its turn under its webhook's flow control, with what asking the limiter again
 * takes: its woken job asks Redis and reads Postgres only once the turn has come. A job recreated without
 * it (by the sweep) reads the webhook from Postgres and asks then.
 */
export interface AwaitedTurn {
  eventId: string;
  webhookId: string;
  limits: FlowLimits;
  leaseMs: number;
  /** Why it waits, as the action in Postgres shows it (written again only when it changes). */
  reason: WaitReason;
  /** The turn the limiter booked for it, if it did. */
  booking?: string;
}
export type JobName = keyof JobCatalog;

/** Most events one process-events job carries: their deliveries run concurrently within the job. */
export const EVENTS_PER_JOB = 25;

/**
 * BullMQ's own retries cover infrastructure failures only (the database down mid-job). Delivery retries
 * follow each webhook's policy and are scheduled by the processor itself.
 */
const JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1_000 },
  // Jobs are idempotent and Postgres keeps the record, so Redis keeps nothing finished. A removed failed
  // job also lets the sweep add it again under the same id.
  removeOnComplete: true,
  removeOnFail: true,
};

/** How long a producer waits for Redis before giving up (the sweep enqueues later). */
const ENQUEUE_TIMEOUT_MS = 2_000;

export interface JobQueue {
  /** Adds jobs (after `delayMs`, if given); a job whose id is already queued is left as it is. */
  add<N extends JobName>(name: N, jobs: Array<{ id: string; data: JobCatalog[N]; delayMs?: number }>): Promise<void>;
  /**
   * Jobs a worker could run now: waiting, running, and delayed ones whose time has come. Retries still
   * waiting out their backoff are not counted: they are no work for another worker (the workers scale on
   * this; a receiver that is down for an hour must not keep ten idle tasks).
   */
  due(): Promise<number>;
  /** Jobs by state: waiting (prioritized included), active, delayed, failed. */
  counts(): Promise<Record<"waiting" | "active" | "delayed" | "failed", number>>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** The producer's connection, which fails fast while Redis is down: shared with the flow limiter. */
  readonly redis?: Redis;
}

export type QueueBackend = "redis" | "postgres";

export interface QueueConnectionOptions {
  backend?: QueueBackend;
  /** Redis's URL, for the Redis backend. */
  url: string;
  /** The database's URL, for the Postgres backend. */
  databaseUrl?: string;
  prefix: string;
  /** Where the producer's connection says that Redis went and came back (outage-log.ts). */
  log?: Logger;
}

/**
 * BullMQ's Postgres backend keeps its tables, types and functions in a schema of their own, made by tetik's
 * migrations (migrateQueueSchema) as the tables' owner: tetik's processes, as tetik_app, only use it.
 */
export const QUEUE_SCHEMA = "tetik_queue";

export function postgresQueueConnection(databaseUrl: string, max: number) {
  return { connectionString: databaseUrl, schema: QUEUE_SCHEMA, max };
}

/**
 * Brings BullMQ's schema up to its version (in BullMQ's own transaction and lock) and lets tetik_app use it,
 * where that role exists: rows and functions, and CREATE, since BullMQ makes a sequence per queue on first
 * use. Made whichever QUEUE_BACKEND runs, so changing it needs no other step.
 */
export async function migrateQueueSchema(client: PgQueryable & { query(sql: string): Promise<unknown> }) {
  await runMigrations(client, QUEUE_SCHEMA);
  await client.query(`DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tetik_app') THEN
      GRANT USAGE, CREATE ON SCHEMA ${QUEUE_SCHEMA} TO tetik_app;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${QUEUE_SCHEMA} TO tetik_app;
      GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${QUEUE_SCHEMA} TO tetik_app;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${QUEUE_SCHEMA} TO tetik_app;
    END IF;
  END $$`);
}

/**
 * The connection of a BullMQ worker: it waits for Redis forever and never fails a command. An outage is
 * logged when it starts and when it ends (outage-log.ts), not at every reconnection attempt.
 */
export function workerConnection(url: string, log: Logger): Redis {
  const connection = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  const outages = outageLog(log);
  connection.on("error", (err) => outages.down("redis", err));
  connection.on("ready", () => outages.up("redis"));
  return connection;
}

/** The producer: fails fast when its store is unreachable so a request is never held by it. */
export function createJobQueue(options: QueueConnectionOptions): JobQueue {
  return options.backend === "postgres" ? createPostgresJobQueue(options) : createRedisJobQueue(options);
}

/** Most connections the producer's Postgres pool opens (besides tetik's own pool). */
const PRODUCER_CONNECTIONS = 3;

function createPostgresJobQueue({ databaseUrl, prefix }: QueueConnectionOptions): JobQueue {
  const connection = postgresQueueConnection(databaseUrl!, PRODUCER_CONNECTIONS);
  const queue = new Queue(QUEUE_NAME, { connection, prefix }, createPostgresBackend);
  queue.on("error", () => {});
  const postgres = <T>(work: Promise<T>) =>
    withTimeout(work, ENQUEUE_TIMEOUT_MS, "postgres").catch((error: unknown) => {
      throw error instanceof UnavailableError ? error : new UnavailableError("postgres");
    });
  return {
    async add(name, jobs) {
      if (jobs.length === 0) return;
      await postgres(queue.addBulk(jobs.map((job) => bulkJob(name, job))));
    },
    async due() {
      const [counts, overdue] = await postgres(
        Promise.all([queue.getJobCounts("waiting", "prioritized", "active"), queue.getDelayedCount(Date.now() + 1)]),
      );
      return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.active ?? 0) + overdue;
    },
    async counts() {
      return byState(await postgres(queue.getJobCounts(...COUNTED_STATES)));
    },
    async ping() {
      await postgres(queue.getJobCounts("waiting"));
    },
    async close() {
      await queue.close().catch(() => {});
    },
  };
}

/** The states counts() reads, and the shape it answers (prioritized jobs are waiting ones). */
const COUNTED_STATES = ["waiting", "prioritized", "active", "delayed", "failed"] as const;
const byState = (c: Record<string, number>) => ({
  waiting: (c.waiting ?? 0) + (c.prioritized ?? 0),
  active: c.active ?? 0,
  delayed: c.delayed ?? 0,
  failed: c.failed ?? 0,
});

const bulkJob = <N extends JobName>(name: N, job: { id: string; data: JobCatalog[N]; delayMs?: number }) => ({
  name,
  data: job.data,
  opts: { ...JOB_OPTIONS, jobId: job.id, ...(job.delayMs && job.delayMs > 0 ? { delay: job.delayMs } : {}) },
});

function createRedisJobQueue({ url, prefix, log }: QueueConnectionOptions): JobQueue {
  const connection = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: ENQUEUE_TIMEOUT_MS,
    // Reconnect in the background, at most every 2 s, without end: the process outlives Redis outages.
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  // Once Redis has been seen down, callers fail at once until it is back, instead of each waiting for
  // the timeout. Errors surface through the commands that fail; the event itself would only repeat them.
  let down = false;
  const outages = log && outageLog(log);
  connection.on("ready", () => {
    down = false;
    outages?.up("redis");
  });
  connection.on("error", (err) => {
    down = true;
    outages?.down("redis", err);
  });
  connection.on("end", () => (down = true));
  const queue = new Queue(QUEUE_NAME, { connection, prefix });
  queue.on("error", () => {});
  const whenReady = () => {
    if (down && connection.status !== "ready") return Promise.reject(new UnavailableError("redis"));
    return withTimeout(queue.waitUntilReady(), ENQUEUE_TIMEOUT_MS, "redis");
  };

  return {
    redis: connection,
    async add(name, jobs) {
      if (jobs.length === 0) return;
      await whenReady();
      await withTimeout(queue.addBulk(jobs.map((job) => bulkJob(name, job))), ENQUEUE_TIMEOUT_MS, "redis");
    },
    async due() {
      await whenReady();
      // BullMQ scores a delayed job timestamp * 0x1000 + a counter (its getDelayedScore.lua): everything
      // under the next millisecond's first score is due, though no worker may have moved it yet.
      const [counts, overdue] = await withTimeout(
        Promise.all([
          queue.getJobCounts("waiting", "prioritized", "active"),
          connection.zcount(queue.toKey("delayed"), "-inf", (Date.now() + 1) * 0x1000 - 1),
        ]),
        ENQUEUE_TIMEOUT_MS,
        "redis",
      );
      return Object.values(counts).reduce((sum: number, n) => sum + n, overdue);
    },
    async counts() {
      await whenReady();
      return byState(await withTimeout(queue.getJobCounts(...COUNTED_STATES), ENQUEUE_TIMEOUT_MS, "redis"));
    },
    async ping() {
      await withTimeout(
        whenReady().then(() => connection.ping()),
        ENQUEUE_TIMEOUT_MS,
        "redis",
      );
    },
    async close() {
      await queue.close();
      connection.disconnect();
    },
  };
}
