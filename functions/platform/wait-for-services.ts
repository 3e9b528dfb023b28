// Before anything else runs (`npm start`, `npm run migrate`, a container's migration step): is Postgres
// there, and Redis? A missing service is named with its address and how to get it, and Postgres, which
// migrations need, is waited for (bounded) so a stack whose database comes up late still starts.
import { connect } from "node:net";
import pg from "pg";
import { Redis } from "ioredis";
import type { Logger } from "./logger.ts";
import { withTimeout } from "./timeout.ts";

const HOW_TO = {
  Postgres:
    'start it with "docker compose -f infra/docker-compose.dev.yml up -d" (needs Docker), ' +
    "or install your system's PostgreSQL " +
    '(Debian/Ubuntu: "sudo apt install postgresql", ' +
    'macOS: "brew install postgresql@15 && brew services start postgresql@15"); ' +
    "set DATABASE_URL if it runs elsewhere",
  Redis:
    'start it with "docker compose -f infra/docker-compose.dev.yml up -d" (needs Docker), ' +
    "or install your system's Redis " +
    '(Debian/Ubuntu: "sudo apt install redis-server", macOS: "brew install redis && brew services start redis"); ' +
    "set REDIS_URL if it runs elsewhere",
};

/** Host and port of a service URL, as people type them (no credentials). */
function address(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || (u.protocol.startsWith("redis") ? 6379 : 5432)}`;
}

function missing(service: "Postgres" | "Redis", url: string, error: unknown): string {
  const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
  return `${service} is not reachable at ${address(url)} (${reason}): ${HOW_TO[service]}`;
}

/** The server's own `postgres` database at the address of `url`: there before the database tetik uses. */
export function adminUrl(url: string): string {
  const admin = new URL(url);
  admin.pathname = "/postgres";
  return admin.toString();
}

/** For commands a person runs in a terminal (npm start's first steps): plain lines, not JSON logs. */
export const terminal = {
  info: (text: string) => console.log(`tetik: ${text}`),
  warn: (text: string) => console.error(`tetik: ${text}`),
};

async function reachPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl(url), connectionTimeoutMillis: 3_000 });
  client.on("error", () => {});
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => {});
  }
}

/** While a start waits for Postgres (DEPENDENCY_WAIT_MS, a minute by default), a reminder this often. */
const STARTUP_REMIND_EVERY_MS = 20_000;

/** Waits up to `waitMs` for Postgres, saying every few seconds what is missing; throws the same message at the end. */
export async function waitForPostgres(
  url: string,
  { waitMs, log, intervalMs = 1_000 }: { waitMs: number; log: Pick<Logger, "warn" | "info">; intervalMs?: number },
): Promise<void> {
  const started = Date.now();
  const deadline = started + waitMs;
  let lastSaid = 0;
  for (let tries = 1; ; tries++) {
    try {
      await reachPostgres(url);
      if (tries > 1) log.info(`Postgres is reachable at ${address(url)}`);
      return;
    } catch (error) {
      // The server answered and refused (a wrong password, no such user): waiting will not change that.
      // But a connection exception (08: RDS Proxy while its target registers), a server starting up or
      // shutting down (57P0x) or out of connections (53300) may pass: those are waited for.
      const code = (error as { code?: string }).code;
      if (code && /^[0-9A-Z]{5}$/.test(code) && !/^(08|57P0|53300)/.test(code)) {
        throw new Error(
          `Postgres at ${address(url)} refused the connection: ${(error as Error).message} (check DATABASE_URL)`,
        );
      }
      const message = missing("Postgres", url, error);
      if (Date.now() >= deadline) throw new Error(message);
      // The whole hint once; then a short reminder now and then, not the hint again every few seconds.
      const now = Date.now();
      if (lastSaid === 0 || now - lastSaid >= STARTUP_REMIND_EVERY_MS) {
        const more = `${Math.ceil((deadline - now) / 1000)} s more`;
        const downFor = Math.round((now - started) / 1000);
        log.warn(
          lastSaid === 0
            ? `${message}. Waiting for it (${more})...`
            : `Still waiting for Postgres at ${address(url)}: unreachable for ${downFor} s (${more})...`,
        );
        lastSaid = now;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/** What is wrong with Redis, or undefined when it answers a PING. */
export async function redisProblem(url: string): Promise<string | undefined> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 2_000,
  });
  // connect() rejects with "Connection is closed"; the error event has the cause (ECONNREFUSED, ...).
  let cause: unknown;
  redis.on("error", (error) => (cause ??= error));
  try {
    await withTimeout(
      redis.connect().then(() => redis.ping()),
      3_000,
      "redis",
    );
    return undefined;
  } catch (error) {
    return missing("Redis", url, cause ?? error);
  } finally {
    redis.disconnect();
  }
}

/** Whether anything accepts a TCP connection at host:port within a second (a service there, of any kind). */
export function answersAt(host: string, port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 1_000 });
    const end = (yes: boolean) => {
      socket.destroy();
      done(yes);
    };
    socket.once("connect", () => end(true));
    socket.once("timeout", () => end(false));
    socket.once("error", () => end(false));
  });
}
