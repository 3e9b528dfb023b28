// The only reader of process.env (but for aws-secrets.ts, which fills it with secrets in AWS first). Parsed
// once at boot; a bad value stops the process with a clear message.
import { z } from "zod";
import { parseSecretsKey } from "./secret-box.ts";

const bool = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** Where Postgres is looked for when DATABASE_URL is not set. */
export const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tetik";

const schema = z.object({
  DATABASE_URL: z.string().url().default(DEFAULT_DATABASE_URL),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Passwords given apart from their URLs (in AWS they come from Secrets Manager): put into the URLs. */
  DATABASE_PASSWORD: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  PORT: int(1, 65535).default(3000),
  /** At least 16 characters: a short key is guessed (sign-in and every route take it). */
  API_KEY: z.string().min(16, "at least 16 characters (make one with: openssl rand -base64 24)").optional(),
  /** A second bearer token that opens GET /metrics only (for a Prometheus that should not hold the API key). */
  METRICS_TOKEN: z.string().min(1).optional(),
  /** Set by serverless offline in the functions it runs (see functions/dashboard/session.ts). */
  IS_OFFLINE: z.enum(["true", "false"]).optional(),
  /** The worker serves its own /metrics on this port; off when unset. */
  WORKER_METRICS_PORT: int(1, 65535).optional(),
  /** Encrypts webhook secrets at rest (AES-256-GCM); without it they are stored as they are. */
  SECRETS_KEY: z
    .string()
    .refine(
      (text) => parseSecretsKey(text) !== undefined,
      "must be the base64 of 32 random bytes (openssl rand -base64 32)",
    )
    .optional(),
  /** Keys that sealed secrets before the last rotation of SECRETS_KEY (comma-separated), for reading only. */
  SECRETS_KEY_PREVIOUS: z
    .string()
    .transform((text) =>
      text
        .split(",")
        .map((key) => key.trim())
        .filter(Boolean),
    )
    .refine(
      (keys) => keys.every((key) => parseSecretsKey(key) !== undefined),
      "each key must be the base64 of 32 random bytes",
    )
    .optional(),
  /** Jobs in flight per worker process; one job carries up to 25 events, whose deliveries run at once. */
  WORKER_CONCURRENCY: int(1, 1000).default(100),
  /** A job whose worker stops renewing its lock this long is handed to another worker (BullMQ stalled jobs). */
  WORKER_LOCK_MS: int(1000).default(30_000),
  WEBHOOK_TIMEOUT_MS: int(1, 300_000).default(10_000),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: bool.default(false),
  /**
   * The longest a test delivery (POST /webhooks/{id}/test) waits for the receiver, whatever the webhook's
   * timeout: API Gateway stops waiting for a function at 30 s.
   */
  WEBHOOK_TEST_TIMEOUT_MS: int(100, 300_000).default(25_000),
  /** Longest wait between two attempts of one delivery, Retry-After included. */
  WEBHOOK_MAX_RETRY_DELAY_MS: int(1).default(3_600_000),
  TRIGGER_MAX_DEPTH: int(0, 100).default(5),
  /** Most records one update or delete trigger may touch for one event; more fails the action. */
  TRIGGER_MAX_RECORDS: int(1, 1_000_000).default(10_000),
  /** Most events the triggers of one chain may write in all; unset: LIMITS.chainEvents (domain/limits.ts). */
  TRIGGER_MAX_CHAIN_EVENTS: int(1, 100_000_000).optional(),
  /** How long a filtered list's statement may run; unset: LIMITS.listQueryMs (domain/limits.ts). */
  LIST_QUERY_TIMEOUT_MS: int(1, 300_000).optional(),
  SWEEP_INTERVAL_MS: int(100).default(60_000),
  /** Work older than this with no sign of life is handed to the queue again by the sweep. */
  SWEEP_GRACE_MS: int(0).default(30_000),
  SWEEP_BATCH_SIZE: int(1, 10_000).default(500),
  /**
   * How long a worker's claim on an event outlasts the longest webhook timeout, before the sweep may give
   * it to another.
   */
  EVENT_LEASE_MS: int(1000).default(30_000),
  LOG_RETENTION_DAYS: int(1).default(30),
  /** Audit entries older than this are deleted by the sweep. */
  AUDIT_RETENTION_DAYS: int(1).default(365),
  /**
   * The password `npm run migrate` and the migrate function give the role tetik_app (in AWS from its own
   * secret; app-role.ts). Unset: the role keeps the password it has.
   */
  APP_DATABASE_PASSWORD: z.string().min(1).optional(),
  /** How long `npm run migrate` may run in all (the one-off task of a long migration sets hours). */
  MIGRATE_TIMEOUT_MS: int(1000).default(15 * 60_000),
  /** How long `npm start`, `npm run migrate` and a container's migration step wait for Postgres to come up. */
  DEPENDENCY_WAIT_MS: int(0).default(60_000),
  /** When set, the worker touches this file every 10 s while it runs: the container's health check reads it. */
  WORKER_HEARTBEAT_FILE: z.string().min(1).optional(),
  /** When set (in AWS), the sweep publishes the queue's depth to CloudWatch under this namespace. */
  METRICS_NAMESPACE: z.string().min(1).optional(),
  /** BullMQ key prefix; wrap it in braces (e.g. "{tetik}") on Redis Cluster. */
  QUEUE_PREFIX: z.string().min(1).default("tetik"),
  /** Where the queue lives: Redis, or BullMQ's Postgres backend in DATABASE_URL's database (no Redis at all). */
  QUEUE_BACKEND: z.enum(["redis", "postgres"]).default("redis"),
  /**
   * Where the Postgres queue connects, when not DATABASE_URL: the database itself where DATABASE_URL goes
   * through a pooler (RDS Proxy, PgBouncer), since the queue's workers LISTEN and set their schema when they
   * connect. DATABASE_PASSWORD goes into it as into DATABASE_URL.
   */
  QUEUE_DATABASE_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Config = Omit<z.infer<typeof schema>, "DATABASE_PASSWORD" | "REDIS_PASSWORD" | "QUEUE_DATABASE_URL"> & {
  QUEUE_DATABASE_URL: string;
};

/** Parses configuration from an environment; empty strings count as unset. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  const { DATABASE_PASSWORD, REDIS_PASSWORD, ...settings } = parsed.data;
  return {
    ...settings,
    DATABASE_URL: withPassword(settings.DATABASE_URL, DATABASE_PASSWORD),
    REDIS_URL: withPassword(settings.REDIS_URL, REDIS_PASSWORD),
    QUEUE_DATABASE_URL: withPassword(settings.QUEUE_DATABASE_URL ?? settings.DATABASE_URL, DATABASE_PASSWORD),
  };
}

/** `url` with `password` in it (the URL setter escapes what a URL cannot hold as it is). */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/** Whether the environment names its own Postgres or Redis (then `npm start` never runs the embedded one). */
export function servicesNamed(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DATABASE_URL || env.REDIS_URL);
}

/** The queue beside an embedded Postgres: in it, unless QUEUE_BACKEND asks for Redis. */
export function embeddedQueueBackend(env: NodeJS.ProcessEnv = process.env): "redis" | "postgres" {
  return env.QUEUE_BACKEND === "redis" ? "redis" : "postgres";
}

let cached: Config | undefined;

/** The process's configuration, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
