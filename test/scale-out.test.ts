// Several worker processes on one queue (with a Redis Cluster hash-tag prefix), one of them the bundled
// program the container runs: every event is delivered, and in normal operation exactly once (BullMQ never
// gives one job to two workers at once).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import { lossReport } from "./helpers/loss.ts";
import { startProcess, startWorkerProcess, type RunningProcess } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let stack: TestStack;
let receiver: Receiver;
const workers: RunningProcess[] = [];

beforeAll(async () => {
  // A hash tag keeps all of the queue's keys in one slot, as Redis Cluster requires.
  [stack, receiver] = await Promise.all([
    startStack({
      worker: false,
      env: { QUEUE_PREFIX: `{tetik-scale-${randomBytes(3).toString("hex")}}`, WORKER_CONCURRENCY: "2" },
    }),
    // Two jobs at a time per worker and a receiver that takes 20 ms: no single worker can take all the work.
    startReceiver(() => ({ status: 200, delayMs: 20 })),
  ]);
  await promisify(execFile)(process.execPath, ["--import", "tsx", "infra/build.ts"], { timeout: 120_000 });
  // debug: each worker logs the events it processes, so the test can see the work was shared.
  const env = { ...stack.env, LOG_LEVEL: "debug" };
  workers.push(startProcess(process.execPath, ["dist/worker.mjs"], env));
  workers.push(startWorkerProcess(env), startWorkerProcess(env));
  // All three listening before any event arrives, so the work is shared.
  await waitFor(() => workers.every((w) => w.output().includes("worker started")), {
    timeoutMs: 60_000,
    what: "three workers",
  });
}, 180_000);

afterAll(async () => {
  const codes = await Promise.all(workers.map((w) => w.stop()));
  await Promise.all([stack?.stop(), receiver?.close()]);
  for (const [i, code] of codes.entries())
    if (code !== 0) console.error(`worker ${i} exited with ${code}:\n${workers[i]!.output().slice(-3000)}`);
  expect(codes).toEqual([0, 0, 0]);
}, 60_000);

describe("scale-out", () => {
  it("delivers every event exactly once with three workers on one queue", async () => {
    const definition = await createDefinition(stack, { name: "scale", collection: "orders" });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/scale` });
    const ids: string[] = [];
    for (let batch = 0; batch < 6; batch++) {
      const events = Array.from({ length: 50 }, (_, i) => ({
        type: "collection.created",
        collection: "orders",
        recordId: `s${batch}-${i}`,
        data: {},
      }));
      ids.push(...expectStatus(await stack.api("POST", "/events/batch", { events }), 202).ids);
    }
    const completed = () => stack.deps.db.eventLog.count({ where: { collection: "orders", status: "completed" } });
    await waitFor(async () => (await completed()) === ids.length, {
      timeoutMs: 60_000,
      what: "every event to be completed",
    });
    const { lost, duplicates } = lossReport("three workers", ids, receiver, "/scale");
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(await stack.deps.db.deliveryAttempt.count()).toBe(ids.length);
    const busy = workers.filter((w) => w.output().includes("event matched")).length;
    expect(busy).toBeGreaterThanOrEqual(2);
  });
});
