// Starting tetik when a dependency is missing: it says which, where it looked and how to get it, and the
// processes wait for what comes up late instead of exiting.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVER_URL } from "./helpers/database.ts";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import { freePort, startProcess } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startPrivateRedis } from "./helpers/redis-server.ts";
import { itWithRedis } from "./helpers/queue-backend.ts";
import { startStack } from "./helpers/stack.ts";
import { startTcpProxy } from "./helpers/tcp-proxy.ts";
import { waitFor } from "./helpers/wait.ts";

const tsx = (file: string, env: Record<string, string>) =>
  startProcess(process.execPath, ["--import", "tsx", file], { LOG_LEVEL: "info", ...env });
const postgres = { host: "127.0.0.1", port: Number(new URL(SERVER_URL).port || 5432) };

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver?.close());

describe("a missing dependency at start", () => {
  it("npm run migrate names Postgres, its address and how to get it, " +
    "waits, and migrates once it comes up", async () => {
    const port = await freePort();
    const name = `tetik_late_${randomBytes(4).toString("hex")}`;
    const migrate = tsx("functions/ops/migrate.ts", {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${port}/${name}`,
      DEPENDENCY_WAIT_MS: "60000",
    });
    await waitFor(() => migrate.output().includes("Postgres is not reachable"), {
      timeoutMs: 20_000,
      what: "the migration to say Postgres is missing",
    });
    expect(migrate.output()).toContain(
      `Postgres is not reachable at 127.0.0.1:${port} (ECONNREFUSED): ` +
        'start it with "docker compose -f infra/docker-compose.dev.yml up -d"',
    );
    const proxy = await startTcpProxy(port, postgres);
    try {
      expect(await migrate.exited).toBe(0);
      expect(migrate.output()).toContain(`Postgres is reachable at 127.0.0.1:${port}`);
    } finally {
      await proxy.close();
      const stack = await startStack({ worker: false });
      await stack.owner.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => stack.stop());
    }
  }, 60_000);

  it("gives up after DEPENDENCY_WAIT_MS, and only warns about a missing Redis", async () => {
    const [pgPort, redisPort] = [await freePort(), await freePort()];
    const noPostgres = tsx("functions/ops/preflight.ts", {
      DATABASE_URL: `postgresql://postgres@127.0.0.1:${pgPort}/tetik`,
      DEPENDENCY_WAIT_MS: "1000",
    });
    expect(await noPostgres.exited).toBe(1);
    expect(noPostgres.output()).toContain("Gave up (DEPENDENCY_WAIT_MS is 1 s).");

    // A server that answers and refuses is not waited for: the reason is its own.
    const wrongUser = tsx("functions/ops/preflight.ts", {
      DATABASE_URL: `${SERVER_URL.replace("postgres@", "nobody_here@")}/tetik`,
      DEPENDENCY_WAIT_MS: "60000",
    });
    expect(await wrongUser.exited).toBe(1);
    expect(wrongUser.output()).toMatch(
      new RegExp(
        `Postgres at 127\\.0\\.0\\.1:${postgres.port} refused the connection: .*nobody_here.* \\(check DATABASE_URL\\)`,
      ),
    );

    const noRedis = tsx("functions/ops/preflight.ts", {
      DATABASE_URL: `${SERVER_URL}/postgres`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    expect(await noRedis.exited).toBe(0);
    expect(noRedis.output()).toContain(
      `Redis is not reachable at 127.0.0.1:${redisPort} (ECONNREFUSED): start it with`,
    );
    expect(noRedis.output()).toContain(
      "Starting anyway: the API accepts events (they wait in Postgres) and the worker waits for Redis.",
    );
  }, 60_000);

  itWithRedis(
    "the API and the worker wait for Postgres and Redis that come up late, then deliver; " +
      "the worker's heartbeat (its container's health) waits for both",
    async () => {
      const stack = await startStack({ worker: false }); // a database and queue prefix of this test's own
      const redis = await startPrivateRedis();
      await redis.stop();
      const pgPort = await freePort();
      const apiPort = await freePort();
      const env = {
        ...stack.env,
        DATABASE_URL: stack.env.DATABASE_URL!.replace(/:\d+\//, `:${pgPort}/`),
        REDIS_URL: redis.url,
      };
      const api = tsx("functions/server/main.ts", { ...env, PORT: String(apiPort) });
      const heartbeat = join(mkdtempSync(join(tmpdir(), "tetik-heartbeat-")), "beat");
      const worker = tsx("functions/worker/main.ts", { ...env, WORKER_HEARTBEAT_FILE: heartbeat, LOG_LEVEL: "info" });
      let proxy: Awaited<ReturnType<typeof startTcpProxy>> | undefined;
      try {
        const health = async () => (await fetch(`http://127.0.0.1:${apiPort}/health`).catch(() => undefined))?.status;
        await waitFor(async () => (await health()) === 503, {
          timeoutMs: 30_000,
          what: "the API to answer 503 while both are down",
        });
        await new Promise((r) => setTimeout(r, 1500));
        expect(api.output() + worker.output()).not.toMatch(/exited|Unhandled/);

        // Redis first: the worker connects, but a task that cannot reach its database is not healthy yet.
        await redis.start();
        await waitFor(() => worker.output().includes("redis reachable again"), {
          timeoutMs: 10_000,
          what: "the worker to reach Redis",
        });
        await new Promise((r) => setTimeout(r, 3000));
        expect(existsSync(heartbeat)).toBe(false);

        proxy = await startTcpProxy(pgPort, postgres);
        await waitFor(async () => (await health()) === 200, {
          timeoutMs: 30_000,
          what: "the API to see Postgres and Redis",
        });
        await waitFor(() => existsSync(heartbeat), { timeoutMs: 15_000, what: "the worker's heartbeat" });
        const def = await createDefinition(stack, { name: "late", collection: "late" });
        await createWebhook(stack, { definitionId: def.id, url: `${receiver.url}/late` });
        const res = await fetch(`http://127.0.0.1:${apiPort}/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ type: "collection.created", collection: "late", recordId: "l-1", data: {} }),
        });
        expect(res.status).toBe(202);
        await waitFor(() => receiver.at("/late").length === 1, { timeoutMs: 30_000, what: "the worker to deliver" });
      } finally {
        await Promise.all([api.stop(), worker.stop()]);
        await proxy?.close();
        await redis.stop();
        await stack.stop();
      }
    },
    120_000,
  );
});
