// The action log writes an attempt of an event's only action in one statement (action, attempt and event
// status, the rule over that one action) and an attempt of an event with other actions under the event's
// lock, its status recomputed from all of them. Both stand for the one status rule
// (domain/delivery/action-log/event-status.ts): with the other action completed, the rule gives the same
// event, so both must write the same rows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActionLog, type AttemptOutcome } from "../functions/domain/delivery/action-log/action-log.ts";
import { eventRows, insertEvents } from "../functions/domain/events/ingest-events.ts";
import { derivedId } from "../functions/platform/ids.ts";
import { fromPg } from "../functions/platform/sql.ts";
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
const OTHER_WEBHOOK = "whk_paths_other";
const DEFINITION = "def_paths";

/**
 * Runs `steps` for one event's webhook action: the event's only action ("sole"), or beside another action
 * that was delivered at once ("shared").
 */
async function run(path: "sole" | "shared", collection: string, steps: Step[], start: Date) {
  const clock = testClock(start);
  const q = fromPg(stack.deps.pool);
  const { ids } = await insertEvents(
    q,
    eventRows([{ type: "collection.created", collection, recordId: "r1", data: { n: 1 } }], clock.now()),
  );
  const eventId = ids[0]!;
  const action = (webhookId: string) => ({
    id: derivedId("act", eventId, `${eventId}/webhook/${webhookId}`),
    eventId,
    kind: "webhook" as const,
    targetId: webhookId,
    definitionId: DEFINITION,
    start: { status: "processing" as const, attempts: 1 },
  });
  const log = createActionLog(stack.deps.pool, clock.now, {
    lease: { defaultTimeoutMs: 1000, marginMs: 1000 },
    release: async () => {},
  });
  clock.advance(5);
  expect((await log.claim(eventId)).event?.id).toBe(eventId);
  const actions = path === "sole" ? [action(WEBHOOK)] : [action(WEBHOOK), action(OTHER_WEBHOOK)];
  await log.match({ eventId, actions });
  const attempt = (actionId: string, webhookId: string, attempt: number, step: Step) => {
    const requestedAt = clock.now();
    const finishedAt = clock.advance(step.result.durationMs);
    return log.recordAttempt({
      eventId,
      actionId,
      webhookId,
      attempt,
      requestedAt,
      finishedAt,
      result: step.result,
      status: step.status,
      nextAttemptAt: step.retryInMs === undefined ? null : new Date(finishedAt.getTime() + step.retryInMs),
    });
  };
  if (path === "shared") await attempt(actions[1]!.id, OTHER_WEBHOOK, 1, { result: delivered, status: "completed" });
  else clock.advance(delivered.durationMs);
  for (const [index, step] of steps.entries()) {
    await attempt(actions[0]!.id, WEBHOOK, index + 1, step);
    clock.advance(step.retryInMs ?? 0);
  }
  return rowsOf(eventId, actions[0]!.id);
}

/** Everything written for the event, without its ids (which differ by construction). */
async function rowsOf(eventId: string, actionId: string) {
  const { db } = stack.deps;
  const {
    id: _id,
    idempotencyKey: _key,
    collection: _collection,
    ...event
  } = await db.eventLog.findUniqueOrThrow({ where: { id: eventId } });
  const actions = (await db.eventAction.findMany({ where: { id: actionId } })).map(
    ({ id: _a, eventId: _e, ...action }) => action,
  );
  const attempts = (await db.deliveryAttempt.findMany({ where: { actionId }, orderBy: { attempt: "asc" } })).map(
    ({ id: _a, eventId: _e, actionId: _c, ...attempt }) => attempt,
  );
  return { event, actions, attempts };
}

describe("an attempt of an event's only action and one beside a delivered action", () => {
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
