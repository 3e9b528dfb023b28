// The consumer side of the queue, beside the producer's JobQueue (platform/queue.ts): BullMQ's Worker
// is wired here and nowhere else. Processors see a job as its data and one way to run it again later.
import { createPostgresBackend, DelayedError, Worker, type Job } from "bullmq";
import { isDependencyDown } from "../platform/dependency-errors.ts";
import type { Logger } from "../platform/logger.ts";
import { dependencyOf, isLostJob, outageLog, type Dependency } from "../platform/outage-log.ts";
import {
  postgresQueueConnection,
  QUEUE_NAME,
  workerConnection,
  type JobCatalog,
  type JobName,
  type QueueBackend,
} from "../platform/queue.ts";

export interface ConsumedJob<N extends JobName> {
  data: JobCatalog[N];
  /**
   * Runs this job again at `at` (with `data` instead, if given), under the same id (so one action has one
   * job at a time), and ends this run: a delivery retry of an action that has its own job.
   */
  defer(at: Date, data?: JobCatalog[N]): Promise<never>;
}

export type Processors = { [N in JobName]: (job: ConsumedJob<N>) => Promise<void> };

export interface ConsumerOptions {
  backend?: QueueBackend;
  redisUrl: string;
  /** For the Postgres backend. */
  databaseUrl?: string;
  prefix: string;
  concurrency: number;
  /** How long a job's lock holds without renewal; a job whose worker died runs again after it. */
  lockMs: number;
  log: Logger;
}

/**
 * Takes jobs from the queue and hands each to its processor. A processor that throws has its job tried
 * again by BullMQ (JOB_OPTIONS in platform/queue.ts): that is the route of run retries, when tetik itself
 * failed (Postgres down mid-job), never of a receiver's failure.
 */
/** Most connections a worker's Postgres queue opens (besides tetik's own pool and its LISTEN connection). */
const WORKER_CONNECTIONS = 5;

/** A running consumer, on either backend: what its owner may do with it. */
export type Consumer = Pick<Worker, "close" | "isRunning" | "waitUntilReady">;

export function startConsumer(processors: Processors, options: ConsumerOptions): Consumer {
  const { log } = options;
  const process = async (job: Job, token?: string) => {
    const name = job.name as JobName;
    const processor = processors[name] as (job: ConsumedJob<JobName>) => Promise<void>;
    if (!processor) throw new Error(`unknown job ${job.name}`);
    await processor({
      data: job.data,
      async defer(at, data) {
        if (data) await job.updateData(data);
        await job.moveToDelayed(at.getTime(), token);
        throw new DelayedError();
      },
    });
  };
  const settings = {
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockMs,
    stalledInterval: options.lockMs,
  };
  const worker =
    options.backend === "postgres"
      ? new Worker(
          QUEUE_NAME,
          process,
          { ...settings, connection: postgresQueueConnection(options.databaseUrl!, WORKER_CONNECTIONS) },
          createPostgresBackend,
        )
      : new Worker(QUEUE_NAME, process, { ...settings, connection: workerConnection(options.redisUrl, log) });
  // A dependency that is down fails jobs and the worker's own calls many times a second: the outage log
  // says so once, with reminders at a bounded rate, and says when it is back (a job completes again).
  const outages = outageLog(log);
  const queueStore: Dependency = options.backend === "postgres" ? "postgres" : "redis";
  worker.on("failed", (job, err) => {
    if (isDependencyDown(err)) return outages.down(dependencyOf(err), err);
    if (isLostJob(err)) return outages.lost(queueStore, err);
    log.warn({ err, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade }, "job failed");
  });
  worker.on("completed", () => {
    outages.up("postgres");
    outages.up(queueStore);
  });
  // Mostly Redis trouble (lost connection, keys gone after a flush): the sweep repairs what it costs.
  worker.on("error", (err) => {
    if (isDependencyDown(err)) return outages.down(queueStore, err);
    if (isLostJob(err)) return outages.lost(queueStore, err);
    log.warn({ err }, "worker error");
  });
  return worker;
}
