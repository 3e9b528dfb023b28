// Nothing accepted is lost, whatever happens to Redis, the worker or a receiver, with the queue on Redis or
// on Postgres. Each test counts events lost (must be 0) and reports duplicate deliveries (allowed: delivery
// is at least once).
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../functions/ops/embedded-postgres.ts";
import { migrate } from "../functions/ops/migrate.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import { lossReport, sweepUntilCompleted } from "./helpers/loss.ts";
import { startWorkerProcess, type RunningProcess } from "./helpers/processes.ts";
import { describeWithRedis, notRun, REDIS_THERE } from "./helpers/queue-backend.ts";
import { startPrivateRedis, type PrivateRedis } from "./helpers/redis-server.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

/** Short leases, locks and grace, so recovery happens in seconds rather than minutes. */
// A claim lasts the longest webhook timeout and EVENT_LEASE_MS: 3 s here.
const FAST_RECOVERY = {
  SWEEP_GRACE_MS: "300",
  WORKER_LOCK_MS: "2000",
  WEBHOOK_TIMEOUT_MS: "2000",
  EVENT_LEASE_MS: "1000",
};

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  // Last started, first stopped: stacks before the Redis servers they use.
  while (cleanups.length) await cleanups.pop()!().catch((e) => console.error(e));
});

async function redis(): Promise<PrivateRedis> {
  const server = await startPrivateRedis();
  cleanups.push(() => server.stop());
  return server;
}
/** A Postgres server of the test's own, migrated; `server` is replaced when the test restarts it. */
async function privatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), "tetik-restart-pg-"));
  chmodSync(dir, 0o755); // as root, Postgres runs as another user, who must reach it
  const holder = { dir, server: await startEmbeddedPostgres(dir, { auth: "trust" }), port: 0, url: "" };
  holder.port = holder.server.port;
  await migrate(holder.server.url, { quiet: true });
  holder.url = holder.server.url.replace("//postgres@", "//tetik_app@");
  cleanups.push(async () => {
    await holder.server.stop().catch(() => {}); // stopped already, where the test failed while it was away
    rmSync(dir, { recursive: true, force: true });
  });
  return holder;
}

async function stackWith(options: Parameters<typeof startStack>[0]): Promise<TestStack> {
  const stack = await startStack(options);
  cleanups.push(() => stack.stop());
  return stack;
}
async function receiverFor(responder?: Parameters<typeof startReceiver>[0], port?: number): Promise<Receiver> {
  const receiver = await startReceiver(responder, port);
  cleanups.push(() => receiver.close());
  return receiver;
}
function workerProcess(stack: TestStack, env: Record<string, string> = {}): RunningProcess {
  const worker = startWorkerProcess({ ...stack.env, ...env });
  cleanups.push(() => worker.stop());
  return worker;
}

async function hook(
  stack: TestStack,
  receiver: Receiver,
  path: string,
  retry: Record<string, unknown> = { maxAttempts: 20, backoff: "fixed", delayMs: 200 },
) {
  const definition = await createDefinition(stack, { name: `faults-${path}`, collection: "orders" });
  await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}${path}`, retry });
}

async function ingest(stack: TestStack, count: number, from = 0): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => ({
    type: "collection.created",
    collection: "orders",
    recordId: `o-${from + i}`,
    data: { i: from + i },
  }));
  return expectStatus(await stack.api("POST", "/events/batch", { events }), 202).ids;
}

const delivered = (receiver: Receiver, path: string) =>
  new Set(receiver.at(path).map((r) => (r.json as { id: string }).id)).size;

describeWithRedis("faults of Redis", () => {
  const stackOn = stackWith;

  it("keeps accepting events while Redis is down and delivers them all once it is back", async () => {
    const server = await redis();
    const stack = await stackOn({ redisUrl: server.url, env: FAST_RECOVERY });
    const receiver = await receiverFor();
    await hook(stack, receiver, "/redis-down");

    const before = await ingest(stack, 10);
    await sweepUntilCompleted(stack, before);

    await server.stop();
    const during = [...(await ingest(stack, 20, 10)), ...(await ingest(stack, 5, 30))];
    expect(await stack.deps.db.eventLog.count({ where: { id: { in: during }, status: "pending" } })).toBe(
      during.length,
    );

    await server.start(); // empty: whatever Redis held is gone
    await sweepUntilCompleted(stack, during);
    expect(lossReport("redis down", [...before, ...during], receiver, "/redis-down").lost).toBe(0);
  });

  it("loses nothing when Redis is flushed (FLUSHALL) in the middle of a run", async () => {
    const server = await redis();
    // One job (25 events) at a time and a 50 ms receiver: the flush lands mid-run, not after it.
    const stack = await stackOn({ redisUrl: server.url, env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: "1" } });
    const receiver = await receiverFor(() => ({ status: 200, delayMs: 50 }));
    await hook(stack, receiver, "/flushed");

    const ids = await ingest(stack, 150);
    await waitFor(() => delivered(receiver, "/flushed") >= 30, {
      intervalMs: 10,
      what: "30 deliveries before the flush",
    });
    await server.flushAll();
    expect(delivered(receiver, "/flushed")).toBeLessThan(ids.length);
    await sweepUntilCompleted(stack, ids);
    expect(lossReport("FLUSHALL", ids, receiver, "/flushed").lost).toBe(0);
  });
});

/**
 * The queue's store for the tests that hold on either: Redis, or Postgres alone (QUEUE_BACKEND=postgres,
 * REDIS_URL pointing where nothing answers, so anything that still needed Redis would fail).
 */
const QUEUES: Record<string, Record<string, string>> = {
  ...(REDIS_THERE ? { redis: { QUEUE_BACKEND: "redis" } } : {}),
  postgres: { QUEUE_BACKEND: "postgres", REDIS_URL: "redis://127.0.0.1:9" },
};
if (!REDIS_THERE) notRun("the faults below with the queue on Redis");

describe.each(Object.entries(QUEUES))("faults, the queue on %s", (backend, queueEnv) => {
  const stackOn = (options: { worker?: boolean; env?: Record<string, string> }) =>
    stackWith({ ...options, env: { ...options.env, ...queueEnv } });

  it("says in /health where the queue is, and that it is up", async () => {
    const stack = await stackOn({ worker: false });
    const health = expectStatus(await stack.api("GET", "/health"), 200);
    expect(health).toMatchObject({ database: "up", redis: queueEnv.QUEUE_BACKEND === "postgres" ? "unused" : "up" });
  });

  it("loses nothing when Postgres restarts mid-run, and answers 503 while it is away", async () => {
    // A Postgres of this test's own (the shared one is never stopped), the embedded one npm start runs.
    const postgres = await privatePostgres();
    // One job (25 events) at a time and a 200 ms receiver: the restart lands mid-run, not after it.
    const stack = await stackOn({ env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: "1", DATABASE_URL: postgres.url } });
    const receiver = await receiverFor(() => ({ status: 200, delayMs: 200 }));
    await hook(stack, receiver, "/restart");

    const ids = await ingest(stack, 200);
    await waitFor(() => delivered(receiver, "/restart") >= 10, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: "10 deliveries before the restart",
    });
    await postgres.server.stop();
    expect(delivered(receiver, "/restart")).toBeLessThan(ids.length);
    const refused = await stack.api("POST", "/events", {
      type: "collection.created",
      collection: "orders",
      recordId: "while-away",
      data: {},
    });
    expect(refused.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    postgres.server = await startEmbeddedPostgres(postgres.dir, { auth: "trust" });
    expect(postgres.server.port).toBe(postgres.port);
    // The sweep queues the rest again an event a job; the receiver answers at once now, so that takes seconds.
    receiver.respond(() => ({ status: 200 }));

    const more = await ingest(stack, 20, 200);
    await sweepUntilCompleted(stack, [...ids, ...more]);
    expect(lossReport(`Postgres restart (${backend})`, [...ids, ...more], receiver, "/restart").lost).toBe(0);
  }, 90_000);

  it("loses nothing when the worker is killed (SIGKILL) mid-run and another takes over", async () => {
    // One job (25 events) at a time and a 100 ms receiver: the kill lands mid-run, not after it.
    const stack = await stackOn({ worker: false, env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: "1" } });
    const receiver = await receiverFor(() => ({ status: 200, delayMs: 100 }));
    await hook(stack, receiver, "/killed");
    const first = workerProcess(stack);

    const ids = await ingest(stack, 120);
    await waitFor(() => delivered(receiver, "/killed") >= 20, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: "20 deliveries before the kill",
    });
    first.kill("SIGKILL");
    await first.exited;
    const deliveredAtKill = delivered(receiver, "/killed");
    expect(deliveredAtKill).toBeLessThan(ids.length);

    const second = workerProcess(stack);
    await sweepUntilCompleted(stack, ids);
    expect(lossReport("worker SIGKILL", ids, receiver, "/killed").lost).toBe(0);
    expect(await second.stop()).toBe(0);
  });

  it("keeps each record's order and loses nothing when a worker dies mid-run, deliveries waiting", async () => {
    const stack = await stackOn({ worker: false, env: { ...FAST_RECOVERY, WORKER_CONCURRENCY: "4" } });
    // 150 ms a delivery: some in flight and many waiting in order when the kill lands.
    const receiver = await receiverFor(() => ({ status: 200, delayMs: 150 }));
    const definition = await createDefinition(stack, {
      name: "faults-ordered",
      collection: "ordered",
      type: "collection.updated",
    });
    await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/ordered`,
      ordering: "record",
      retry: { maxAttempts: 20, backoff: "fixed", delayMs: 200 },
    });
    const [first, other] = [workerProcess(stack), workerProcess(stack)];
    const ids: string[] = [];
    for (let n = 0; n < 6; n++) {
      const events = Array.from({ length: 10 }, (_, r) => ({
        type: "collection.updated",
        collection: "ordered",
        recordId: `r-${r}`,
        data: { n },
        previous: { n: n - 1 },
      }));
      ids.push(...expectStatus(await stack.api("POST", "/events/batch", { events }), 202).ids);
    }
    await waitFor(() => receiver.at("/ordered").length >= 12, {
      timeoutMs: 30_000,
      intervalMs: 10,
      what: "12 deliveries",
    });
    first.kill("SIGKILL");
    await first.exited;
    expect(receiver.at("/ordered").length).toBeLessThan(ids.length);
    const second = workerProcess(stack, { LOG_LEVEL: "info" });
    // Started before it is asked to stop: a SIGTERM before its handler is set (a slow start on a loaded
    // machine) would end it by the signal, not by its own graceful stop.
    await waitFor(() => second.output().includes("worker started"), { timeoutMs: 60_000, what: "the second worker" });
    await sweepUntilCompleted(stack, ids);

    // Per record: the first receipt of each delivery in acceptance order; a repeat only of the one in flight.
    const firstSeen = new Map<string, { record: string; n: number }>();
    const copies = new Map<string, number>();
    for (const r of receiver.at("/ordered")) {
      const id = String(r.headers["webhook-id"]);
      copies.set(id, (copies.get(id) ?? 0) + 1);
      const { recordId, data } = r.json as { recordId: string; data: { n: number } };
      if (!firstSeen.has(id)) firstSeen.set(id, { record: recordId, n: data.n });
    }
    expect(firstSeen.size).toBe(ids.length);
    const byRecord = new Map<string, number[]>();
    for (const { record, n } of firstSeen.values()) byRecord.set(record, [...(byRecord.get(record) ?? []), n]);
    for (const [record, ns] of byRecord) expect([record, ns]).toEqual([record, [0, 1, 2, 3, 4, 5]]);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(2);
    const codes = await Promise.all([other.stop(), second.stop()]);
    // A worker that did not stop within its bound says why in its own words.
    for (const [i, worker] of [other, second].entries())
      if (codes[i] !== 0) console.error(`worker exited with ${codes[i]}:\n${worker.output().slice(-4000)}`);
    expect(codes).toEqual([0, 0]);
  }, 90_000);

  it("retries while a receiver is down and delivers everything when it comes back", async () => {
    const stack = await stackOn({ env: FAST_RECOVERY });
    const first = await startReceiver();
    const port = Number(new URL(first.url).port);
    await hook(stack, first, "/down-then-up");
    await first.close();

    const ids = await ingest(stack, 15);
    await waitFor(
      async () => (await stack.deps.db.deliveryAttempt.count({ where: { errorCode: "connection_refused" } })) >= 15,
      { what: "failed attempts while the receiver is down" },
    );
    expect(
      await stack.deps.db.eventLog.count({ where: { id: { in: ids }, status: { in: ["retrying", "processing"] } } }),
    ).toBe(ids.length);

    const back = await receiverFor(undefined, port);
    await sweepUntilCompleted(stack, ids);
    expect(lossReport("receiver down", ids, back, "/down-then-up").lost).toBe(0);
  });

  it("finishes the job in flight on SIGTERM, then exits cleanly", async () => {
    const stack = await stackOn({ worker: false, env: FAST_RECOVERY });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const receiver = await receiverFor(() => ({ status: 200, until: gate }));
    await hook(stack, receiver, "/graceful");
    const worker = workerProcess(stack);

    const [id] = await ingest(stack, 1);
    await waitFor(() => receiver.at("/graceful").length === 1, { timeoutMs: 30_000, what: "the delivery to start" });
    worker.kill("SIGTERM");
    setTimeout(release, 300);
    expect(await worker.exited).toBe(0);

    const event = await stack.deps.db.eventLog.findUniqueOrThrow({ where: { id: id! } });
    expect(event.status).toBe("completed");
    expect(receiver.at("/graceful")).toHaveLength(1);
  });
});
