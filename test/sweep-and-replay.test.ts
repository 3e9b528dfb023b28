// The sweep (two at once, retention), Idempotency-Key under concurrency, and bulk replay.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventRows, insertEvents } from "../functions/domain/events/ingest-events.ts";
import { createActionLog } from "../functions/domain/delivery/action-log/action-log.ts";
import { runSweep } from "../functions/domain/sweep/run-sweep.ts";
import { fromPg } from "../functions/platform/sql.ts";
import { expectError, expectStatus } from "./helpers/api-types.ts";
import { testClock } from "./helpers/clock.ts";
import { createDefinition, createWebhook, postEvent, waitForEvent } from "./helpers/fixtures.ts";
import { startReceiver, type Receiver } from "./helpers/receiver.ts";
import { startStack, type TestStack } from "./helpers/stack.ts";
import { waitFor } from "./helpers/wait.ts";

let idle: TestStack; // no worker: jobs stay in the queue where the test can count them
let stack: TestStack;
let receiver: Receiver;
beforeAll(async () => {
  [idle, stack, receiver] = await Promise.all([
    startStack({ worker: false, env: { SWEEP_GRACE_MS: "5000" } }),
    startStack(),
    startReceiver(),
  ]);
});
afterAll(async () => {
  await Promise.all([idle?.stop(), stack?.stop(), receiver?.close()]);
});

/** Events committed at `receivedAt` without any job, as if the enqueue after commit had failed. */
async function orphanEvents(s: TestStack, count: number, collection: string, receivedAt = new Date()) {
  const inputs = Array.from({ length: count }, (_, i) => ({
    type: "collection.created" as const,
    collection,
    recordId: `r${i}`,
    data: {},
  }));
  const { ids } = await insertEvents(fromPg(s.deps.pool), eventRows(inputs, receivedAt));
  return ids;
}

/** Jobs queued and not finished, on whichever backend the stack's queue is. */
async function queuedJobs(s: TestStack): Promise<number> {
  const counts = await s.deps.queue.counts();
  return counts.waiting + counts.delayed + counts.active;
}

describe("the sweep", () => {
  it("splits the work when two sweeps run at once, and does not take it again within the grace period", async () => {
    const clock = testClock();
    const grace = idle.config.SWEEP_GRACE_MS;
    const sweep = () => runSweep({ ...idle.deps, now: clock.now });
    const ids = await orphanEvents(idle, 40, "sweeps", clock.now());
    // Just received: within the grace period their jobs may only be slow, so the sweep leaves them.
    expect((await sweep()).requeuedEvents).toBe(0);
    clock.advance(grace);
    expect((await sweep()).requeuedEvents).toBe(0);
    expect(await queuedJobs(idle)).toBe(0);

    clock.advance(1);
    const [a, b] = await Promise.all([sweep(), sweep()]);
    expect(a.requeuedEvents + b.requeuedEvents).toBe(ids.length);
    expect(await queuedJobs(idle)).toBe(ids.length);
    // The jobs are queued: a sweep within the grace period leaves these events to them...
    clock.advance(grace - 1);
    expect((await sweep()).requeuedEvents).toBe(0);
    // ...and once it has passed again with no job taking them, the next sweep hands them on once more (their
    // jobs, still queued under the same ids, are not queued twice).
    clock.advance(2);
    expect((await sweep()).requeuedEvents).toBe(ids.length);
    expect(await queuedJobs(idle)).toBe(ids.length);
  });

  it("requeues at most SWEEP_BATCH_SIZE per run", async () => {
    const clock = testClock();
    await orphanEvents(idle, 30, "batched", clock.now());
    clock.advance(idle.config.SWEEP_GRACE_MS + 1);
    const deps = { ...idle.deps, config: { ...idle.deps.config, SWEEP_BATCH_SIZE: 7 }, now: clock.now };
    expect((await runSweep(deps)).requeuedEvents).toBe(7);
  });

  it("prunes completed events older than LOG_RETENTION_DAYS and keeps failed ones", async () => {
    const [oldDone, oldFailed, recentDone] = await orphanEvents(idle, 3, "retention");
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    await idle.deps.db.eventLog.update({
      where: { id: oldDone! },
      data: { status: "completed", matchedAt: longAgo, completedAt: longAgo },
    });
    await idle.deps.db.eventLog.update({
      where: { id: oldFailed! },
      data: { status: "failed", matchedAt: longAgo, completedAt: longAgo },
    });
    await idle.deps.db.eventLog.update({
      where: { id: recentDone! },
      data: { status: "completed", matchedAt: new Date(), completedAt: new Date() },
    });
    const result = await runSweep(idle.deps);
    expect(result.prunedEvents).toBe(1);
    const left = await idle.deps.db.eventLog.findMany({ where: { collection: "retention" }, select: { id: true } });
    expect(left.map((e) => e.id).sort()).toEqual([oldFailed, recentDone].sort());
  });
});

describe("claims", () => {
  it("leaves an event another run holds under its lease, and delivers it once after that lease lapses", async () => {
    const definition = await createDefinition(stack, { name: "claimed", collection: "claimed" });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/claimed` });
    const clock = testClock();
    const sweep = () => runSweep({ ...stack.deps, now: clock.now });
    const [id] = await orphanEvents(stack, 1, "claimed", clock.now());
    // Another worker claimed it and is still delivering: its lease holds for an hour. The running worker
    // (on its own, real clock) finds it held when a duplicate job asks for it.
    const leaseMs = 3_600_000;
    await stack.deps.db.eventLog.update({
      where: { id: id! },
      data: { status: "processing", leaseExpiresAt: new Date(clock.now().getTime() + leaseMs) },
    });
    await stack.deps.queue.add("process-events", [{ id: `dup-${id}`, data: { eventIds: [id!] } }]);
    await waitFor(async () => (await queuedJobs(stack)) === 0, {
      timeoutMs: 10_000,
      what: "the duplicate job to finish",
    });
    expect(receiver.at("/claimed")).toHaveLength(0);
    // Past the sweep's grace period, only the lease keeps the sweep off it.
    clock.advance(stack.config.SWEEP_GRACE_MS + 1);
    expect((await sweep()).requeuedEvents).toBe(0);
    expect((await stack.client.events.get(id!)).status).toBe("processing");

    // That worker died: once its lease lapses, the sweep hands the event on and it is delivered once.
    clock.advance(leaseMs);
    expect((await sweep()).requeuedEvents).toBe(1);
    const event = await waitForEvent(stack, id!);
    expect(event.status).toBe("completed");
    expect(event.actions).toHaveLength(1);
    expect(receiver.at("/claimed")).toHaveLength(1);
    expect(await stack.deps.db.deliveryAttempt.count({ where: { eventId: id! } })).toBe(1);
  });
});

describe("claims in one flush", () => {
  it("give an event asked for twice at once to one of the two", async () => {
    const [id] = await orphanEvents(idle, 1, "twice");
    const log = createActionLog(idle.deps.pool, () => new Date(), {
      lease: { defaultTimeoutMs: 1000, marginMs: 1000 },
      release: async () => {},
    });
    const [first, second] = await Promise.all([log.claim(id!), log.claim(id!)]);
    expect(first.event?.id).toBe(id);
    expect(second.event).toBeUndefined();
  });
});

describe("a run whose claim lapsed before it matched", () => {
  // As when a worker stalls past its lease: another run takes the event over; the first must not match it
  // again or make first runs of actions it did not create.
  it("writes nothing, and the run that took the event over owns its actions", async () => {
    const [id] = await orphanEvents(idle, 1, "lapsed");
    const clock = testClock(new Date());
    const lease = { defaultTimeoutMs: 1000, marginMs: 1000 };
    const stalled = createActionLog(idle.deps.pool, clock.now, { lease, release: async () => {} });
    const other = createActionLog(idle.deps.pool, clock.now, { lease, release: async () => {} });
    expect((await stalled.claim(id!)).event?.id).toBe(id);
    expect((await other.claim(id!)).event).toBeUndefined(); // the lease holds
    clock.advance(60_000);
    expect((await other.claim(id!)).event?.id).toBe(id);
    const planned = (webhookId: string) => ({
      id: `act_lapsed_${webhookId}`,
      eventId: id!,
      kind: "webhook" as const,
      targetId: webhookId,
      definitionId: "def_lapsed",
      start: { status: "processing" as const, attempts: 1 },
    });
    const actions = [planned("whk_a"), planned("whk_b")];
    expect([...(await other.match({ eventId: id!, actions }))].sort()).toEqual([
      "act_lapsed_whk_a",
      "act_lapsed_whk_b",
    ]);
    expect((await stalled.match({ eventId: id!, actions })).size).toBe(0);
    const event = await idle.deps.db.eventLog.findUniqueOrThrow({ where: { id: id! }, include: { actions: true } });
    expect(event.status).toBe("processing");
    expect(event.actions.map((a) => [a.id, a.status, a.attempts, a.unfinishedRuns]).sort()).toEqual([
      ["act_lapsed_whk_a", "processing", 1, 1],
      ["act_lapsed_whk_b", "processing", 1, 1],
    ]);
  });
});

describe("an action in its first run", () => {
  it("is left by the sweep while the claim's lease holds, and taken once it lapsed", async () => {
    const [id] = await orphanEvents(idle, 1, "first-run");
    const start = new Date();
    const log = createActionLog(idle.deps.pool, () => start, {
      lease: { defaultTimeoutMs: 60_000, marginMs: 1000 },
      release: async () => {},
    });
    expect((await log.claim(id!)).event?.id).toBe(id);
    const actionId = `act_first_run_${id!.slice(4)}`;
    await log.match({
      eventId: id!,
      actions: [
        {
          id: actionId,
          eventId: id!,
          kind: "webhook",
          targetId: "whk_first_run",
          definitionId: "def_first_run",
          start: { status: "processing", attempts: 1 },
        },
        // Two actions: an event's only webhook is written with its first attempt, not before.
        {
          id: `${actionId}_trigger`,
          eventId: id!,
          kind: "trigger",
          targetId: "trg_first_run",
          definitionId: "def_first_run",
          start: { status: "pending", attempts: 0 },
        },
      ],
    });
    const stampAfterSweepAt = async (ms: number) => {
      await runSweep({ ...idle.deps, now: () => new Date(start.getTime() + ms) });
      return (await idle.deps.db.eventAction.findUniqueOrThrow({ where: { id: actionId } })).updatedAt.getTime();
    };
    // Past the grace period (5 s here), within the lease (at least 61 s): a slow first attempt is in flight.
    expect(await stampAfterSweepAt(10_000)).toBe(start.getTime());
    expect(await stampAfterSweepAt(120_000)).toBe(start.getTime() + 120_000);
  });
});

describe("claim leases", () => {
  it("hold an event being delivered for its collection's longest webhook timeout and EVENT_LEASE_MS", async () => {
    const definition = await createDefinition(stack, { name: "leased", collection: "leased" });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/leased`, timeoutMs: 45_000 });
    // A slower webhook of another collection does not lengthen this collection's leases (5.5 min were seen).
    const other = await createDefinition(stack, { name: "slow elsewhere", collection: "slow_elsewhere" });
    await createWebhook(stack, { definitionId: other.id, url: `${receiver.url}/elsewhere`, timeoutMs: 300_000 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    receiver.respond((req) => (req.path === "/leased" ? { status: 200, until: gate } : { status: 200 }));
    const id = await postEvent(stack, { collection: "leased" });
    try {
      await waitFor(() => receiver.at("/leased").length === 1, { what: "the delivery to be in flight" });
      const held = await stack.deps.db.eventLog.findUniqueOrThrow({ where: { id } });
      expect(held.status).toBe("processing");
      const { WEBHOOK_TIMEOUT_MS, EVENT_LEASE_MS } = stack.config;
      expect(held.leaseExpiresAt!.getTime() - held.startedAt!.getTime()).toBe(
        Math.max(WEBHOOK_TIMEOUT_MS, 45_000) + EVENT_LEASE_MS,
      );
    } finally {
      release();
      receiver.respond(() => ({ status: 200 }));
    }
    expect((await waitForEvent(stack, id)).status).toBe("completed");
    expect((await stack.deps.db.eventLog.findUniqueOrThrow({ where: { id } })).leaseExpiresAt).toBeNull();
  });
});

describe("a failed write after the claim", () => {
  it("lets the job's retry claim the event at once and deliver it again with the same webhook-id", async () => {
    const definition = await createDefinition(stack, { name: "unwritten", collection: "unwritten" });
    const hook = await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/unwritten` });
    // The database refuses this webhook's attempts: the outcome write after each delivery fails.
    await stack.owner.query(
      `ALTER TABLE delivery_attempts ADD CONSTRAINT refuse_unwritten CHECK ("webhookId" <> '${hook.id}') NOT VALID`,
    );
    let id: string;
    try {
      id = await postEvent(stack, { collection: "unwritten" });
      // Without the claim released, the retry (1 s later) would find it held for the lease (40 s).
      await waitFor(() => receiver.at("/unwritten").length >= 2, {
        timeoutMs: 10_000,
        what: "a second delivery by the job's retry",
      });
    } finally {
      await stack.owner.query(`ALTER TABLE delivery_attempts DROP CONSTRAINT refuse_unwritten`);
    }
    const event = await waitForEvent(stack, id!, ["completed"], 20_000);
    expect(event.actions).toHaveLength(1);
    const [action] = await stack.deps.db.eventAction.findMany({ where: { eventId: id! } });
    const ids = new Set(receiver.at("/unwritten").map((r) => r.headers["webhook-id"]));
    expect([...ids]).toEqual([action!.id]);
    expect(await stack.deps.db.deliveryAttempt.count({ where: { eventId: id! } })).toBe(1);
  });
});

describe("idempotency", () => {
  it("creates one event for concurrent requests with the same Idempotency-Key", async () => {
    const body = { type: "collection.created", collection: "idem", recordId: "i-1", data: {} };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => idle.api("POST", "/events", body, { "idempotency-key": "same-key" })),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(new Set(answers.map((a) => expectStatus(a, 202).id)).size).toBe(1);
    expect(await idle.deps.db.eventLog.count({ where: { collection: "idem" } })).toBe(1);

    const batch = { events: [body, { ...body, recordId: "i-2" }] };
    const batches = await Promise.all(
      Array.from({ length: 5 }, () => idle.api("POST", "/events/batch", batch, { "idempotency-key": "same-key" })),
    );
    expect(new Set(batches.map((a) => JSON.stringify(expectStatus(a, 202).ids))).size).toBe(1);
    expect(await idle.deps.db.eventLog.count({ where: { collection: "idem" } })).toBe(3);
  });
});

describe("bulk replay", () => {
  it("replays the failed deliveries of one webhook and answers how many were queued", async () => {
    const definition = await createDefinition(stack, { name: "bulk", collection: "bulk" });
    const broken = await createWebhook(stack, {
      definitionId: definition.id,
      url: `${receiver.url}/broken`,
      retry: { maxAttempts: 1 },
    });
    await createWebhook(stack, { definitionId: definition.id, url: `${receiver.url}/fine` });
    receiver.respond((req) => (req.path === "/broken" ? { status: 500 } : { status: 200 }));
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await postEvent(stack, { collection: "bulk", recordId: `b${i}` }));
    for (const id of ids) expect((await waitForEvent(stack, id)).status).toBe("failed");

    receiver.respond(() => ({ status: 200 }));
    const replay = await stack.api("POST", "/events/replay", { webhookId: broken.id, status: "failed" });
    expect(expectStatus(replay, 202)).toEqual({ queued: 4, events: 4 });
    for (const id of ids) expect((await waitForEvent(stack, id, ["completed"])).status).toBe("completed");
    expect(receiver.at("/broken")).toHaveLength(8);
    expect(receiver.at("/fine")).toHaveLength(4);

    expect(expectStatus(await stack.api("POST", "/events/replay", { webhookId: broken.id }), 202)).toEqual({
      queued: 0,
      events: 0,
    });
    expectError(await stack.api("POST", "/events/replay", { status: "sideways" }), 400, "invalid_request");
    expectError(await stack.api("POST", "/events/replay", { limit: 5000 }), 400, "invalid_request");
  });
});
