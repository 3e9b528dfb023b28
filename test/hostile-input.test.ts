// Property: generated JSON, hostile strings, deep nesting and huge numbers included, thrown at every write
// route while valid requests run beside it. Whatever it is, no answer is a 5xx, every valid request is
// accepted, a refused request wrote nothing, and every accepted event is processed to a final state.
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createDefinition, createWebhook } from "./helpers/fixtures.ts";
import type { Receiver } from "./helpers/receiver.ts";
import { type TestStack, withStackAndReceiver } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";

let stack: TestStack;
let receiver: Receiver;
let definitionId: string;
let webhookId: string;
withStackAndReceiver(
  async (started) => {
    ({ stack, receiver } = started);
    definitionId = (
      await createDefinition(stack, { name: "fuzz", collection: "fuzz", condition: { "data.v": { $exists: true } } })
    ).id;
    webhookId = (
      await createWebhook(stack, { definitionId, url: `${receiver.url}/fuzz`, headers: { "x-v": "{{data.v}}" } })
    ).id;
    await stack.client.collection("fuzz").create({ n: 1 }, { id: "base" });
  },
  // A short lease and grace: the sweep (run below, as it runs every minute in production) repairs quickly.
  { env: { WEBHOOK_TIMEOUT_MS: "2000", EVENT_LEASE_MS: "1000", SWEEP_GRACE_MS: "1000" } },
);

// JSON text, not values: some of what a client can send (1e400, a __proto__ key, 3,000 levels) has no
// faithful JavaScript value to build it from.
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.constantFrom(
    "\u0000",
    "a\u0000b",
    "\ud800",
    "\udc00x",
    "x\ud83d",
    "__proto__",
    "{{",
    "{{ data.v }}",
    "\r\nx: 1",
    "é😀",
    "$gt",
    "x".repeat(300),
  ),
);
const stringText = hostileString.map((s) => JSON.stringify(s));
const numberText = fc.oneof(
  fc.double().filter(Number.isFinite).map(String),
  fc.constantFrom("1e400", "-1e400", "1e-400", "123456789012345678901234567890", "-0"),
);
const deepText = fc.integer({ min: 60, max: 3000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`);
const { json } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof(
    { depthIdentifier: "json", maxDepth: 3 },
    stringText,
    numberText,
    fc.constantFrom("true", "false", "null", "{}", "[]"),
    deepText,
    fc.array(tie("json"), { maxLength: 3 }).map((items) => `[${items.join(",")}]`),
    fc
      .array(fc.tuple(hostileString, tie("json")), { maxLength: 3 })
      .map((entries) => `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",")}}`),
  ),
}));

interface Route {
  name: string;
  method: string;
  path: () => string;
  /** The body with `slot` (JSON text) in the place under test; `tag` marks what it would write. */
  body: (tag: string, slot: string) => string;
  /** A slot that makes a valid request. */
  valid: string;
  /** How many rows the request with this tag wrote (undefined: the route writes nothing to count). */
  written?: (tag: string) => Promise<number>;
}

const db = () => stack.deps.db;
const event = (tag: string, fields: string) =>
  `{"type":"collection.created","collection":"fuzz","recordId":"${tag}",${fields}}`;
const routes: Route[] = [
  {
    name: "event data",
    method: "POST",
    path: () => "/events",
    body: (t, s) => event(t, `"data":${s}`),
    valid: '{"v":1}',
    written: (t) => db().eventLog.count({ where: { recordId: t } }),
  },
  {
    name: "event field",
    method: "POST",
    path: () => "/events",
    body: (t, s) => event(t, `"data":{"v":${s}}`),
    valid: '"ok"',
    written: (t) => db().eventLog.count({ where: { recordId: t } }),
  },
  {
    name: "occurredAt",
    method: "POST",
    path: () => "/events",
    body: (t, s) => event(t, `"data":{},"occurredAt":${s}`),
    valid: '"2026-11-30T10:00:00Z"',
    written: (t) => db().eventLog.count({ where: { recordId: t } }),
  },
  {
    name: "batch",
    method: "POST",
    path: () => "/events/batch",
    body: (t, s) => `{"events":[${event(t, '"data":{"v":0}')},${event(t, `"data":{"v":${s}}`)}]}`,
    valid: "2",
    written: (t) => db().eventLog.count({ where: { recordId: t } }),
  },
  {
    name: "condition",
    method: "POST",
    path: () => "/definitions",
    body: (t, s) => `{"name":"${t}","type":"collection.created","collection":"fuzz_defs","condition":{"data.v":${s}}}`,
    valid: '{"$gt":1}',
    written: (t) => db().eventDefinition.count({ where: { name: t } }),
  },
  {
    name: "description",
    method: "PATCH",
    path: () => `/definitions/${definitionId}`,
    body: (_, s) => `{"description":${s},"active":true}`,
    valid: '"fine"',
  },
  {
    name: "trigger data",
    method: "POST",
    path: () => `/definitions/${definitionId}/triggers`,
    body: (t, s) => `{"action":"create","targetCollection":"${t}","data":{"v":${s}},"active":false}`,
    valid: '"{{ data.v }}"',
    written: (t) => db().eventTrigger.count({ where: { targetCollection: t } }),
  },
  {
    name: "webhook payload",
    method: "POST",
    path: () => "/webhooks",
    body: (t, s) => `{"definitionId":"${definitionId}","url":"${receiver.url}/${t}","payload":${s},"active":false}`,
    valid: '{"v":"{{data.v}}"}',
    written: (t) => db().webhook.count({ where: { url: `${receiver.url}/${t}` } }),
  },
  {
    name: "webhook headers",
    method: "POST",
    path: () => "/webhooks",
    body: (t, s) =>
      `{"definitionId":"${definitionId}","url":"${receiver.url}/${t}","headers":{"x-a":${s}},"active":false}`,
    valid: '"b"',
    written: (t) => db().webhook.count({ where: { url: `${receiver.url}/${t}` } }),
  },
  {
    name: "record",
    method: "POST",
    path: () => "/collections/fuzz/records",
    body: (t, s) => `{"id":"${t}","data":{"v":${s}}}`,
    valid: "3",
    written: (t) => db().record.count({ where: { collection: "fuzz", id: t } }),
  },
  {
    name: "record patch",
    method: "PATCH",
    path: () => "/collections/fuzz/records/base",
    body: (t, s) => `{"data":{"${t}":${s}}}`,
    valid: "4",
    written: async (t) =>
      Number(
        Object.hasOwn(
          (await db().record.findUniqueOrThrow({ where: { collection_id: { collection: "fuzz", id: "base" } } }))
            .data as object,
          t,
        ),
      ),
  },
  {
    name: "test send",
    method: "POST",
    path: () => `/webhooks/${webhookId}/test`,
    body: (_, s) => `{"data":{"v":${s}}}`,
    valid: '"t"',
  },
  {
    name: "replay filter",
    method: "POST",
    path: () => "/events/replay",
    body: (_, s) => `{"since":${s},"limit":1}`,
    valid: '"2026-11-30T00:00:00Z"',
  },
];

let tags = 0;
const newTag = () => `f${++tags}_${randomBytes(3).toString("hex")}`;

describe("hostile input at every write route", () => {
  it("never answers 5xx, accepts every valid request, and writes nothing for a refused one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        json,
        fc.array(fc.constantFrom(...routes), { minLength: 3, maxLength: 6 }),
        async (route, slot, neighbours) => {
          const hostile = { route, tag: newTag(), slot };
          const valid = neighbours.map((r) => ({ route: r, tag: newTag(), slot: r.valid }));
          const sent = [hostile, ...valid];
          const answers = await Promise.all(
            sent.map((s) => stack.api(s.route.method, s.route.path(), s.route.body(s.tag, s.slot))),
          );
          for (const [i, answer] of answers.entries()) {
            const request = sent[i]!;
            const what =
              `${request.route.name} ${request.route.body(request.tag, request.slot).slice(0, 200)} -> ` +
              `${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
            expect(answer.status, what).toBeLessThan(500);
            if (i > 0) expect(answer.status, what).toBeLessThan(300);
            if (answer.status >= 400) {
              expect(answer.body, what).toMatchObject({ error: { code: expect.stringMatching(/^[a-z_]+$/) } });
              if (request.route.written) expect(await request.route.written(request.tag), what).toBe(0);
            }
          }
          // A definition holds at most 100 webhooks and triggers: each run leaves it as it found it.
          await db().webhook.deleteMany({ where: { definitionId, id: { not: webhookId } } });
          await db().eventTrigger.deleteMany({ where: { definitionId } });
        },
      ),
      { numRuns: 150 },
    );

    // Every event accepted along the way (hostile ones included) is processed to a final state, with the
    // sweep doing its part as it does in production. (Once in a loaded CI run an event stayed processing,
    // claimed once with no error: its claim lapsed and nothing but the sweep would hand it on.)
    let unfinished: unknown[] = [];
    await waitFor(
      async () => {
        await runSweep(stack.deps).catch(() => undefined);
        unfinished = await db().eventLog.findMany({
          where: { status: { notIn: ["completed", "failed"] } },
          select: { id: true, status: true, attempts: true, error: true },
          take: 5,
        });
        return unfinished.length === 0;
      },
      { timeoutMs: 60_000, what: "every accepted event to be processed" },
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; still unfinished: ${JSON.stringify(unfinished)}`);
    });
  }, 150_000);
});
