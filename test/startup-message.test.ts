// RDS Proxy refuses a connection whose startup message carries an option it does not know ("Feature not
// supported: RDS Proxy currently doesn't support the option statement_timeout", SQLSTATE 0A000), and in AWS
// every connection of tetik goes through it. Plain Postgres accepts any option, so only a listener that
// reads the startup message can tell: this one answers as the proxy does, and each way tetik connects
// (the app's pool, Prisma on it, the migration runner, the start-up wait) is pointed at it.
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../functions/platform/config.ts";
import { closeDeps, createDeps } from "../functions/platform/deps.ts";
import { applyMigrations } from "../functions/platform/migrate.ts";
import { waitForPostgres } from "../functions/platform/wait-for-services.ts";

/**
 * The parameters RDS Proxy takes in a PostgreSQL startup message (AWS, "Connecting to a proxy":
 * user and database, and the runtime parameters application_name, client_encoding, DateStyle, TimeZone,
 * extra_float_digits, search_path). Anything else is refused.
 */
const PROXY_ACCEPTS = new Set([
  "user",
  "database",
  "application_name",
  "client_encoding",
  "DateStyle",
  "TimeZone",
  "extra_float_digits",
  "search_path",
]);

const SSL_REQUEST = 80877103;
const PROTOCOL_3 = 196608;

/** A listener that reads startup messages as RDS Proxy does and refuses each connection after it. */
interface ProxyLike {
  url(database: string): string;
  /** The parameters of every startup message received, in order. */
  startups: Array<Record<string, string>>;
  close(): Promise<void>;
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, "utf8");
  const head = Buffer.alloc(5);
  head.write("E", 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

async function startProxyLike(): Promise<ProxyLike> {
  const startups: ProxyLike["startups"] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 8) {
        const length = buffered.readInt32BE(0);
        if (buffered.length < length) return;
        const code = buffered.readInt32BE(4);
        const body = buffered.subarray(8, length);
        buffered = buffered.subarray(length);
        if (code === SSL_REQUEST) {
          socket.write("N"); // no TLS here: the startup message follows in the clear
          continue;
        }
        if (code !== PROTOCOL_3) return socket.destroy();
        const parts = body.toString("utf8").split("\0");
        const params: Record<string, string> = {};
        for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) params[parts[i]!] = parts[i + 1]!;
        startups.push(params);
        const refused = Object.keys(params).find((key) => !PROXY_ACCEPTS.has(key));
        socket.end(
          refused
            ? errorResponse("0A000", `Feature not supported: RDS Proxy currently doesn't support the option ${refused}`)
            : // What a proxy says while its target is not yet available: enough for this test, which stops here.
              errorResponse("08006", "the proxy-like listener of the test accepts no session"),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (database) => `postgresql://tetik_app:pw@127.0.0.1:${port}/${database}?sslmode=disable`,
    startups,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let proxy: ProxyLike;
beforeAll(async () => {
  proxy = await startProxyLike();
});
afterAll(() => proxy?.close());

/** Runs `connect` (expected to fail at this listener) and answers the startup messages it sent. */
async function startupsOf(connect: () => Promise<unknown>): Promise<Array<Record<string, string>>> {
  const before = proxy.startups.length;
  await connect().then(
    () => expect.unreachable("the listener accepts no session"),
    () => {},
  );
  const sent = proxy.startups.slice(before);
  expect(sent.length, "no startup message reached the listener").toBeGreaterThan(0);
  return sent;
}

const refusedOptions = (startups: Array<Record<string, string>>) =>
  startups.flatMap((params) => Object.keys(params).filter((key) => !PROXY_ACCEPTS.has(key)));

describe("every connection tetik opens carries only startup parameters RDS Proxy accepts", () => {
  it("the listener refuses as the proxy does, so the checks below mean something", async () => {
    // The pool of before: statement_timeout in every startup message, each connection refused with 0A000.
    const old = new pg.Pool({ connectionString: proxy.url("tetik"), statement_timeout: 30_000 });
    const sent = await startupsOf(() => old.query("SELECT 1"));
    await old.end();
    expect(refusedOptions(sent)).toEqual(["statement_timeout"]);
    const client = new pg.Client({ connectionString: `${proxy.url("tetik")}&options=-c%20search_path%3Dx` });
    await expect(client.connect()).rejects.toMatchObject({
      code: "0A000",
      message: "Feature not supported: RDS Proxy currently doesn't support the option options",
    });
  });

  it("the pool of the API, the worker and the sweep, and Prisma on it", async () => {
    const deps = createDeps(loadConfig({ DATABASE_URL: proxy.url("tetik"), LOG_LEVEL: "silent" }), "test", 2);
    try {
      const sent = [
        ...(await startupsOf(() => deps.pool.query("SELECT 1"))),
        ...(await startupsOf(() => deps.db.$queryRaw`SELECT 1`)),
      ];
      expect(refusedOptions(sent)).toEqual([]);
      expect(sent[0]).toMatchObject({ user: "tetik_app", database: "tetik" });
    } finally {
      await closeDeps(deps);
    }
  });

  it("all but the Postgres queue, which sets its schema at connect and so goes to QUEUE_DATABASE_URL", async () => {
    const database = await startProxyLike();
    const settings = { DATABASE_URL: proxy.url("tetik"), QUEUE_BACKEND: "postgres", LOG_LEVEL: "silent" };
    const onProxy = createDeps(loadConfig(settings), "test", 2);
    const direct = createDeps(loadConfig({ ...settings, QUEUE_DATABASE_URL: database.url("tetik") }), "test", 2);
    try {
      // On the proxy, the queue's connections would be refused for their `options`...
      expect(refusedOptions(await startupsOf(() => onProxy.queue.ping()))).toContain("options");
      // ...so QUEUE_DATABASE_URL takes them to the database itself, while the pool and Prisma stay on the proxy.
      const before = proxy.startups.length;
      await direct.queue.ping().catch(() => {});
      expect(proxy.startups.length).toBe(before);
      expect(database.startups.some((params) => params.options?.includes("search_path"))).toBe(true);
      expect(refusedOptions(await startupsOf(() => direct.pool.query("SELECT 1")))).toEqual([]);
    } finally {
      await Promise.all([closeDeps(onProxy), closeDeps(direct)]);
      await database.close();
    }
  });

  it("the migration runner (the migrate function, npm run migrate) and the wait for Postgres before it", async () => {
    const sent = [
      ...(await startupsOf(() => applyMigrations(proxy.url("tetik"), [], { create: false }))),
      ...(await startupsOf(() => applyMigrations(proxy.url("tetik"), [], { create: true }))),
      ...(await startupsOf(() => waitForPostgres(proxy.url("tetik"), { waitMs: 0, log: { info() {}, warn() {} } }))),
    ];
    expect(refusedOptions(sent)).toEqual([]);
    expect(sent.map((params) => params.database)).toEqual(["tetik", "postgres", "postgres"]);
  });

  it("waits through a proxy's connection exceptions (08xxx), and not through a refusal", async () => {
    const quiet = { info() {}, warn() {} };
    const before = proxy.startups.length;
    const started = Date.now();
    await expect(waitForPostgres(proxy.url("tetik"), { waitMs: 1_500, intervalMs: 100, log: quiet })).rejects.toThrow(
      /Postgres is not reachable at 127\.0\.0\.1:\d+ \(08006\)/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(proxy.startups.length - before).toBeGreaterThan(3);

    const refused = proxy.startups.length;
    await expect(
      waitForPostgres(`${proxy.url("tetik")}&options=-c%20jit%3Doff`, { waitMs: 5_000, intervalMs: 100, log: quiet }),
    ).rejects.toThrow(/refused the connection: Feature not supported/);
    expect(proxy.startups.length - refused).toBe(1);
  });
});
