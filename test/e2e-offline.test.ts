// End to end, as a user runs tetik: serverless offline (the Lambda handlers) and the worker as separate
// processes, Postgres and Redis for real, a receiver on 127.0.0.1. Everything goes through HTTP.
import { randomBytes } from "node:crypto";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { createTetikClient, TetikError } from "tetik/client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { expectStatus, type ApiAnswer } from "./helpers/api-types.ts";
import { checkAgainstDocument } from "./helpers/contract.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { startOffline, startWorkerProcess, type RunningProcess } from "./helpers/processes.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { clearQueue, QUEUE_BACKEND } from "./helpers/queue-backend.ts";
import { REDIS_URL } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const API_KEY = "e2e-key-0123456789";
let database: TestDatabase;
let receiver: Receiver;
let api: RunningProcess & { url: string };
let worker: RunningProcess;
const prefix = `tetik-e2e-${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  [database, receiver] = await Promise.all([createTestDatabase(inject("templateDatabase")), startReceiver()]);
  const env = {
    DATABASE_URL: database.appUrl,
    REDIS_URL,
    QUEUE_BACKEND,
    QUEUE_PREFIX: prefix,
    API_KEY,
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
    LOG_LEVEL: "info",
  };
  worker = startWorkerProcess(env);
  api = await startOffline(env);
}, 180_000);

afterAll(async () => {
  const codes = await Promise.all([api?.stop(), worker?.stop()]);
  await receiver?.close();
  await clearQueue(prefix);
  await database?.drop();
  // The worker shuts down cleanly on SIGTERM.
  expect(codes[1]).toBe(0);
}, 60_000);

/** One request through serverless offline, answered as its route documents it (helpers/api-types.ts). */
async function call<const M extends string, const P extends string>(
  method: M,
  path: P,
  body?: unknown,
): Promise<ApiAnswer<M, P>> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const answer = { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  checkAgainstDocument(method, path, answer.status, res.headers.get("content-type"), answer.body);
  return answer as never;
}

const waitForStatus = (id: string, statuses: string[]) =>
  waitFor(
    async () => {
      const event = expectStatus(await call("GET", `/events/${id}`), 200);
      return statuses.includes(event.status) ? event : undefined;
    },
    { timeoutMs: 20_000, intervalMs: 200, what: `event ${id} to be ${statuses}` },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- worker output ---\n${worker.output().slice(-4000)}`);
  });

// Each function's first request through offline loads its bundle (a cold start): on two shared cores
// under the whole suite, a test that touches four functions can pass 30 s.
describe("through serverless offline and the worker process", { timeout: 90_000 }, () => {
  it("refuses calls without the API key but answers /health", async () => {
    expect((await fetch(`${api.url}/definitions`)).status).toBe(401);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const unknown = await call("GET", "/no/such/route");
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });

  it("delivers a signed webhook for a matching event and logs it completed; ignores a non-matching one", async () => {
    const definition = expectStatus(
      await call("POST", "/definitions", {
        name: "big-orders",
        type: "collection.created",
        collection: "orders",
        condition: { "data.total": { $gt: 100 } },
      }),
      201,
    );
    const hook = expectStatus(
      await call("POST", "/webhooks", {
        definitionId: definition.id,
        url: `${receiver.url}/orders`,
        headers: { "x-team": "billing" },
      }),
      201,
    );

    const big = await call("POST", "/events", {
      type: "collection.created",
      collection: "orders",
      recordId: "o-1",
      data: { total: 120 },
    });
    const small = await call("POST", "/events", {
      type: "collection.created",
      collection: "orders",
      recordId: "o-2",
      data: { total: 5 },
    });
    expect(expectStatus(big, 202).status).toBe("pending");
    const smallId = expectStatus(small, 202).id;

    const done = await waitForStatus(expectStatus(big, 202).id, ["completed"]);
    expect(done.actions).toEqual([
      expect.objectContaining({ kind: "webhook", id: hook.id, status: "completed", attempts: 1 }),
    ]);
    // From arrival to the last action's end, as the log's own timestamps (millisecond precision) say.
    expect(done.durationMs).toBe(Date.parse(done.completedAt!) - Date.parse(done.receivedAt));
    expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done.receivedAt));
    const ignored = await waitForStatus(smallId, ["completed"]);
    expect(ignored.actions).toEqual([]);

    const requests = receiver.at("/orders");
    expect(requests).toHaveLength(1);
    const payload = new StandardWebhook(hook.secret).verify(
      requests[0]!.body,
      requests[0]!.headers as Record<string, string>,
    );
    expect(payload).toMatchObject({
      id: expectStatus(big, 202).id,
      type: "collection.created",
      recordId: "o-1",
      data: { total: 120 },
    });
    expect(requests[0]!.headers["x-team"]).toBe("billing");
  });

  it("moves an event to retrying, then failed, while the receiver answers 500", async () => {
    const definition = expectStatus(
      await call("POST", "/definitions", { name: "audits", type: "collection.deleted", collection: "orders" }),
      201,
    );
    const webhook = await call("POST", "/webhooks", {
      definitionId: definition.id,
      url: `${receiver.url}/down`,
      retry: { maxAttempts: 2, delayMs: 1500, backoff: "fixed" },
    });
    expectStatus(webhook, 201);
    receiver.respond((req) => (req.path === "/down" ? { status: 500, body: "down" } : { status: 200 }));

    const event = expectStatus(
      await call("POST", "/events", { type: "collection.deleted", collection: "orders", recordId: "o-9" }),
      202,
    );
    const retrying = await waitForStatus(event.id, ["retrying"]);
    expect(retrying.error).toContain("500");
    const failed = await waitForStatus(event.id, ["failed"]);
    expect(failed.actions[0]).toMatchObject({ status: "failed", attempts: 2, errorCode: "http_500" });
    expect(receiver.at("/down")).toHaveLength(2);
  });

  it("describes itself at /openapi.json and /docs without the key, and is used by the typed client", async () => {
    const document = await fetch(`${api.url}/openapi.json`);
    expect(document.status).toBe(200);
    await SwaggerParser.validate((await document.json()) as never);
    const page = await fetch(`${api.url}/docs`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("docs/swagger-ui-bundle.js");
    // The page's files come from swagger-ui-dist, found from the function's bundle.
    const bundle = await fetch(`${api.url}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(500_000);

    const tetik = createTetikClient({ baseUrl: api.url, apiKey: API_KEY });
    const definition = await tetik.definitions.create({
      name: "client-shipped",
      type: "field.updated",
      collection: "parcels",
      fields: ["state"],
    });
    const webhook = await tetik.webhooks.create({ definitionId: definition.id, url: `${receiver.url}/parcels` });
    const parcels = tetik.collection("parcels");
    await parcels.create({ state: "packed" }, { id: "p-1" });
    const shipped = await parcels.patch("p-1", { state: "shipped" });
    expect(shipped.eventId).toEqual(expect.any(String));
    const done = await waitFor(
      async () => {
        const event = await tetik.events.get(shipped.eventId!);
        return event.status === "completed" ? event : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: "the parcel's event to complete" },
    );
    expect(done).toMatchObject({ changedFields: ["state"], previous: { state: "packed" }, data: { state: "shipped" } });
    expect(done.actions).toEqual([expect.objectContaining({ kind: "webhook", id: webhook.id, status: "completed" })]);
    const updates: string[] = [];
    for await (const event of tetik.events.iterate({ collection: "parcels", limit: 1 })) updates.push(event.type);
    expect(updates).toEqual(["collection.updated", "collection.created"]);
    const refused = await tetik.definitions
      .create({ name: "client-shipped", type: "collection.created", collection: "parcels" })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TetikError);
    expect(refused).toMatchObject({ status: 409, code: "conflict" });
  });

  it("serves the dashboard behind a session cookie, and /metrics behind the key", async () => {
    const unsigned = await fetch(`${api.url}/dashboard`, { redirect: "manual" });
    expect(unsigned.status).toBe(303);
    expect(unsigned.headers.get("location")).toBe("/dashboard/sign-in");
    const signIn = await fetch(`${api.url}/dashboard/sign-in`, {
      method: "POST",
      body: new URLSearchParams({ key: API_KEY }),
      redirect: "manual",
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.get("set-cookie")!;
    // Offline cannot pass a cookie's attributes on (see functions/dashboard/session.ts): the bare value.
    expect(cookie).toMatch(/^tetik_session=\d+\.[\w-]+\.[\w-]+$/);
    const overview = await fetch(`${api.url}/dashboard`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(overview.status).toBe(200);
    expect(await overview.text()).toContain("<h1>Overview</h1>");
    const css = await fetch(`${api.url}/dashboard/assets/app.css`);
    expect(css.headers.get("content-type")).toContain("text/css");

    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/^tetik_log_events\{status="completed"\} \d+$/m);
  });
});
