// The code that runs only in AWS, on real parts: a Postgres that wants TLS and a password (as RDS Proxy
// does), a Redis that wants its auth token (as ElastiCache does), and Secrets Manager and CloudFormation's
// response URLs served on 127.0.0.1 (test/helpers/fake-aws.ts). The Lambda handlers are called as Lambda
// calls them; their environment holds no secret, only where to read them (AWS_SECRETS).
import { randomBytes, randomUUID } from "node:crypto";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { LambdaContext } from "hono/aws-lambda";
import type { lambdaHandler } from "../functions/http/lambda-handler.ts";
import { applyMigrations, parseMigration, readMigrations } from "../functions/platform/migrate.ts";
import { createJobQueue } from "../functions/platform/queue.ts";
import { expectError, expectStatus, type ApiAnswer } from "./helpers/api-types.ts";
import { checkAgainstDocument } from "./helpers/contract.ts";
import { startFakeAws, type FakeAws } from "./helpers/fake-aws.ts";
import { clearQueuePrefix } from "./helpers/redis.ts";
import { startPrivateRedis, type PrivateRedis } from "./helpers/redis-server.ts";
import { startTlsPostgres, type TlsPostgres } from "./helpers/tls-postgres.ts";
import { waitFor } from "./helpers/wait.ts";

const ARN = (name: string) => `arn:aws:secretsmanager:eu-central-1:123456789012:secret:tetik-${name}-AbCdEf`;
const DATABASE_SECRET = ARN("database");
const APP_DATABASE_SECRET = ARN("app-database");
const CACHE_SECRET = ARN("cache");
const API_KEY_SECRET = ARN("api-key");
const SECRETS_KEY_SECRET = ARN("secrets-key");
const SECRETS_KEY_PREVIOUS_SECRET = ARN("secrets-key-previous");
// Long enough that two requests in a row fall inside one retry interval even on a loaded machine.
const REFRESH_MS = 4_000;
const REDIS_TOKEN = "redis-auth-token-0123456789";
const PREFIX = `tetik-aws-${randomUUID().slice(0, 6)}`;

let aws: FakeAws;
let postgres: TlsPostgres;
let redis: PrivateRedis;
let tls: string;

/** As `postgres` (trusted on this server): sets things up and looks at the rows. */
async function asAdmin<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgres.url(database, tls) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** What the master user `tetik` may log in with, in Postgres and in its secret. */
async function setDatabasePassword(password: string) {
  await asAdmin("postgres", (c) => c.query(`ALTER ROLE tetik PASSWORD '${password}'`));
  aws.secrets.set(DATABASE_SECRET, { username: "tetik", password });
}

/** The app role's password in Postgres and in its secret, as a rotation leaves them (README, Rotating secrets). */
async function setAppPassword(password: string) {
  await asAdmin("postgres", (c) => c.query(`ALTER ROLE tetik_app PASSWORD '${password}'`));
  aws.secrets.set(APP_DATABASE_SECRET, { username: "tetik_app", password });
}

/** Connects as tetik_app with `password` (SCRAM over TLS, as through RDS Proxy) and runs `work`. */
async function asApp<T>(password: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgres.url("tetik", tls, `tetik_app:${password}`) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Where serverless.yml tells a function its secrets are (AWS_SECRETS) and which user it is. */
const MIGRATE_ENV = () => ({
  DATABASE_URL: postgres.url("tetik", tls, "tetik"),
  AWS_SECRETS: `DATABASE_PASSWORD=${DATABASE_SECRET}#password,APP_DATABASE_PASSWORD=${APP_DATABASE_SECRET}#password`,
});
/** The events function's: it stores no webhook secret, so it has no SECRETS_KEY. */
const API_ENV = () => ({
  DATABASE_URL: postgres.url("tetik", tls, "tetik_app"),
  AWS_SECRETS:
    `DATABASE_PASSWORD=${APP_DATABASE_SECRET}#password,REDIS_PASSWORD=${CACHE_SECRET}#token,` +
    `API_KEY=${API_KEY_SECRET}#apiKey`,
});

beforeAll(async () => {
  [aws, postgres, redis] = await Promise.all([
    startFakeAws(),
    startTlsPostgres({ passwords: true }),
    startPrivateRedis({ password: REDIS_TOKEN }),
  ]);
  tls = `sslmode=verify-full&sslrootcert=${encodeURIComponent(postgres.certFile)}`;
  // What RDS makes from the template: the master user and its database (DBName).
  await asAdmin("postgres", async (c) => {
    // RDS's master user may make roles (the migrations make tetik_app), but is no superuser.
    await c.query("CREATE ROLE tetik LOGIN CREATEROLE");
    await c.query("CREATE DATABASE tetik OWNER tetik");
  });
  await setDatabasePassword("first-password");
  aws.secrets.set(APP_DATABASE_SECRET, { username: "tetik_app", password: "app-password-1" });
  aws.secrets.set(CACHE_SECRET, { token: REDIS_TOKEN });
  aws.secrets.set(API_KEY_SECRET, { apiKey: "first-api-key-0123456" });
  // As CloudFormation generates it: no previous key until a rotation.
  aws.secrets.set(SECRETS_KEY_SECRET, { secretsKey: "qGcTKeJjJ1M3r9QxXvQFx6sQzCjS1m0oQpLb2xVj3aE" });
  aws.secrets.set(SECRETS_KEY_PREVIOUS_SECRET, { previous: "" });

  // As serverless.yml sets it in AWS: no password in a URL, no key; where the secrets are.
  Object.assign(process.env, {
    REDIS_URL: redis.url.replace(/:[^:@/]*@/, ""),
    SECRETS_REFRESH_MS: String(REFRESH_MS),
    QUEUE_PREFIX: PREFIX,
    AWS_REGION: "eu-central-1",
    AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
    AWS_ACCESS_KEY_ID: "AKIAFAKEFORTESTS0000",
    AWS_SECRET_ACCESS_KEY: "fake-secret-for-tests",
  });
  for (const name of ["API_KEY", "SECRETS_KEY", "DATABASE_PASSWORD", "REDIS_PASSWORD", "AWS_PROFILE"])
    delete process.env[name];
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([aws?.close(), redis?.stop()]);
  postgres?.stop();
});

describe("the migrate function (CloudFormation's Migrations custom resource)", () => {
  beforeAll(() => Object.assign(process.env, MIGRATE_ENV()));
  const request = (type: "Create" | "Update" | "Delete", answerTo: string) => ({
    RequestType: type,
    ResponseURL: aws.responseUrl(answerTo),
    StackId: "arn:aws:cloudformation:eu-central-1:123456789012:stack/tetik-test/1",
    RequestId: randomUUID(),
    LogicalResourceId: "Migrations",
    ...(type === "Create" ? {} : { PhysicalResourceId: "tetik-migrations" }),
    ResourceType: "Custom::Migrations",
  });

  it(
    "applies the migrations with the password from Secrets Manager, answers SUCCESS, " +
      "and applies nothing the second time",
    async () => {
      const { handler } = await import("../functions/ops/migrate-handler.ts");
      await handler(request("Create", "create"));
      const [created] = aws.answers("create");
      if (!created) throw new Error("the handler answered nothing to CloudFormation");
      const migrations = readMigrations();
      expect(created).toMatchObject({
        Status: "SUCCESS",
        PhysicalResourceId: "tetik-migrations",
        LogicalResourceId: "Migrations",
        Data: { Applied: migrations.length },
      });
      // The pre-signed URL is signed for no content type: any other would be refused by S3.
      expect(["", undefined]).toContain(created.contentType);
      const applied = await asAdmin("tetik", (c) =>
        c.query(`SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL ORDER BY 1`),
      );
      expect(applied.rows.map((r) => r.migration_name)).toEqual(migrations.map((m) => m.name));

      await handler(request("Update", "update"));
      expect(aws.answers("update")).toEqual([
        expect.objectContaining({
          Status: "SUCCESS",
          Reason: "applied: nothing (up to date)",
          Data: { Applied: 0, LeftForTask: 0 },
        }),
      ]);
    },
  );

  it(
    "makes the role the functions and workers connect as: its password from its own secret, " +
      "rows but no DDL, its timeouts on the role",
    async () => {
      const role = await asApp("app-password-1", async (c) => ({
        timeout: (await c.query("SHOW statement_timeout")).rows[0].statement_timeout,
        idle: (await c.query("SHOW idle_in_transaction_session_timeout")).rows[0].idle_in_transaction_session_timeout,
        rows: (await c.query("SELECT count(*)::int AS n FROM event_log")).rows[0].n,
        ddl: await c.query("CREATE TABLE not_yours (id int)").then(
          () => "allowed",
          (error: { code: string }) => error.code,
        ),
        migrations: await c.query(`SELECT 1 FROM "_prisma_migrations"`).then(
          () => "readable",
          (error: { code: string }) => error.code,
        ),
      }));
      expect(role).toEqual({ timeout: "30s", idle: "1min", rows: 0, ddl: "42501", migrations: "42501" });
      // The master user is no longer needed by anything but the migrations.
      const [stored] = (
        await asAdmin("postgres", (c) => c.query(`SELECT rolpassword FROM pg_authid WHERE rolname = 'tetik_app'`))
      ).rows;
      // The password never reached the server as such: a SCRAM verifier did.
      expect(stored.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    },
  );

  it("invoked directly after a new app password was put into the secret, gives it to the role", async () => {
    const { handler } = await import("../functions/ops/migrate-handler.ts");
    aws.secrets.set(APP_DATABASE_SECRET, { username: "tetik_app", password: "app-password-2" });
    try {
      expect(await handler({})).toEqual({ ok: true, summary: "applied: nothing (up to date)" });
      expect(await asApp("app-password-2", async (c) => (await c.query("SELECT current_user AS u")).rows[0].u)).toBe(
        "tetik_app",
      );
      await expect(asApp("app-password-1", async () => "in")).rejects.toMatchObject({ code: "28P01" });
    } finally {
      await setAppPassword("app-password-1");
    }
  });

  it("leaves a run-as-task migration, and all after it, to the one-off task, and says so", async () => {
    const database = `tetik_task_${randomBytes(3).toString("hex")}`;
    await asAdmin("postgres", (c) => c.query(`CREATE DATABASE ${database} OWNER tetik`));
    const url = postgres.url(database, tls, "tetik:first-password");
    const migrations = [
      parseMigration("1_quick", "CREATE TABLE quick (id int)"),
      parseMigration(
        "2_long",
        "-- tetik:run-as-task\n-- tetik:no-transaction\nCREATE INDEX CONCURRENTLY ON quick (id)",
      ),
      parseMigration("3_after", "CREATE TABLE after_long (id int)"),
    ];
    expect(await applyMigrations(url, migrations, { create: false, stopBeforeTask: true })).toEqual({
      applied: ["1_quick"],
      leftForTask: ["2_long", "3_after"],
    });
    // The task (npm run migrate) applies the rest.
    expect(await applyMigrations(url, migrations, { create: false })).toEqual({
      applied: ["2_long", "3_after"],
      leftForTask: [],
    });
  });

  it(
    "answers FAILED with Postgres's reason when it cannot migrate " +
      "(CloudFormation rolls back instead of waiting an hour)",
    async () => {
      const { handler } = await import("../functions/ops/migrate-handler.ts");
      aws.secrets.set(DATABASE_SECRET, { username: "tetik", password: "not-the-password" });
      try {
        await handler(request("Update", "failed"));
      } finally {
        await setDatabasePassword("first-password");
      }
      expect(aws.answers("failed")).toEqual([
        expect.objectContaining({
          Status: "FAILED",
          Reason: expect.stringContaining('password authentication failed for user "tetik"'),
        }),
      ]);
    },
  );

  it("answers FAILED before the function's time is up when another run holds the lock", async () => {
    const { handler } = await import("../functions/ops/migrate-handler.ts");
    const holder = new pg.Client({ connectionString: postgres.url("tetik", tls) });
    await holder.connect();
    const started = Date.now();
    try {
      await holder.query("SELECT pg_advisory_lock(72707369)");
      // 20 s left: 15 s are kept for answering, so the work must stop after about 5 s.
      await handler(request("Update", "late"), { getRemainingTimeInMillis: () => 20_000 });
    } finally {
      await holder.end();
    }
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(aws.answers("late")).toEqual([
      expect.objectContaining({
        Status: "FAILED",
        Reason: expect.stringContaining("held the lock until the deadline"),
      }),
    ]);
  });

  it("answers SUCCESS to Delete and leaves the schema as it is", async () => {
    const { handler } = await import("../functions/ops/migrate-handler.ts");
    const reads = aws.reads.length;
    await handler(request("Delete", "delete"));
    expect(aws.answers("delete")).toEqual([expect.objectContaining({ Status: "SUCCESS" })]);
    expect(aws.reads.length).toBe(reads);
  });
});

describe("an API function in AWS", () => {
  beforeAll(async () => {
    Object.assign(process.env, API_ENV());
    // Independent of the tests above: the schema as the custom resource leaves it.
    await applyMigrations(postgres.url("tetik", tls, "tetik:first-password"), undefined, {
      create: false,
      appRolePassword: "app-password-1",
    });
  });

  /** What Lambda hands a function besides the event. */
  const lambdaContext = (functionName: string): LambdaContext => ({
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:eu-central-1:123456789012:function:${functionName}`,
    memoryLimitInMB: "512",
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "test",
    getRemainingTimeInMillis: () => 30_000,
  });
  /** An HTTP API (payload 2.0) request, as API Gateway hands it to the function. */
  const call = async <const M extends string, const P extends string>(
    handler: ReturnType<typeof lambdaHandler>,
    method: M,
    path: P,
    { key, body }: { key?: string; body?: unknown } = {},
  ): Promise<ApiAnswer<M, P>> => {
    const result = await handler(
      {
        version: "2.0",
        routeKey: `${method} ${path}`,
        rawPath: path,
        rawQueryString: "",
        headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
        requestContext: {
          accountId: "123456789012",
          apiId: "test",
          domainName: "test.execute-api.eu-central-1.amazonaws.com",
          domainPrefix: "test",
          authentication: null,
          authorizer: {},
          http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "vitest" },
          requestId: randomUUID(),
          routeKey: `${method} ${path}`,
          stage: "$default",
          time: new Date().toISOString(),
          timeEpoch: Date.now(),
        },
        body: body === undefined ? null : JSON.stringify(body),
        isBase64Encoded: false,
      },
      lambdaContext("tetik-test-events"),
    );
    // An HTTP API answer (payload 2.0) always has a status and a string body here.
    const { statusCode, body: text, headers } = result as { statusCode: number; body?: string; headers: object };
    const answer = {
      status: statusCode,
      headers: new Headers(headers as Record<string, string>),
      body: text ? JSON.parse(text) : null,
    };
    checkAgainstDocument(method, path, answer.status, answer.headers.get("content-type"), answer.body);
    // Held to the document just now: the type says the same.
    return answer as never;
  };
  const anEvent = (recordId: string) => ({
    type: "collection.created",
    collection: "orders",
    recordId,
    data: { total: 1 },
  });
  const queuedJobs = async () => {
    const client = new Redis(redis.url);
    try {
      return (await client.keys(`${PREFIX}:*`)).length;
    } finally {
      client.disconnect();
    }
  };

  it("takes its API key and passwords from Secrets Manager, each secret read once per refresh", async () => {
    vi.resetModules();
    const { handler } = await import("../functions/api/events.ts");
    const reads = aws.reads.length;
    expect((await call(handler, "POST", "/events", { body: anEvent("o-1") })).status).toBe(401);
    expect((await call(handler, "POST", "/events", { key: "wrong", body: anEvent("o-1") })).status).toBe(401);
    const accepted = expectStatus(
      await call(handler, "POST", "/events", { key: "first-api-key-0123456", body: anEvent("o-1") }),
      202,
    );
    expect(aws.reads.slice(reads).sort()).toEqual([API_KEY_SECRET, APP_DATABASE_SECRET, CACHE_SECRET].sort());

    // Stored over TLS with the secret's password, queued in the Redis that wants its token.
    const row = await asAdmin("tetik", (c) => c.query(`SELECT status FROM event_log WHERE id = $1`, [accepted.id]));
    expect(row.rows).toEqual([{ status: "pending" }]);
    await waitFor(async () => (await queuedJobs()) > 0, { timeoutMs: 10_000, what: "the event's job in Redis" });
    expect(process.env.DATABASE_URL).not.toContain("app-password");
  });

  it("uses a rotated API key and database password within SECRETS_REFRESH_MS, with no redeploy", async () => {
    vi.resetModules();
    const { handler } = await import("../functions/api/events.ts");
    expect(
      (await call(handler, "POST", "/events", { key: "first-api-key-0123456", body: anEvent("o-2") })).status,
    ).toBe(202);

    await setAppPassword("app-password-2");
    aws.secrets.set(API_KEY_SECRET, { apiKey: "second-api-key-012345" });
    const accepted = await waitFor(
      async () => {
        const res = await call(handler, "POST", "/events", { key: "second-api-key-012345", body: anEvent("o-3") });
        return res.status === 202 ? res.body : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: "the new key to be accepted" },
    );
    expect(
      (await call(handler, "POST", "/events", { key: "first-api-key-0123456", body: anEvent("o-4") })).status,
    ).toBe(401);
    // New connections, made with the new password (the old one no longer logs in).
    const read = expectStatus(
      await call(handler, "GET", `/events/${accepted.id}`, { key: "second-api-key-012345" }),
      200,
    );
    expect(read).toMatchObject({ id: accepted.id, recordId: "o-3" });
  });

  /**
   * Ends tetik_app's open connections, so the next request must log in again (a rotation leaves open
   * connections working; only new ones meet the new password). The pool drops its idle connections when
   * it reads their end, a moment later.
   */
  const dropAppConnections = async () => {
    await asAdmin("postgres", (c) =>
      c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'tetik_app'`),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
  };

  it(
    "reads its secrets at once when Postgres refuses the password it has, and runs the request again: " +
      "a rotation costs no request, long before SECRETS_REFRESH_MS",
    async () => {
      vi.resetModules();
      process.env.SECRETS_REFRESH_MS = String(10 * 60_000);
      try {
        const { handler } = await import("../functions/api/events.ts");
        const key = aws.secrets.get(API_KEY_SECRET)!.apiKey;
        expect((await call(handler, "POST", "/events", { key, body: anEvent("r-1") })).status).toBe(202);
        const reads = aws.reads.length;

        await setAppPassword("app-password-3");
        await dropAppConnections();
        const answered = await call(handler, "POST", "/events", { key, body: anEvent("r-2") });
        expect(answered.status).toBe(202);
        // Read again because of the refusal (the refresh was 10 minutes away), and only once.
        expect(aws.reads.slice(reads).filter((id) => id === APP_DATABASE_SECRET)).toHaveLength(1);
        const stored = await asAdmin("tetik", (c) =>
          c.query(`SELECT count(*)::int AS n FROM event_log WHERE "recordId" = 'r-2'`),
        );
        expect(stored.rows[0].n).toBe(1);

        // Postgres has a password the secret does not (a rotation half done): 503, and Secrets Manager is
        // not asked at every request.
        await asAdmin("postgres", (c) => c.query(`ALTER ROLE tetik_app PASSWORD 'only-postgres-knows'`));
        await dropAppConnections();
        const before = aws.reads.length;
        for (const id of ["r-3", "r-4", "r-5"]) {
          const refused = await call(handler, "POST", "/events", { key, body: anEvent(id) });
          expect(expectError(refused, 503, "service_unavailable").message).toContain("unavailable");
          expect(refused.headers.get("retry-after")).toBe("1");
        }
        // (Read at most once a 10 s: here not at all, the read above being a moment ago.)
        expect(aws.reads.slice(before).filter((id) => id === APP_DATABASE_SECRET).length).toBeLessThanOrEqual(1);
      } finally {
        process.env.SECRETS_REFRESH_MS = String(REFRESH_MS);
        await setAppPassword("app-password-3");
      }
    },
  );

  it(
    "answers 503 in tetik's shape while Secrets Manager is down at its first request, " +
      "and keeps serving when it goes down later",
    async () => {
      vi.resetModules();
      const { handler } = await import("../functions/api/events.ts");
      const key = aws.secrets.get(API_KEY_SECRET)!.apiKey;
      aws.down = true;
      try {
        const refused = await call(handler, "POST", "/events", { key, body: anEvent("o-5") });
        expect(expectError(refused, 503, "service_unavailable").message).toContain("unavailable");
        expect(refused.headers.get("retry-after")).toBe("1");
      } finally {
        aws.down = false;
      }
      expect((await call(handler, "POST", "/events", { key, body: anEvent("o-5") })).status).toBe(202);

      aws.down = true;
      try {
        await new Promise((resolve) => setTimeout(resolve, REFRESH_MS + 100));
        const before = aws.attempts.length;
        expect((await call(handler, "POST", "/events", { key, body: anEvent("o-6") })).status).toBe(202);
        expect((await call(handler, "POST", "/events", { key, body: anEvent("o-7") })).status).toBe(202);
        await new Promise((resolve) => setTimeout(resolve, 500)); // the SDK's retries still in flight land
        // The stale secrets were due: Secrets Manager was asked once for each of the 3 secrets (and the SDK
        // retried each at most once), then not again before the retry interval: a down Secrets Manager does
        // not slow every request. A second refresh would have asked for every secret again.
        const counts = new Map<string, number>();
        for (const id of aws.attempts.slice(before)) counts.set(id, (counts.get(id) ?? 0) + 1);
        const tries = [...counts.values()];
        expect(tries).toHaveLength(3);
        for (const count of tries) expect(count).toBeLessThanOrEqual(2);
      } finally {
        aws.down = false;
      }
    },
  );
});

describe("the sweep function", () => {
  it(
    "reports each finished run and the jobs a worker could run now (DueJobs, which the workers scale on): " +
      "not retries still waiting out their backoff",
    async () => {
      const prefix = `tetik-aws-due-${randomUUID().slice(0, 6)}`;
      Object.assign(process.env, API_ENV(), {
        QUEUE_PREFIX: prefix,
        METRICS_NAMESPACE: "tetik/test",
        AWS_ENDPOINT_URL_CLOUDWATCH: aws.url,
        // Nothing of the events the tests above left pending is old enough to be queued again.
        SWEEP_GRACE_MS: String(24 * 3_600_000),
      });
      const queue = createJobQueue({ url: redis.url, prefix });
      try {
        await queue.add("run-action", [
          { id: "now-1", data: { actionId: "a1" } },
          { id: "now-2", data: { actionId: "a2" } },
          { id: "now-3", data: { actionId: "a3" } },
          // Retries waiting out their backoff (a receiver that is down): no work for another worker yet.
          { id: "later-1", data: { actionId: "a4" }, delayMs: 3_600_000 },
          { id: "later-2", data: { actionId: "a5" }, delayMs: 3_600_000 },
          // Due a moment from now, and no worker here to move it along: due all the same.
          { id: "soon", data: { actionId: "a6" }, delayMs: 50 },
        ]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect((await queue.counts()).delayed).toBe(3);

        vi.resetModules();
        const { handler } = await import("../functions/sweep/handler.ts");
        const published = aws.metrics.length;
        await handler();
        expect(aws.metrics.slice(published)).toEqual([
          {
            Namespace: "tetik/test",
            MetricData: [
              { MetricName: "SweepRuns", Value: 1, Unit: "Count" },
              { MetricName: "DueJobs", Value: 4, Unit: "Count" },
            ],
          },
        ]);
      } finally {
        await queue.close();
        await clearQueuePrefix(prefix, redis.url);
        for (const name of ["METRICS_NAMESPACE", "AWS_ENDPOINT_URL_CLOUDWATCH", "SWEEP_GRACE_MS"])
          delete process.env[name];
        process.env.QUEUE_PREFIX = PREFIX;
      }
    },
  );
});
