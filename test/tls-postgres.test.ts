// RDS Proxy requires TLS. Against a Postgres that accepts TLS connections only, with the TLS settings in
// DATABASE_URL: `npm run migrate`, Prisma's CLI (prisma.config.ts), the API and the worker all connect, and
// a plaintext connection is refused.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTetikClient } from "tetik/client";
import { refereedKy } from "./helpers/contract.ts";
import { clearQueue, QUEUE_BACKEND } from "./helpers/queue-backend.ts";
import { REDIS_URL } from "./helpers/redis.ts";
import { freePort, startProcess, type RunningProcess } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startTlsPostgres, type TlsPostgres } from "./helpers/tls-postgres.ts";
import { waitFor } from "./helpers/wait.ts";

let server: TlsPostgres;
let receiver: Receiver;
beforeAll(async () => {
  [server, receiver] = await Promise.all([startTlsPostgres(), startReceiver()]);
}, 60_000);
afterAll(async () => {
  server?.stop();
  await receiver?.close();
});

const tsx = (file: string, env: Record<string, string>) =>
  startProcess(process.execPath, ["--import", "tsx", file], { LOG_LEVEL: "warn", ...env });

describe("a TLS-only Postgres", () => {
  it("refuses a plaintext connection, so the next checks mean something", async () => {
    const client = new pg.Client({ connectionString: server.url("postgres", "sslmode=disable") });
    client.on("error", () => {});
    await expect(client.connect()).rejects.toThrow(/no pg_hba.conf entry .* no encryption/);
  });

  it("is migrated by npm run migrate and read by Prisma's CLI, then served by the API and the worker", async () => {
    const url = server.url("tetik", `sslmode=verify-full&sslrootcert=${encodeURIComponent(server.certFile)}`);
    const migrate = tsx("functions/ops/migrate.ts", { DATABASE_URL: url });
    expect(await migrate.exited, migrate.output()).toBe(0);
    expect(migrate.output()).toContain("applied");

    // Prisma's CLI (migrate status, migrate diff) connects through prisma.config.ts, with the same TLS settings.
    const { stdout } = await promisify(execFile)("node_modules/.bin/prisma", ["migrate", "status"], {
      env: { ...process.env, DATABASE_URL: url },
    });
    expect(stdout).toContain("Database schema is up to date!");

    const prefix = `tetik-tls-${randomBytes(3).toString("hex")}`;
    const port = await freePort();
    const env = {
      DATABASE_URL: url,
      REDIS_URL,
      QUEUE_BACKEND,
      QUEUE_PREFIX: prefix,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    };
    const processes: RunningProcess[] = [
      tsx("functions/server/main.ts", { ...env, PORT: String(port) }),
      tsx("functions/worker/main.ts", env),
    ];
    try {
      const tetik = createTetikClient({ baseUrl: `http://127.0.0.1:${port}`, ky: refereedKy });
      await waitFor(async () => (await tetik.health().catch(() => undefined))?.database === "up", {
        timeoutMs: 30_000,
        what: "the API to reach Postgres over TLS",
      });
      const definition = await tetik.definitions.create({ name: "tls", type: "collection.created", collection: "tls" });
      await tetik.webhooks.create({ definitionId: definition.id, url: `${receiver.url}/tls` });
      const accepted = await tetik.collection("tls").create({ over: "tls" }, { id: "t-1" });
      await waitFor(() => receiver.at("/tls").length === 1, { timeoutMs: 30_000, what: "the worker to deliver" });
      await waitFor(async () => (await tetik.events.get(accepted.eventId!)).status === "completed", {
        timeoutMs: 10_000,
        what: "the event to be completed",
      });
    } finally {
      await Promise.all(processes.map((p) => p.stop()));
      await clearQueue(prefix);
    }
  }, 120_000);
});
