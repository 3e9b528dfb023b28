// The typed client (tetik/client, on ky) against tetik served over HTTP by @hono/node-server with a real
// worker, Postgres and Redis, and a receiver on 127.0.0.1. Every answer the client receives is also held
// to the OpenAPI document. Its retry rules are checked against a server on 127.0.0.1 that answers 503.
import { describe, expect, it } from "vitest";
import { createTetikClient, TetikError, type TetikClient } from "tetik/client";
import { refereedKy } from "./helpers/contract.ts";
import { startReceiver, type Receiver, type Reply } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

const KEY = "client-key-0123456789";
let stack: TestStack;
let receiver: Receiver;
let tetik: TetikClient;
let baseUrl: string;

withStackAndReceiver(
  async (started) => {
    ({ stack, receiver } = started);
    baseUrl = await stack.serve();
    tetik = createTetikClient({ baseUrl, apiKey: KEY, ky: refereedKy });
  },
  { env: { API_KEY: KEY } },
);

describe("the typed client", () => {
  it("sets up a definition and a webhook, reports a change, and follows the event to its delivery", async () => {
    const definition = await tetik.definitions.create({
      name: "paid-orders",
      type: "field.updated",
      collection: "orders",
      fields: ["status"],
      condition: { "data.status": "paid" },
    });
    expect(definition).toMatchObject({ name: "paid-orders", type: "field.updated", fields: ["status"], active: true });
    const webhook = await tetik.webhooks.create({
      definitionId: definition.id,
      url: `${receiver.url}/paid`,
      headers: { "x-team": "billing" },
    });
    expect(webhook.secret).toMatch(/^whsec_/);
    expect(await tetik.webhooks.get(webhook.id)).not.toHaveProperty("secret");

    const accepted = await tetik.events.ingest({
      type: "collection.updated",
      collection: "orders",
      recordId: "o-1",
      data: { status: "paid" },
      previous: { status: "new" },
    });
    expect(accepted.status).toBe("pending");
    const done = await waitFor(
      async () => {
        const event = await tetik.events.get(accepted.id);
        return event.status === "completed" ? event : undefined;
      },
      { timeoutMs: 15_000, what: "the event to complete" },
    );
    expect(done.changedFields).toEqual(["status"]);
    expect(done.actions).toEqual([
      expect.objectContaining({ kind: "webhook", id: webhook.id, status: "completed", attempts: 1 }),
    ]);
    expect(receiver.at("/paid")).toHaveLength(1);

    const detail = await tetik.definitions.get(definition.id);
    expect(detail.webhooks.map((w) => w.id)).toEqual([webhook.id]);
    const [attempt] = (await tetik.webhooks.deliveries(webhook.id)).data;
    expect(attempt).toMatchObject({ eventId: accepted.id, ok: true, status: 200 });
    expect(await tetik.webhooks.test(webhook.id, { data: { status: "paid" } })).toMatchObject({
      ok: true,
      status: 200,
    });
    const why = await tetik.events.explain(accepted.id);
    expect(why.definitions.find((d) => d.definition.id === definition.id)).toMatchObject({
      matched: true,
      produced: [{ kind: "webhook", status: "completed" }],
    });
    const dry = await tetik.definitions.dryRun(definition.id, {
      record: { collection: "orders", id: "o-2", data: { status: "paid" }, previous: { status: "new" } },
    });
    expect(dry.definitions[0]!.webhooks[0]!.request!.url).toBe(`${receiver.url}/paid`);
    expect(receiver.at("/paid")).toHaveLength(2); // the one delivery and the test send: the dry run sent nothing
    expect(await tetik.webhooks.delete(webhook.id)).toBeUndefined();
  });

  it(
    "sends an Idempotency-Key with every ingestion: the same key stores one event, " +
      "another body under it is a TetikError",
    async () => {
      const event = { type: "collection.created" as const, collection: "carts", recordId: "c-1", data: { items: 1 } };
      const first = await tetik.events.ingest(event, { idempotencyKey: "cart-c-1" });
      expect((await tetik.events.ingest(event, { idempotencyKey: "cart-c-1" })).id).toBe(first.id);
      const reused = await tetik.events
        .ingest({ ...event, data: { items: 2 } }, { idempotencyKey: "cart-c-1" })
        .catch((e: unknown) => e);
      expect(reused).toBeInstanceOf(TetikError);
      expect(reused).toMatchObject({ status: 422, code: "idempotency_key_reused" });
      // Without a key of its own, each call gets a new one: two calls, two events.
      const [a, b] = await Promise.all([tetik.events.ingest(event), tetik.events.ingest(event)]);
      expect(a.id).not.toBe(b.id);
      const batch = await tetik.events.ingestBatch([event, { ...event, recordId: "c-2" }]);
      expect(batch.ids).toHaveLength(2);
    },
  );

  it("throws TetikError with the code, message, details and status of tetik's error answer", async () => {
    const invalid = await tetik
      .collection("Bad Name")
      .create({ total: 1 })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(TetikError);
    expect(invalid).toMatchObject({
      status: 400,
      code: "invalid_request",
      message: expect.stringContaining("collection"),
      details: [expect.objectContaining({ path: "collection" })],
    });
    expect(await tetik.events.get("evt_nothing").catch((e: unknown) => e)).toMatchObject({
      status: 404,
      code: "not_found",
    });
    const wrongKey = createTetikClient({ baseUrl, apiKey: "wrong", ky: refereedKy });
    expect(await wrongKey.definitions.list().catch((e: unknown) => e)).toMatchObject({
      name: "TetikError",
      status: 401,
      code: "unauthorized",
    });
    // Your own ky options are merged over the client's: a header of yours keeps the key's.
    const traced = createTetikClient({ baseUrl, apiKey: KEY, ky: { headers: { "x-trace": "t-1" } } });
    expect((await traced.definitions.list({ limit: 1 })).data).toBeInstanceOf(Array);
    // "." and ".." cannot be record ids: a URL path resolves them away, so such a record could never be read again.
    for (const id of [".", ".."]) {
      expect(
        await tetik
          .collection("shelf")
          .create({ n: 1 }, { id })
          .catch((e: unknown) => e),
      ).toMatchObject({ status: 400, code: "invalid_request" });
      expect(
        await tetik.events
          .ingest({ type: "collection.created", collection: "shelf", recordId: id })
          .catch((e: unknown) => e),
      ).toMatchObject({ status: 400 });
    }
    // Open routes need no key.
    expect((await createTetikClient({ baseUrl }).health()).database).toBe("up");
  });

  it("walks every page of a list with an async iterator, a request per page", async () => {
    const shelf = tetik.collection("shelf");
    const created = [];
    for (let i = 0; i < 7; i++)
      created.push(await shelf.create({ n: i, colour: i % 2 ? "red" : "blue" }, { id: `s-${i}` }));
    const seen: string[] = [];
    for await (const record of shelf.iterate({ limit: 3 })) seen.push(record.id);
    expect(seen).toEqual(created.map((r) => r.id).reverse());
    const red: number[] = [];
    for await (const record of shelf.iterate({ limit: 2, filter: { colour: "red" } }))
      red.push(record.data.n as number);
    expect(red).toEqual([5, 3, 1]);
    expect((await shelf.patch("s-1", { colour: "green" })).data).toEqual({ n: 1, colour: "green" });
    expect(await shelf.delete("s-1")).toBeUndefined();
  });
});

describe("the typed client's retries", () => {
  it("tries an ingestion again on 503 after the Retry-After it is given, with the same Idempotency-Key", async () => {
    const flaky = await startReceiver(
      (_, index): Reply =>
        index < 2
          ? {
              status: 503,
              headers: { "content-type": "application/json", "retry-after": "1" },
              body: JSON.stringify({ error: { code: "service_unavailable", message: "down" } }),
            }
          : {
              status: 202,
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ id: "evt_1", status: "pending" }),
            },
    );
    try {
      const client = createTetikClient({ baseUrl: flaky.url, apiKey: KEY });
      const started = Date.now();
      expect(await client.events.ingest({ type: "collection.created", collection: "orders", recordId: "o-1" })).toEqual(
        { id: "evt_1", status: "pending" },
      );
      expect(flaky.requests).toHaveLength(3);
      const keys = new Set(flaky.requests.map((r) => r.headers["idempotency-key"]));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(/^[0-9a-f-]{36}$/);
      // Two waits of the 1 s Retry-After asked for.
      expect(flaky.requests[2]!.at - flaky.requests[0]!.at).toBeGreaterThanOrEqual(1_900);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await flaky.close();
    }
  });

  it("does not repeat a write without an Idempotency-Key, and gives up on reads after its retries", async () => {
    const down = await startReceiver(() => ({
      status: 503,
      headers: { "content-type": "application/json", "retry-after": "0" },
      body: JSON.stringify({ error: { code: "service_unavailable", message: "down" } }),
    }));
    try {
      const client = createTetikClient({ baseUrl: down.url, retries: 2 });
      expect(
        await client.definitions
          .create({ name: "x", type: "collection.created", collection: "x" })
          .catch((e: unknown) => e),
      ).toMatchObject({ status: 503, code: "service_unavailable" });
      expect(down.requests).toHaveLength(1);
      expect(await client.events.list().catch((e: unknown) => e)).toMatchObject({ status: 503 });
      expect(down.requests).toHaveLength(1 + 3);
    } finally {
      await down.close();
    }
  });
});
