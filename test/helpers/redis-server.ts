// A Redis server of the test's own, on a free port, for tests that stop, restart or flush Redis: the
// shared server on 6379 is never touched that way.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { freePort } from "./processes.ts";
import { waitFor } from "./wait.ts";

export interface PrivateRedis {
  /** With the password in it, when the server has one. */
  url: string;
  /** Stops the server (its data is gone: nothing is saved). */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  flushAll(): Promise<void>;
}

/** `password`: the server requires it (AUTH), as ElastiCache with an auth token does. */
export async function startPrivateRedis({ password }: { password?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tetik-redis-"));
  const url = password ? `redis://:${encodeURIComponent(password)}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`;
  const auth = password ? ["--requirepass", password] : [];
  let child: ChildProcess | undefined;

  const ping = async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {}); // a refused connection is the answer "not yet"
    try {
      await client.connect();
      return (await client.ping()) === "PONG";
    } finally {
      client.disconnect();
    }
  };

  const server: PrivateRedis = {
    url,
    async start() {
      child = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, ...auth],
        { stdio: "ignore" },
      );
      await waitFor(ping, { timeoutMs: 10_000, what: `redis-server on ${port}` });
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
    async flushAll() {
      const client = new Redis(url);
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
  };
  await server.start();
  return server;
}
