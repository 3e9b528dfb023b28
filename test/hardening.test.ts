// What a careless client or an attacker can send: each case is a defect that was found (issue 11), kept
// here so it stays fixed. Every refused request gets a 4xx in the error shape and changes nothing; no
// request's fate depends on another's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../functions/domain/delivery/run-action.ts";
import { createIngest } from "../functions/domain/events/ingest-events.ts";
import { matchEvent } from "../functions/domain/delivery/match-event.ts";
import { withRuntime } from "../functions/worker/delivery-runtime.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import { isDependencyDown, rejectedInputReason } from "../functions/platform/dependency-errors.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { waitFor } from "./helpers/wait.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { randomBytes } from "node:crypto";
import pg from "pg";
import pino from "pino";
import { connect, type Socket } from "node:net";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { reencryptSecrets } from "../functions/domain/webhooks/reencrypt-secrets.ts";
import { testWebhook } from "../functions/domain/webhooks/test-webhook.ts";
import { announceSecurity } from "../functions/platform/announce-security.ts";
import { loadConfig } from "../functions/platform/config.ts";
import { closeDeps, createDeps } from "../functions/platform/deps.ts";
import { serveApi } from "../functions/server/main.ts";
import { LIMITS } from "../functions/domain/limits.ts";
import { startStack, type TestStack, withStackAndReceiver } from "./helpers/stack.ts";

let stack: TestStack;
let receiver: Receiver;
withStackAndReceiver((started) => ({ stack, receiver } = started));

const event = (collection: string, data: unknown = {}, extra: Record<string, unknown> = {}) => ({
  type: "collection.created",
  collection,
  recordId: "r-1",
  data,
  ...extra,
});

/** A body text nested `depth` arrays deep inside data.deep (JSON.stringify cannot build it). */
const deepBody = (collection: string, depth: number) =>
  `{"type":"collection.created","collection":"${collection}","recordId":"r-1",` +
  `"data":{"deep":${"[".repeat(depth)}${"]".repeat(depth)}}}`;

const shuffled = <T>(items: T[]) =>
  items
    .map((item) => ({ item, key: Math.random() }))
    .sort((a, b) => a.key - b.key)
    .map((x) => x.item);

const countEvents = (collection: string) => stack.deps.db.eventLog.count({ where: { collection } });

describe("one bad request never fails its neighbours", () => {
  it("accepts every valid event sent together with events the database cannot store", async () => {
    let valid = 0;
    for (let round = 0; round < 5; round++) {
      const requests = shuffled([
        ...Array.from({ length: 30 }, (_, i) => ({ ok: true, body: event("iso_single", { i, round }) as unknown })),
        ...Array.from({ length: 3 }, () => ({ ok: false, body: event("iso_single", { s: "\u0000" }) as unknown })),
        { ok: false, body: deepBody("iso_single", 6000) },
        {
          ok: false,
          body: `{"type":"collection.created","collection":"iso_single","recordId":"r","data":{"s":"\\ud800"}}`,
        },
        {
          ok: false,
          body: `{"type":"collection.created","collection":"iso_single","recordId":"r","data":{"n":1e400}}`,
        },
      ]);
      const answers = await Promise.all(requests.map((r) => stack.api("POST", "/events", r.body)));
      answers.forEach((answer, i) => {
        if (requests[i]!.ok) {
          expect(answer.status, JSON.stringify(answer.body)).toBe(202);
          valid++;
        } else {
          const error = expectError(answer, 400, "invalid_request");
          expect(error.message).toMatch(/^data\.(s|n|deep(\[0\])*): /);
        }
      });
    }
    expect(valid).toBe(150);
    expect(await countEvents("iso_single")).toBe(150);
  });

  it("does the same for batches: a bad batch is refused whole, the others are accepted whole", async () => {
    const batch = (bad: boolean) => ({
      events: [event("iso_batch", { a: 1 }), event("iso_batch", bad ? { s: "x\u0000y" } : { a: 2 })],
    });
    const requests = shuffled([...Array.from({ length: 20 }, () => false), true, true, true]);
    const answers = await Promise.all(requests.map((bad) => stack.api("POST", "/events/batch", batch(bad))));
    for (const [i, answer] of answers.entries()) expect(answer.status).toBe(requests[i] ? 400 : 202);
    expect(answers.find((a) => a.status === 400)!.body.error.message).toContain("events[1].data.s");
    expect(await countEvents("iso_batch")).toBe(40);
  });

  it("settles a failed shared INSERT request by request when the edge let a bad value through", async () => {
    // The ingestion itself, below the HTTP checks: one NUL fails the shared statement, and the flush is
    // then written one request at a time.
    const ingest = createIngest(stack.deps);
    const good = (i: number) => [
      { type: "collection.created" as const, collection: "iso_domain", recordId: `g-${i}`, data: { i } },
    ];
    const bad = [
      { type: "collection.created" as const, collection: "iso_domain", recordId: "bad", data: { s: "\u0000" } },
    ];
    const results = await Promise.allSettled([
      ...Array.from({ length: 10 }, (_, i) => ingest(good(i))),
      ingest(bad),
      ingest(good(10)),
    ]);
    expect(results.map((r) => r.status)).toEqual([
      ...Array.from({ length: 10 }, () => "fulfilled"),
      "rejected",
      "fulfilled",
    ]);
    expect(rejectedInputReason((results[10] as PromiseRejectedResult).reason)).toContain("Unicode");
    expect(await countEvents("iso_domain")).toBe(11);
  });
});

describe("every accepted value reads back and processes", () => {
  it(
    "refuses dates outside years 1 to 9999 (in UTC), and round-trips the edges through write, read and a " + "trigger",
    async () => {
      for (const occurredAt of [
        "0000-01-01T00:00:00Z",
        "0000-12-31T23:59:59Z",
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59.999-01:00",
      ]) {
        const error = expectError(
          await stack.api("POST", "/events", event("dates", {}, { occurredAt })),
          400,
          "invalid_request",
        );
        expect(error.message, occurredAt).toContain(
          "occurredAt: must be between 0001-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z",
        );
      }
      expect((await stack.api("GET", "/events?since=0000-01-01T00:00:00Z")).status).toBe(400);
      expect((await stack.api("POST", "/events/replay", { until: "+010000-01-01T00:00:00Z" })).status).toBe(400);
      expect(await countEvents("dates")).toBe(0);

      const def = await createDefinition(stack, { name: "dates", collection: "dates" });
      expect(
        (
          await stack.api("POST", `/definitions/${def.id}/triggers`, {
            action: "create",
            targetCollection: "dates_seen",
            data: { at: "{{event.occurredAt}}" },
          })
        ).status,
      ).toBe(201);
      for (const occurredAt of ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"]) {
        const accepted = expectStatus(await stack.api("POST", "/events", event("dates", {}, { occurredAt })), 202);
        const logged = await waitForEvent(stack, accepted.id);
        expect(logged).toMatchObject({
          status: "completed",
          occurredAt,
          actions: [expect.objectContaining({ kind: "trigger", status: "completed" })],
        });
        const page = await stack.api("GET", "/events?collection=dates");
        expect(page.status).toBe(200);
      }
      const seen = expectStatus(await stack.api("GET", "/collections/dates_seen/records"), 200);
      expect(seen.data.map((r) => r.data.at).sort()).toEqual(["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"]);
    },
  );
});

describe("hostile text anywhere is a 4xx", () => {
  it("answers ids holding NUL or nonsense with 404, and other such input with 400", async () => {
    for (const path of [
      "/events/evt_%00",
      "/definitions/%00",
      "/webhooks/a%00b/deliveries",
      "/triggers/%00",
      "/collections/orders/records/%00",
      "/events/%00/replay",
    ]) {
      const method = path.endsWith("replay") ? "POST" : "GET";
      const res = await stack.api(method, path);
      expect(res.status, path).toBe(404);
      expectError(res, 404, "not_found");
    }
    for (const path of [
      "/events?cursor=%00",
      "/events?recordId=a%00",
      "/definitions?cursor=x%00",
      `/collections/orders/records?filter=${encodeURIComponent('{"a":"\\u0000"}')}`,
    ]) {
      const res = await stack.api("GET", path);
      expect(res.status, path).toBe(400);
      expectError(res, 400, "invalid_request");
    }
    const definitions = await stack.deps.db.eventDefinition.count();
    for (const body of [
      `{"name":"a\\u0000","type":"collection.created","collection":"orders"}`,
      `{"name":"\\udc00x","type":"collection.created","collection":"orders"}`,
      `{"name":"n","type":"collection.created","collection":"orders","condition":{"data.n":{"$gt":1e400}}}`,
      `{"name":"n","type":"collection.created","collection":"orders","description":"${"\\ud83d"}"}`,
    ]) {
      const res = await stack.api("POST", "/definitions", body);
      expect(res.status, body).toBe(400);
    }
    expect(await stack.deps.db.eventDefinition.count()).toBe(definitions);

    const def = await createDefinition(stack, { name: "hostile-text", collection: "hostile" });
    const deepPayload =
      `{"definitionId":"${def.id}","url":"${receiver.url}/x",` + `"payload":${"[".repeat(3000)}${"]".repeat(3000)}}`;
    expect((await stack.api("POST", "/webhooks", deepPayload)).status).toBe(400);
    expect(
      (
        await stack.api("POST", "/webhooks", {
          definitionId: def.id,
          url: `${receiver.url}/x`,
          headers: { "x-a": "\u0000" },
        })
      ).status,
    ).toBe(400);
    expect(await stack.deps.db.webhook.count({ where: { definitionId: def.id } })).toBe(0);

    const idempotent = expectError(
      await stack.api("POST", "/events", event("hostile"), { "idempotency-key": "clé" }),
      400,
      "invalid_request",
    );
    expect(idempotent.message).toContain("Idempotency-Key: must be printable ASCII");
    const record = await stack.api("POST", "/collections/hostile/records", `{"id":"r\\u0000","data":{}}`);
    expect(record.status).toBe(400);
    expect(await countEvents("hostile")).toBe(0);
  });
});

describe("no condition or filter can stall the worker", () => {
  const definition = (name: string, condition: unknown) =>
    stack.api("POST", "/definitions", { name, type: "collection.created", collection: "bounds", condition });

  it("refuses at save what a condition or filter may not hold, naming the limit", async () => {
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    let nested: Record<string, unknown> = { "data.x": 1 };
    for (let i = 0; i < 17; i++) nested = { $and: [nested] };
    const cases: Array<[unknown, string]> = [
      [{ "data.arr": { $in: range(1001) } }, "data.arr.$in: $in holds 1001 values; at most 1000"],
      [{ "data.s": { $in: range(900).map((i) => `${i}`.padStart(80, "x")) } }, "at most 64 KiB"],
      [nested, "nested deeper than 16 levels"],
      [Object.fromEntries(range(201).map((i) => [`data.f${i}`, i])), "has 201 fields and operators; at most 200"],
      [
        Object.fromEntries(range(6).map((i) => [`data.f${i}`, { $in: range(1000) }])),
        "lists 6000 values in all; at most 5000",
      ],
      [{ "data.n": { $gt: true } }, "$gt compares numbers or strings"],
      [{ total: 1 }, "total: must start with one of: event, data, previous, changedFields, definition"],
      [{ "data.__proto__": 1 }, "__proto__ cannot be a field name"],
      [{ "data.items": { $size: 3_000_000_000 } }, "$size takes a whole number up to 2147483647"],
    ];
    for (const [condition, message] of cases) {
      const error = expectError(await definition(`bounds-${message}`, condition), 400, "invalid_request");
      expect(error.message).toContain(message);
    }
    const proto = expectError(
      await stack.api(
        "POST",
        "/definitions",
        `{"name":"p","type":"collection.created","collection":"bounds","condition":{"__proto__":{"x":1}}}`,
      ),
      400,
      "invalid_request",
    );
    expect(proto.message).toContain("condition.__proto__: keys named __proto__ are not accepted");
    expect(await stack.deps.db.eventDefinition.count({ where: { collection: "bounds" } })).toBe(0);

    const def = await createDefinition(stack, { name: "bounds-trigger", collection: "bounds_t" });
    const filter = expectError(
      await stack.api("POST", `/definitions/${def.id}/triggers`, {
        action: "delete",
        targetCollection: "x",
        filter: { id: { $in: range(70_000) } },
      }),
      400,
      "invalid_request",
    );
    expect(filter.message).toContain("filter: is 408906 bytes of JSON; at most 64 KiB");
    expect(await stack.deps.db.eventTrigger.count({ where: { definitionId: def.id } })).toBe(0);
  });

  it(
    "gives up a condition past its budget, fails that definition's actions and goes on with other " + "events",
    async () => {
      const costly = await createDefinition(stack, {
        name: "costly",
        collection: "costly",
        condition: { "data.list": { $gt: 5 } },
      });
      await createWebhook(stack, { definitionId: costly.id, url: `${receiver.url}/costly` });
      const sets = await createDefinition(stack, {
        name: "sets",
        collection: "sets",
        condition: { "data.list": { $in: Array.from({ length: 1000 }, (_, i) => i + 10_000) } },
      });
      await createWebhook(stack, { definitionId: sets.id, url: `${receiver.url}/sets` });

      const heavy = await postEvent(stack, {
        collection: "costly",
        data: { list: Array.from({ length: 150_000 }, () => 0) },
      });
      const matching = await postEvent(stack, {
        collection: "sets",
        data: { list: Array.from({ length: 10_000 }, (_, i) => i + 1) },
      });
      const failed = await waitForEvent(stack, heavy);
      expect(failed.status).toBe("failed");
      expect(failed.actions).toEqual([
        expect.objectContaining({ kind: "webhook", status: "failed", errorCode: "condition_too_costly" }),
      ]);
      expect(failed.error).toContain(
        'the condition of definition "costly" was not decided: evaluating the condition took more than 100000 steps',
      );
      expect(receiver.at("/costly")).toHaveLength(0);
      expect((await waitForEvent(stack, matching)).status).toBe("completed");
      expect(receiver.at("/sets")).toHaveLength(1);
    },
  );

  it(
    "fails a trigger whose filter renders past the limits at once, instead of retrying a statement " +
      "Postgres refuses",
    async () => {
      const def = await createDefinition(stack, { name: "wide-filter", collection: "wide_filter" });
      const trigger = await stack.api("POST", `/definitions/${def.id}/triggers`, {
        action: "delete",
        targetCollection: "customers",
        filter: { id: { $in: "{{data.ids}}" } },
      });
      expect(trigger.status).toBe(201);
      const id = await postEvent(stack, {
        collection: "wide_filter",
        data: { ids: Array.from({ length: 70_000 }, (_, i) => i) },
      });
      const logged = await waitForEvent(stack, id);
      expect(logged.actions).toEqual([
        expect.objectContaining({
          kind: "trigger",
          status: "failed",
          errorCode: "invalid_trigger_result",
          attempts: 0,
        }),
      ]);
      expect(logged.actions[0]?.error).toContain("filter: is 408906 bytes of JSON; at most 64 KiB");
    },
  );

  it("reads a pool with no free connection as busy (503, try again), not as a bug (500)", async () => {
    const pool = new pg.Pool({ connectionString: stack.env.DATABASE_URL, max: 1, connectionTimeoutMillis: 100 });
    const held = await pool.connect();
    try {
      const error = await pool.query("SELECT 1").catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/timeout exceeded when trying to connect/);
      expect(isDependencyDown(error)).toBe(true);
    } finally {
      held.release();
      await pool.end();
    }
  });

  it("reads a statement with too many parameters (08P01) as the request's fault, not the database down", async () => {
    const values = Array.from({ length: 70_000 }, () => 1);
    const error = await stack.deps.pool
      .query(`SELECT 1 WHERE 1 IN (${values.map((_, i) => `$${i + 1}::int`).join(",")})`, values)
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("08P01");
    expect(isDependencyDown(error)).toBe(false);
    expect(rejectedInputReason(error)).toContain("bind message has");
    expect((await stack.deps.pool.query("SELECT 1 AS ok")).rows).toEqual([{ ok: 1 }]);
  });

  it("evaluates conditions over an event's own fields only", async () => {
    const def = await createDefinition(stack, {
      name: "inherited",
      collection: "inherited",
      condition: { "data.constructor.name": "Object" },
    });
    await createWebhook(stack, { definitionId: def.id, url: `${receiver.url}/inherited` });
    const plain = await postEvent(stack, { collection: "inherited", data: { total: 1 } });
    const own = await postEvent(stack, { collection: "inherited", data: { constructor: { name: "Object" } } });
    expect((await waitForEvent(stack, plain)).actions).toEqual([]);
    expect((await waitForEvent(stack, own)).actions).toHaveLength(1);
  });
});

describe("the SSRF guard", () => {
  it("refuses IPv6 forms that carry a private IPv4 address, at save", async () => {
    const strict = await startStack({ worker: false, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: "false" } });
    try {
      const def = await createDefinition(strict, { name: "ssrf", collection: "ssrf" });
      for (const host of [
        "[::127.0.0.1]",
        "[::ffff:0:127.0.0.1]",
        "[2002:7f00:1::]",
        "[64:ff9b:1::7f00:1]",
        "[::a9fe:a9fe]",
        "[::ffff:169.254.169.254]",
        "0x7f.1",
        "[fd00:ec2::254]",
      ]) {
        const res = await strict.api("POST", "/webhooks", { definitionId: def.id, url: `http://${host}/hook` });
        expect(res.status, host).toBe(400);
        expect(expectError(res, 400, "invalid_request").details).toEqual([
          expect.objectContaining({
            path: "url",
            message: expect.stringContaining("loopback, private, link-local or metadata"),
          }),
        ]);
      }
      expect(
        (await strict.api("POST", "/webhooks", { definitionId: def.id, url: "http://[2606:4700::1111]/hook" })).status,
      ).toBe(201);
      expect(await strict.deps.db.webhook.count()).toBe(1);
    } finally {
      await strict.stop();
    }
  });
});

describe("every event and action reaches a final state", () => {
  let idle: TestStack; // no worker: the test runs the jobs, as the worker and the sweep would
  beforeAll(async () => {
    idle = await startStack({ worker: false, env: { SWEEP_GRACE_MS: "0" } });
  });
  afterAll(() => idle?.stop());

  it("fails an action whose runs keep failing after a bounded number of tries, sweeps included", async () => {
    const deps = withRuntime(idle.deps);
    const def = await createDefinition(idle, { name: "poisoned", collection: "poisoned" });
    expect(
      (
        await idle.api("POST", `/definitions/${def.id}/triggers`, {
          action: "create",
          targetCollection: "poison_target",
          data: { poison: true },
        })
      ).status,
    ).toBe(201);
    // A fault the database itself raises on every run (not an outage): the record the trigger writes is refused.
    await idle.owner.query(`ALTER TABLE records ADD CONSTRAINT no_poison CHECK (NOT (data ? 'poison'))`);
    try {
      const id = await postEvent(idle, { collection: "poisoned" });
      await expect(matchEvent(deps, id)).rejects.toThrow(/no_poison/);
      const [action] = await idle.deps.db.eventAction.findMany({ where: { eventId: id } });
      for (let run = 2; run <= 10; run++) await expect(runAction(deps, action!.id)).rejects.toThrow(/no_poison/);
      expect(await idle.deps.db.eventAction.findUnique({ where: { id: action!.id } })).toMatchObject({
        status: "pending",
        unfinishedRuns: 10,
      });

      await runAction(deps, action!.id); // the 11th run gives up
      const logged = expectStatus(await idle.api("GET", `/events/${id}`), 200);
      expect(logged.status).toBe("failed");
      expect(logged.actions[0]).toMatchObject({ status: "failed", errorCode: "processing_failed" });
      expect(logged.actions[0]?.error).toMatch(/^gave up after 10 runs that did not finish; the last: .*no_poison/);
      expect((await runSweep(idle.deps)).requeuedActions).toBe(0);
    } finally {
      await idle.owner.query(`ALTER TABLE records DROP CONSTRAINT no_poison`);
    }
  });

  it("writes a match whose actions failed from the start with its final status at once", async () => {
    // No later writer would settle this event: its status must not wait for one (a crash there would
    // leave it processing for ever).
    const deps = withRuntime(idle.deps);
    const id = await postEvent(idle, { collection: "settled_at_match" });
    const claimed = await deps.runtime.actionLog.claim(id);
    expect(claimed.event?.id).toBe(id);
    const failure = { errorCode: "condition_too_costly", error: "the condition was not decided" };
    await deps.runtime.actionLog.match({
      eventId: id,
      actions: [
        {
          id: `act_${id.slice(4)}`,
          eventId: id,
          kind: "webhook",
          targetId: "whk_x",
          definitionId: "def_x",
          start: { status: "processing", attempts: 1 },
          failure,
        },
      ],
    });
    expect((await idle.api("GET", `/events/${id}`)).body).toMatchObject({
      status: "failed",
      error: "webhook whk_x: the condition was not decided",
      actions: [expect.objectContaining({ status: "failed", errorCode: "condition_too_costly" })],
    });
  });

  it("counts a run that crashed the worker as a try", async () => {
    const deps = withRuntime(idle.deps);
    const def = await createDefinition(idle, { name: "crashing", collection: "crashing" });
    await idle.client.triggers.create(def.id, { action: "create", targetCollection: "crash_target", data: {} });
    await idle.owner.query(`ALTER TABLE records ADD CONSTRAINT no_crash CHECK (collection <> 'crash_target')`);
    const id = await postEvent(idle, { collection: "crashing" });
    await expect(matchEvent(deps, id)).rejects.toThrow();
    await idle.owner.query(`ALTER TABLE records DROP CONSTRAINT no_crash`);
    // Nine more runs that started and never finished (the worker was killed each time).
    await idle.deps.pool.query(`UPDATE event_actions SET "unfinishedRuns" = 10, error = NULL WHERE "eventId" = $1`, [
      id,
    ]);
    const [action] = await idle.deps.db.eventAction.findMany({ where: { eventId: id } });
    await runAction(deps, action!.id);
    expect(await idle.deps.db.eventAction.findUnique({ where: { id: action!.id } })).toMatchObject({
      status: "failed",
      errorCode: "processing_failed",
      error:
        "gave up after 10 runs that did not finish; the last: " +
        "the worker stopped (crashed or was stopped) while running it",
    });
  });

  it("fails an event whose matching keeps failing once its tries are spent, and a replay tries again", async () => {
    const deps = withRuntime(idle.deps);
    const def = await createDefinition(idle, { name: "unmatchable", collection: "unmatchable" });
    await idle.client.triggers.create(def.id, { action: "create", targetCollection: "unmatched_target", data: {} });
    const id = await postEvent(idle, { collection: "unmatchable" });
    await idle.owner.query(`ALTER TABLE event_actions ADD CONSTRAINT no_match CHECK ("eventId" <> '${id}')`);
    try {
      for (let run = 1; run <= 10; run++) await expect(matchEvent(deps, id)).rejects.toThrow(/no_match/);
      // An 11th job finds nothing it may claim, and the sweep, instead of queueing the event again, fails it.
      await matchEvent(deps, id);
      // The only events the sweep queues again: the config.changed reports of this file's changes, which no
      // worker of this stack matches (it has none). Not the failed one.
      const reports = await idle.deps.db.eventLog.count({ where: { collection: "tetik", status: "pending" } });
      const swept = await runSweep(idle.deps);
      expect(swept).toMatchObject({ failedEvents: 1, requeuedEvents: reports });
      const logged = expectStatus(await idle.api("GET", `/events/${id}`), 200);
      expect(logged).toMatchObject({ status: "failed", attempts: 10, actions: [] });
      expect(logged.error).toMatch(
        /^processing_failed: gave up after 10 tries that did not finish; the last: .*no_match/,
      );
      expect((await runSweep(idle.deps)).failedEvents).toBe(0);
    } finally {
      await idle.owner.query(`ALTER TABLE event_actions DROP CONSTRAINT no_match`);
    }
    expect((await idle.api("POST", `/events/${id}/replay`)).status).toBe(202);
    await matchEvent(deps, id);
    expect((await idle.api("GET", `/events/${id}`)).body).toMatchObject({
      status: "completed",
      attempts: 1,
      error: null,
      actions: [expect.objectContaining({ status: "completed" })],
    });
  });
});

describe("answers stay bounded in bytes", () => {
  const bulky = (i: number) => ({ i, blob: "x".repeat(900 * 1024) });

  it("cuts a page of events at the byte budget and continues it with nextCursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push(await postEvent(stack, { collection: "bulky", recordId: `b-${i}`, data: bulky(i) }));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const after: string = cursor ? `&cursor=${cursor}` : "";
      const page = expectStatus(await stack.api("GET", `/events?collection=bulky&limit=200${after}`), 200);
      expect(page.data.length).toBeGreaterThan(0);
      expect(JSON.stringify(page).length).toBeLessThan(4.5 * 1024 * 1024);
      seen.push(...page.data.map((e) => e.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3); // 4 + 4 + 2 events of 900 KiB under a 4 MiB budget
    expect(seen).toEqual([...ids].reverse());
  });

  it("does the same for records", async () => {
    for (let i = 0; i < 6; i++)
      expect(
        (await stack.api("POST", "/collections/bulky_records/records", { id: `r-${i}`, data: bulky(i) })).status,
      ).toBe(201);
    const first = expectStatus(await stack.api("GET", "/collections/bulky_records/records?limit=200"), 200);
    expect(first.data.map((r) => r.id)).toEqual(["r-5", "r-4", "r-3", "r-2"]);
    expect(first.nextCursor).toBe("r-2");
    const second = await stack.api("GET", `/collections/bulky_records/records?limit=200&cursor=${first.nextCursor}`);
    expect(second.body).toMatchObject({
      data: [expect.objectContaining({ id: "r-1" }), expect.objectContaining({ id: "r-0" })],
      nextCursor: null,
    });
  });
});

describe("configuration is bounded too", () => {
  it("refuses templates over 64 KiB and a definition's 101st webhook or trigger", async () => {
    const def = await createDefinition(stack, { name: "crowded", collection: "crowded" });
    const big = expectError(
      await stack.api("POST", "/webhooks", {
        definitionId: def.id,
        url: `${receiver.url}/c`,
        payload: { text: "x".repeat(70_000) },
      }),
      400,
      "invalid_request",
    );
    expect(big.message).toContain("payload: is 70011 bytes of JSON; at most 64 KiB");
    const bigTrigger = await stack.api("POST", `/definitions/${def.id}/triggers`, {
      action: "create",
      targetCollection: "c",
      data: { text: "x".repeat(70_000) },
    });
    expect(bigTrigger.status).toBe(400);

    for (let i = 0; i < 95; i++)
      await createWebhook(stack, { definitionId: def.id, url: `${receiver.url}/c${i}`, active: false });
    // Ten at once for the last five places: the count and the write are one step.
    const racing = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        stack.api("POST", "/webhooks", { definitionId: def.id, url: `${receiver.url}/r${i}`, active: false }),
      ),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 201, 201, 201, 400, 400, 400, 400, 400]);
    expect(racing.find((r) => r.status === 400)!.body.error.message).toBe(
      `definition ${def.id} has 100 webhooks; at most 100`,
    );
    const detail = expectStatus(await stack.api("GET", `/definitions/${def.id}`), 200);
    expect(detail.webhooks).toHaveLength(100);
  });
});

describe("Idempotency-Key", () => {
  it("answers a repeat with the first id, and a reuse with another body with 422, changing nothing", async () => {
    const key = { "idempotency-key": "order-42-created" };
    const first = expectStatus(
      await stack.api("POST", "/events", event("idem", { total: 1, status: "new" }), key),
      202,
    );
    // The same event with its keys in another order is the same request.
    const repeat = await stack.api(
      "POST",
      "/events",
      '{"data":{"status":"new","total":1},"recordId":"r-1","collection":"idem","type":"collection.created"}',
      key,
    );
    expect(repeat).toMatchObject({ status: 202, body: { id: first.id } });
    const reused = await stack.api("POST", "/events", event("idem", { total: 2, status: "new" }), key);
    expectError(reused, 422, "idempotency_key_reused");

    const batchKey = { "idempotency-key": "import-7" };
    const batch = await stack.api(
      "POST",
      "/events/batch",
      { events: [event("idem", { n: 1 }), event("idem", { n: 2 })] },
      batchKey,
    );
    expect(batch.status).toBe(202);
    const longer = await stack.api(
      "POST",
      "/events/batch",
      { events: [event("idem", { n: 1 }), event("idem", { n: 2 }), event("idem", { n: 3 })] },
      batchKey,
    );
    expect(longer.status).toBe(422);
    expect(await countEvents("idem")).toBe(3);
  });

  it("lets one body win when requests with one key and different bodies race", async () => {
    const key = { "idempotency-key": "race-1" };
    const bodies = Array.from({ length: 12 }, (_, i) => event("idem_race", { side: i % 2 }));
    const answers = await Promise.all(bodies.map((body) => stack.api("POST", "/events", body, key)));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 422);
    expect(accepted.length + refused.length).toBe(12);
    expect(new Set(accepted.map((a) => a.body.id)).size).toBe(1);
    expect(accepted).toHaveLength(6);
    expect(await countEvents("idem_race")).toBe(1);
  });
});

describe("a header its template made unsendable", () => {
  it("fails the delivery at once with invalid_header, without a request or a retry", async () => {
    const def = await createDefinition(stack, { name: "header-injection", collection: "header_injection" });
    const hook = await createWebhook(stack, {
      definitionId: def.id,
      url: `${receiver.url}/headers`,
      headers: { "x-note": "{{data.note}}" },
      retry: { maxAttempts: 5, delayMs: 10 },
    });
    const id = await postEvent(stack, { collection: "header_injection", data: { note: "a\r\nx-injected: 1" } });
    const logged = await waitForEvent(stack, id);
    expect(logged.status).toBe("failed");
    expect(logged.actions).toEqual([
      expect.objectContaining({ status: "failed", attempts: 1, errorCode: "invalid_header" }),
    ]);
    expect(logged.actions[0]?.error).toContain("header x-note rendered to");
    expect(receiver.at("/headers")).toHaveLength(0);

    const test = expectStatus(
      await stack.api("POST", `/webhooks/${hook.id}/test`, { data: { note: "line\nbreak" } }),
      200,
    );
    expect(test).toMatchObject({ ok: false, status: null });
    expect(test.error).toContain("which a header cannot hold");
    const latin1 = await postEvent(stack, { collection: "header_injection", data: { note: "café" } });
    expect((await waitForEvent(stack, latin1)).status).toBe("completed");
    expect(receiver.at("/headers").map((r) => r.headers["x-note"])).toEqual(["café"]);
  });
});

describe("the Node server", () => {
  it(
    "serves with a public API's timeouts and a connection cap, and cuts off a client that sends too " + "slowly",
    async () => {
      const real = serveApi(stack.deps, { port: 0, hostname: "127.0.0.1" });
      expect({
        headers: real.headersTimeout,
        request: real.requestTimeout,
        keepAlive: real.keepAliveTimeout,
        connections: real.maxConnections,
      }).toEqual({
        headers: LIMITS.headersTimeoutMs,
        request: LIMITS.requestTimeoutMs,
        keepAlive: LIMITS.keepAliveTimeoutMs,
        connections: LIMITS.maxConnections,
      });
      real.close();

      // The same server with a 1 s header timeout, and a client that never finishes its headers.
      let slow: ReturnType<typeof serveApi> | undefined;
      const port = await new Promise<number>((resolve) => {
        slow = serveApi(
          stack.deps,
          { port: 0, hostname: "127.0.0.1", limits: { ...LIMITS, headersTimeoutMs: 1000 } },
          resolve,
        );
      });
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1", () => socket.write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "));
        let received = "";
        socket.on("data", (chunk) => (received += chunk.toString()));
        socket.on("close", () => resolve(received));
        socket.on("error", reject);
        setTimeout(() => socket.destroy(new Error("still open after 8 s")), 8000).unref();
      });
      slow!.close();
      expect(answer).toMatch(/^HTTP\/1\.1 408/);
    },
  );

  it("logs a client that hangs up mid-body as such, not as an outage, and stores nothing", async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let server: ReturnType<typeof serveApi> | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serveApi({ ...stack.deps, log }, { port: 0, hostname: "127.0.0.1" }, resolve);
    });
    try {
      const body = JSON.stringify(event("hung_up", { note: "x".repeat(2000) }));
      await new Promise<void>((resolve) => {
        const socket = connect(port, "127.0.0.1", () => {
          socket.write(
            `POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${stack.env.API_KEY}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 500)}`,
          );
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on("close", () => resolve());
        socket.on("error", () => {});
      });
      await waitFor(() => lines.some((l) => /closed its connection/.test(l.msg)), { what: "the hang-up logged" });
      expect(lines.find((l) => /closed its connection/.test(l.msg))!.level).toBe(30);
      expect(lines.filter((l) => l.level >= 40)).toEqual([]);
      expect(await countEvents("hung_up")).toBe(0);
    } finally {
      server!.close();
    }
  });

  it("lets clients in within seconds while a flood of silent connections fills every slot", async () => {
    // Found: 1,000 idle connections locked everyone out for the 10 s headers timeout. Scaled to 60 slots.
    const maxConnections = 60;
    let server: ReturnType<typeof serveApi> | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serveApi(stack.deps, { port: 0, hostname: "127.0.0.1", limits: { ...LIMITS, maxConnections } }, resolve);
    });
    const flood: Socket[] = [];
    try {
      for (let i = 0; i < maxConnections + 20; i++) {
        const socket = connect(port, "127.0.0.1");
        socket.on("error", () => {});
        flood.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      // Full: a client is refused now, as it was for 10 s before.
      const health = () =>
        new Promise<string>((resolve) => {
          const socket = connect(port, "127.0.0.1", () => socket.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
          let received = "";
          socket.on("data", (chunk) => {
            received += chunk.toString();
            socket.destroy();
          });
          socket.on("close", () => resolve(received));
          socket.on("error", () => resolve(received));
        });
      // Within the headers timeout (10 s), the silent connections are closed and a client is answered.
      const answered = await waitFor(async () => ((await health()).startsWith("HTTP/1.1 200") ? true : undefined), {
        timeoutMs: 5000,
        intervalMs: 100,
        what: "a client to be answered during the flood",
      });
      expect(answered).toBe(true);
      expect(flood.filter((s) => s.destroyed || s.readableEnded).length).toBeGreaterThan(0);
    } finally {
      for (const socket of flood) socket.destroy();
      server!.close();
    }
  });
});

describe("webhook secrets at rest", () => {
  it("are sealed with SECRETS_KEY, sign deliveries, and survive a rotation of the key", async () => {
    const [oldKey, newKey] = [randomBytes(32).toString("base64"), randomBytes(32).toString("base64")];
    const sealed = await startStack({ env: { SECRETS_KEY: oldKey } });
    const withKeys = (keys: Record<string, string>) =>
      createDeps(loadConfig({ ...sealed.env, SECRETS_KEY: "", SECRETS_KEY_PREVIOUS: "", ...keys }), "test", 2);
    const [rotating, rotated, stale] = [
      withKeys({ SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: oldKey }),
      withKeys({ SECRETS_KEY: newKey }),
      withKeys({ SECRETS_KEY: oldKey }),
    ];
    try {
      const def = await createDefinition(sealed, { name: "sealed", collection: "sealed" });
      const hook = await createWebhook(sealed, { definitionId: def.id, url: `${receiver.url}/sealed` });
      expect(hook.secret).toMatch(/^whsec_/);
      const row = await sealed.deps.db.webhook.findUniqueOrThrow({ where: { id: hook.id } });
      expect(row.secret).toMatch(/^enc:v1:/);
      expect(row.secret).not.toContain(hook.secret.slice(6, 20));
      expect(expectStatus(await sealed.api("GET", `/webhooks/${hook.id}`), 200)).not.toHaveProperty("secret");

      await waitForEvent(sealed, await postEvent(sealed, { collection: "sealed", data: { n: 1 } }));
      const [first] = receiver.at("/sealed");
      expect(
        new StandardWebhook(hook.secret).verify(first!.body, first!.headers as Record<string, string>),
      ).toMatchObject({ data: { n: 1 } });

      // A new signing secret: the old one, still sealed for this webhook, signs beside it for a day.
      const next = expectStatus(await sealed.api("POST", `/webhooks/${hook.id}/rotate-secret`), 200).secret;
      await waitForEvent(sealed, await postEvent(sealed, { collection: "sealed", data: { n: 2 } }));
      const second = receiver.at("/sealed")[1]!;
      for (const secret of [hook.secret, next])
        expect(new StandardWebhook(secret).verify(second.body, second.headers as Record<string, string>)).toMatchObject(
          { data: { n: 2 } },
        );

      // A new SECRETS_KEY: the command reseals both secrets; then the new key alone reads them, the old cannot.
      expect(await reencryptSecrets(rotating)).toEqual({ webhooks: 1, resealed: 1 });
      expect(await reencryptSecrets(rotating)).toEqual({ webhooks: 1, resealed: 0 });
      expect((await testWebhook(rotated, hook.id)).ok).toBe(true);
      const third = receiver.at("/sealed")[2]!;
      expect(() => new StandardWebhook(next).verify(third.body, third.headers as Record<string, string>)).not.toThrow();
      const unreadable = await testWebhook(stale, hook.id);
      expect(unreadable).toMatchObject({ ok: false, status: null, errorCode: "secret_unreadable" });
      expect(unreadable.error).toContain("neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS");
      expect(receiver.at("/sealed")).toHaveLength(3);
    } finally {
      await Promise.all([rotating, rotated, stale].map(closeDeps));
      await sealed.stop();
    }
  });

  it("refuses an API_KEY shorter than 16 characters, naming it and how to make one", () => {
    expect(() => loadConfig({ API_KEY: "k" })).toThrow(/API_KEY: at least 16 characters \(make one with: openssl/);
    expect(() => loadConfig({ API_KEY: "fifteen-chars-x" })).toThrow(/API_KEY/);
    expect(loadConfig({ API_KEY: "sixteen-chars-xy" }).API_KEY).toBe("sixteen-chars-xy");
  });

  it("says at start-up whether secrets are stored encrypted, and if webhooks may reach private networks", async () => {
    const lines: string[] = [];
    const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) } as never;
    announceSecurity({ config: loadConfig({}), log });
    announceSecurity(
      {
        config: loadConfig({
          SECRETS_KEY: randomBytes(32).toString("base64"),
          API_KEY: "hardening-key-0123456789",
          WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
        }),
        log,
      },
      { servesApi: false },
    );
    expect(lines).toEqual([
      expect.stringMatching(/^warn API_KEY is NOT set/),
      "warn SECRETS_KEY is not set: webhook secrets are stored unencrypted. " +
        "Set it (openssl rand -base64 32) anywhere but your own machine.",
      expect.stringMatching(/^warn WEBHOOK_ALLOW_PRIVATE_NETWORKS is on: webhooks may target loopback/),
      "info SECRETS_KEY is set: webhook secrets are stored encrypted (AES-256-GCM)",
    ]);
  });
});
