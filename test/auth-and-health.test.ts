// API_KEY bearer auth on every route but GET /health; health reports its dependencies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { itWithRedis, QUEUE_BACKEND } from "./helpers/queue-backend.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

/** What /health says of Redis with the suite's queue: up, or unused where the queue is in Postgres. */
const redisState = QUEUE_BACKEND === "postgres" ? "unused" : "up";

let stack: TestStack;
let noRedis: TestStack;
let noPostgres: TestStack;
beforeAll(async () => {
  [stack, noRedis, noPostgres] = await Promise.all([
    startStack({ worker: false, env: { API_KEY: "s3cret-key-0123456789" } }),
    // Nothing listens on port 1: Redis is "down" for this stack.
    startStack({ worker: false, env: { REDIS_URL: "redis://127.0.0.1:1" } }),
    startStack({ worker: false, env: { DATABASE_URL: "postgresql://postgres@127.0.0.1:1/tetik" } }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack?.stop(), noRedis?.stop(), noPostgres?.stop()]);
});

describe("auth", () => {
  it("needs the bearer key on every route but GET /health", async () => {
    const body = { name: "auth", type: "collection.created", collection: "orders" };
    expectError(await stack.api("POST", "/definitions", body), 401, "unauthorized");
    expectError(await stack.api("GET", "/events", undefined, { authorization: "Bearer nope" }), 401, "unauthorized");
    expect(
      (await stack.api("GET", "/webhooks/whk_x", undefined, { authorization: "Basic czNjcmV0LWtleQ==" })).status,
    ).toBe(401);
    expect(await stack.deps.db.eventDefinition.count()).toBe(0);

    const ok = expectStatus(
      await stack.api("POST", "/definitions", body, { authorization: "Bearer s3cret-key-0123456789" }),
      201,
    );
    expect(ok.name).toBe("auth");
    expect((await stack.api("GET", "/health")).status).toBe(200);
    // HEAD is GET without a body: load balancers probe with it.
    expect((await stack.api("HEAD", "/health")).status).toBe(200);
    expect((await stack.api("HEAD", "/definitions")).status).toBe(401);
  });
});

describe("health", () => {
  it(
    "answers ok when Postgres and Redis are up and the sweep runs, degraded (still 200) when the sweep " + "stopped",
    async () => {
      const never = expectStatus(await stack.api("GET", "/health"), 200);
      expect(never).toEqual({
        status: "degraded",
        database: "up",
        redis: redisState,
        sweep: { lastRunAt: null, status: "never" },
      });

      await runSweep(stack.deps);
      const res = expectStatus(await stack.api("GET", "/health"), 200);
      expect(res).toEqual({
        status: "ok",
        database: "up",
        redis: redisState,
        sweep: { lastRunAt: expect.any(String), status: "ok" },
      });

      // Three intervals and a little more without a sweep (60 s each by default).
      await stack.deps.pool.query(`UPDATE sweep_state SET "lastRunAt" = now() - interval '181 seconds'`);
      const late = expectStatus(await stack.api("GET", "/health"), 200);
      expect(late).toMatchObject({ status: "degraded", sweep: { status: "late" } });
      await stack.deps.pool.query(`UPDATE sweep_state SET "lastRunAt" = now() - interval '179 seconds'`);
      expect(expectStatus(await stack.api("GET", "/health"), 200).status).toBe("ok");
    },
  );

  itWithRedis("answers 503 naming Redis when it is down, and ingestion still accepts events", async () => {
    const error = expectError(await noRedis.api("GET", "/health"), 503, "service_unavailable");
    expect(error).toMatchObject({ code: "service_unavailable", details: { database: "up", redis: "down" } });

    const accepted = expectStatus(
      await noRedis.api("POST", "/events", {
        type: "collection.created",
        collection: "orders",
        recordId: "o-1",
        data: {},
      }),
      202,
    );
    const row = await noRedis.deps.db.eventLog.findUnique({ where: { id: accepted.id } });
    expect(row?.status).toBe("pending");
  });

  it("answers 503 in the error shape while Postgres is down, for reads and for ingestion", async () => {
    const health = expectError(await noPostgres.api("GET", "/health"), 503, "service_unavailable");
    expect(health.details).toMatchObject({ database: "down", redis: redisState });
    for (const [method, path, body] of [
      ["POST", "/events", { type: "collection.created", collection: "orders", recordId: "o-1", data: {} }],
      ["GET", "/definitions", undefined],
      ["GET", "/events/evt_x", undefined],
    ] as const) {
      const res = await noPostgres.api(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(503);
      expectError(res, 503, "service_unavailable");
    }
  });
});
