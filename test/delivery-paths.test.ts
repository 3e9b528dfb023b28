// The sole-webhook fast path (action, attempt and event status in one statement) against the general path
// (match, then attempt, then the status recomputed from all the event's actions): on the same inputs they
// must write the same rows, since both stand for the one status rule (domain/delivery/statuses.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AttemptOutcome } from "../functions/domain/delivery/pipeline.ts";
import { eventRows, insertEvents } from "../functions/domain/events/ingest-events.ts";
import { derivedId } from "../functions/platform/ids.ts";
import { fromPg } from "../functions/platform/sql.ts";
import { createEventClaimer } from "../functions/worker/pipeline/event-claimer.ts";
import { createLogWriter } from "../functions/worker/pipeline/log-writer.ts";
import { testClock } from "./helpers/clock.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ worker: false });
});
afterAll(async () => {
  await stack?.stop();
});

type Result = AttemptOutcome["result"];
const delivered: Result = { ok: true, status: 200, durationMs: 12, responseBody: "ok", error: null, errorCode: null };
const unavailable: Result = {
  ok: false,
  status: 503,
  durationMs: 30,
  responseBody: "busy",
  error: "the receiver answered 503",
  errorCode: "http_503",
};
const refused: Result = {
  ok: false,
  status: 400,
  durationMs: 7,
  responseBody: "no",
  error: "the receiver answered 400",
  errorCode: "http_400",
};

/** One attempt's outcome as attemptWebhook would record it (status and next time as nextAttempt decides). */
type Step = { result: Result; status: AttemptOutcome["status"]; retryInMs?: number };

const WEBHOOK = "whk_paths";
const DEFINITION = "def_paths";

/**
 * Runs `steps` for one event through one path: the first attempt through the sole path or through
 * match + shared record; later attempts always through the shared record (as run-action does).
 */
async function run(path: "sole" | "shared", collection: string, steps: Step[], start: Date) {
  const clock = testClock(start);
  const q = fromPg(stack.deps.pool);
  const { ids } = await insertEvents(
    q,
    eventRows([{ type: "collection.created", collection, recordId: "r1", data: { n: 1 } }], clock.now()),
  );
  const eventId = ids[0]!;
  const actionId = derivedId("act", eventId, `${eventId}/webhook/${WEBHOOK}`);
  const claimer = createEventClaimer(q, clock.now, { defaultTimeoutMs: 1000, marginMs: 1000 });
  const writer = createLogWriter(stack.deps.pool, clock.now, stack.deps.log);
  clock.advance(5);
  expect((await claimer.add(eventId)).event?.id).toBe(eventId);
  if (path === "shared")
    await writer.match({
      eventId,
      actions: [{ id: actionId, eventId, kind: "webhook", targetId: WEBHOOK, definitionId: DEFINITION }],
    });
  for (const [index, step] of steps.entries()) {
    const requestedAt = clock.now();
    const finishedAt = clock.advance(step.result.durationMs);
    await writer.record({
      eventId,
      actionId,
      webhookId: WEBHOOK,
      attempt: index + 1,
      requestedAt,
      finishedAt,
      result: step.result,
      status: step.status,
      nextAttemptAt: step.retryInMs === undefined ? null : new Date(finishedAt.getTime() + step.retryInMs),
      soleAction: path === "sole" && index === 0 ? { definitionId: DEFINITION } : undefined,
    });
    clock.advance(step.retryInMs ?? 0);
  }
  return rowsOf(eventId);
}

/** Everything written for the event, without its ids (which differ by construction). */
async function rowsOf(eventId: string) {
  const { db } = stack.deps;
  const {
    id: _id,
    idempotencyKey: _key,
    collection: _collection,
    ...event
  } = await db.eventLog.findUniqueOrThrow({ where: { id: eventId } });
  const actions = (await db.eventAction.findMany({ where: { eventId } })).map(
    ({ id: _a, eventId: _e, ...action }) => action,
  );
  const attempts = (await db.deliveryAttempt.findMany({ where: { eventId }, orderBy: { attempt: "asc" } })).map(
    ({ id: _a, eventId: _e, actionId: _c, ...attempt }) => attempt,
  );
  return { event, actions, attempts };
}

describe("the sole-webhook path and the shared path", () => {
  const cases: Record<string, Step[]> = {
    "delivered at once": [{ result: delivered, status: "completed" }],
    "refused for good": [{ result: refused, status: "failed" }],
    "waiting for a retry": [{ result: unavailable, status: "retrying", retryInMs: 1000 }],
    "retried, then delivered": [
      { result: unavailable, status: "retrying", retryInMs: 1000 },
      { result: delivered, status: "completed" },
    ],
    "retried until the policy gave up": [
      { result: unavailable, status: "retrying", retryInMs: 500 },
      { result: unavailable, status: "failed" },
    ],
  };

  it.each(Object.keys(cases))("write the same event, action and attempts when %s", async (name) => {
    const start = new Date("2026-12-01T10:00:00.000Z");
    const collection = `paths-${name.replace(/\W+/g, "-")}`;
    const sole = await run("sole", collection, cases[name]!, start);
    const shared = await run("shared", collection, cases[name]!, start);
    expect(sole).toEqual(shared);
    // And what they agree on is the rule: the last step decides the status of an event with one action.
    const last = cases[name]!.at(-1)!;
    expect(sole.event.status).toBe(last.status);
    expect(sole.event.error).toBe(last.status === "completed" ? null : `webhook ${WEBHOOK}: ${last.result.error}`);
    expect(sole.attempts.map((a) => a.status)).toEqual(cases[name]!.map((s) => s.result.status));
    expect(sole.event.completedAt === null).toBe(last.status === "retrying");
  });
});
