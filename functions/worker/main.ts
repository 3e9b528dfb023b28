// The long-running worker process: its consumer (consumer.ts) hands each job to its processor (jobs/),
// with a heartbeat for the container's health check and a graceful stop.
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { announceSecurity } from "../platform/announce-security.ts";
import { config } from "../platform/config.ts";
import { closeDeps, createDeps, type Deps } from "../platform/deps.ts";
import type { Pool } from "../platform/pool.ts";
import { serveWorkerMetrics } from "./metrics-server.ts";
import { QUEUE_NAME } from "../platform/queue.ts";
import { withTimeout } from "../platform/timeout.ts";
import type { DeliveryRuntime } from "../domain/delivery/kinds/runtime.ts";
import { startConsumer, type Consumer } from "./consumer.ts";
import { withRuntime } from "./delivery-runtime.ts";
import { actionJob } from "./jobs/action-job.ts";
import { eventsJob } from "./jobs/events-job.ts";

/** On SIGTERM, jobs in flight get this long to finish; what is left is released for another worker. */
const SHUTDOWN_GRACE_MS = 25_000;

/** `runtime` is made for this worker unless given (a test may hold it, to see what the worker sees). */
export function startWorker(baseDeps: Deps, runtime?: DeliveryRuntime): Consumer {
  const deps = withRuntime(baseDeps, runtime);
  const { config: cfg, log } = deps;
  return startConsumer(
    {
      "process-events": (job) => eventsJob(deps, job),
      "run-action": (job) => actionJob(deps, job),
    },
    {
      backend: cfg.QUEUE_BACKEND,
      redisUrl: cfg.REDIS_URL,
      databaseUrl: cfg.QUEUE_DATABASE_URL,
      prefix: cfg.QUEUE_PREFIX,
      concurrency: cfg.WORKER_CONCURRENCY,
      lockMs: cfg.WORKER_LOCK_MS,
      log,
    },
  );
}

/** How often the heartbeat is written, and the database asked before the first one. */
const HEARTBEAT_MS = 10_000;

/**
 * Touches `file` every 10 s while the worker runs, for a container health check to read; the first time
 * only once Redis and Postgres have both answered. A task that cannot reach them is not healthy, so a
 * deploy of one fails the health check and is rolled back instead of passing. Later outages do not stop
 * the heartbeat: the worker waits them out, and a new task would not reach them either.
 */
async function startHeartbeat(file: string, worker: Consumer, pool: Pool): Promise<void> {
  await worker.waitUntilReady();
  while (worker.isRunning()) {
    const reached = await withTimeout(pool.query("SELECT 1"), HEARTBEAT_MS, "postgres").then(
      () => true,
      () => false,
    );
    if (reached) break;
    await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS / 5));
  }
  if (!worker.isRunning()) return;
  const beat = () => {
    if (worker.isRunning()) writeFileSync(file, new Date().toISOString());
  };
  beat();
  setInterval(beat, HEARTBEAT_MS).unref();
}

async function main() {
  const cfg = config();
  // The hot path batches its claims and writes (one flush in flight each), so a few connections
  // carry many jobs; the rest serve triggers and retries.
  const deps = createDeps(cfg, "worker", 12);
  announceSecurity(deps, { servesApi: false });
  const worker = startWorker(deps);
  deps.log.info({ concurrency: cfg.WORKER_CONCURRENCY, queue: `${cfg.QUEUE_PREFIX}:${QUEUE_NAME}` }, "worker started");
  if (cfg.WORKER_HEARTBEAT_FILE) void startHeartbeat(cfg.WORKER_HEARTBEAT_FILE, worker, deps.pool);
  const metrics = cfg.WORKER_METRICS_PORT
    ? serveWorkerMetrics(deps, cfg.WORKER_METRICS_PORT, (port) => deps.log.info({ port }, "worker metrics at /metrics"))
    : undefined;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.log.info({ signal }, "worker stopping: finishing jobs in flight");
    try {
      await withTimeout(worker.close(), SHUTDOWN_GRACE_MS, "worker shutdown");
    } catch {
      // Jobs still running are released: BullMQ hands them to another worker once their lock lapses.
      await worker.close(true);
    }
    metrics?.close();
    await closeDeps(deps);
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) void main();
