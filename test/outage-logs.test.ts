// What a worker writes while Redis is down: one line when it goes, reminders at a bounded rate, one line
// when it is back (functions/platform/outage-log.ts), instead of a stack trace at every reconnection.
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { outageLog } from "../functions/platform/outage-log.ts";
import { waitForPostgres } from "../functions/platform/wait-for-services.ts";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import { sweepUntilCompleted } from "./helpers/loss.ts";
import { freePort, startWorkerProcess } from "./helpers/processes.ts";
import { itWithRedis } from "./helpers/queue-backend.ts";
import { startPrivateRedis } from "./helpers/redis-server.ts";
import { startReceiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const OUTAGE_MS = 30_000;

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch((e) => console.error(e));
});

async function ingest(stack: TestStack, from: number, count: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => ({
    type: "collection.created",
    collection: "orders",
    recordId: `o-${from + i}`,
    data: { i: from + i },
  }));
  return expectStatus(await stack.api("POST", "/events/batch", { events }), 202).ids;
}

/** The worker's lines written after `since` (pino's JSON lines carry their time; anything else counts). */
function linesSince(output: string, since: number): string[] {
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .filter((line) => {
      try {
        return Date.parse((JSON.parse(line) as { time: string }).time) >= since;
      } catch {
        return true;
      }
    });
}

// The outage is Redis's, so the queue is on Redis here whatever the suite's backend (where Redis answers).
itWithRedis(
  "a worker says once that Redis went, at most a reminder a minute, once that it is back, and delivers after",
  async () => {
    const redis = await startPrivateRedis();
    cleanups.push(() => redis.stop());
    const stack = await startStack({
      worker: false,
      redisUrl: redis.url,
      env: { QUEUE_BACKEND: "redis", SWEEP_GRACE_MS: "300", WORKER_LOCK_MS: "2000", LOG_LEVEL: "info" },
    });
    cleanups.push(() => stack.stop());
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const definition = await createDefinition(stack, { name: "outage-logs", collection: "orders" });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/outage` });

    const worker = startWorkerProcess(stack.env);
    cleanups.push(() => worker.stop());
    const before = await ingest(stack, 0, 3);
    await waitFor(() => receiver.at("/outage").length >= before.length, {
      timeoutMs: 30_000,
      what: "first deliveries",
    });

    const wentAt = Date.now();
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await redis.start(); // empty: the sweep queues again what Redis held
    await waitFor(() => /reachable again/.test(worker.output()), {
      timeoutMs: 30_000,
      what: "the worker to say Redis is back",
    });

    const after = await ingest(stack, 3, 3);
    await sweepUntilCompleted(stack, after);
    const paths = new Set(receiver.at("/outage").map((r) => (r.json as { id: string }).id));
    expect(after.filter((id) => !paths.has(id))).toEqual([]);

    const lines = linesSince(worker.output(), wentAt);
    const said = (outage: string) =>
      lines.filter((line) => line.includes('"dependency":"redis"') && line.includes(`"outage":"${outage}"`)).length;
    expect(lines.length, lines.slice(0, 8).join("\n")).toBeLessThanOrEqual(5);
    expect({ went: said("began"), back: said("ended") }).toEqual({ went: 1, back: 1 });
  },
  120_000,
);

it("an outage of five minutes, reported every second, is said when it goes, four times more and when it ends", () => {
  const written: Array<{ dependency: string; outage: string; downForS?: number }> = [];
  const log = pino({ base: undefined }, { write: (line: string) => written.push(JSON.parse(line)) });
  let now = 0;
  const outages = outageLog(log, () => now);
  for (; now < 300_000; now += 1_000) outages.down("postgres", new Error("connect ECONNREFUSED 127.0.0.1:5432"));
  outages.up("postgres");
  outages.up("redis"); // never down: nothing to say
  expect(written.map(({ dependency, outage, downForS }) => ({ dependency, outage, downForS }))).toEqual([
    { dependency: "postgres", outage: "began", downForS: undefined },
    ...[60, 120, 180, 240].map((downForS) => ({ dependency: "postgres", outage: "continues", downForS })),
    { dependency: "postgres", outage: "ended", downForS: 300 },
  ]);
});

it("a start waiting for Postgres gives its advice once, not at every try", async () => {
  const said: string[] = [];
  const port = await freePort(); // nothing listens there
  const waited = waitForPostgres(`postgres://tetik@127.0.0.1:${port}/tetik`, {
    waitMs: 6_000,
    intervalMs: 100,
    log: { info: (text: string) => said.push(text), warn: (text: string) => said.push(text) },
  });
  await expect(waited).rejects.toThrow(`Postgres is not reachable at 127.0.0.1:${port}`);
  expect(said.filter((line) => line.includes("docker compose"))).toHaveLength(1);
});
