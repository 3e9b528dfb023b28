// The consumer side of the queue, beside the producer's JobQueue (platform/queue.ts): BullMQ's Worker
// is wired here and nowhere else. Processors see a job as its data and one way to run it again later.
import { DelayedError, Worker } from "bullmq";
import type { Logger } from "../platform/logger.ts";
import { QUEUE_NAME, workerConnection, type JobCatalog, type JobName } from "../platform/queue.ts";

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
  redisUrl: string;
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
export function startConsumer(processors: Processors, options: ConsumerOptions): Worker {
  const { log } = options;
  const worker = new Worker(
    QUEUE_NAME,
    async (job, token) => {
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
    },
    {
      connection: workerConnection(options.redisUrl, log),
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: options.lockMs,
    },
  );
  worker.on("failed", (job, err) =>
    log.warn({ err, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade }, "job failed"),
  );
  // Mostly Redis trouble (lost connection, keys gone after a flush): the sweep repairs what it costs.
  worker.on("error", (err) => log.warn({ err }, "worker error"));
  return worker;
}
