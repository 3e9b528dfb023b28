// The flow limiter, on Redis and on Postgres (QUEUE_BACKEND=postgres) alike, taken from several connections at
// once as worker processes would.
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createFlowLimiter, type FlowLimiter, type FlowLimits } from "../functions/platform/flow-limiter.ts";
import { createPostgresFlowLimiter } from "../functions/platform/flow-limiter-postgres.ts";
import { createPool } from "../functions/platform/pool.ts";
import { createTestDatabase, type TestDatabase } from "./helpers/database.ts";
import { notRun, REDIS_THERE } from "./helpers/queue-backend.ts";
import { clearQueuePrefix, REDIS_URL } from "./helpers/redis.ts";

const prefix = `flow-${randomBytes(3).toString("hex")}`;
const connections = REDIS_THERE ? [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)] : [];
let database: TestDatabase;
const pools: ReturnType<typeof createPool>[] = [];
beforeAll(async () => {
  database = await createTestDatabase(inject("templateDatabase"));
  for (let i = 0; i < 3; i++) pools.push(createPool({ url: database.appUrl, poolSize: 6 }));
});
afterAll(async () => {
  if (REDIS_THERE) await clearQueuePrefix(prefix);
  for (const redis of connections) redis.disconnect();
  await Promise.all(pools.map((pool) => pool.end()));
  await database?.drop();
});

/** Three limiters, as three worker processes hold them: each on its own connection (or pool). */
const backends: Array<[string, () => FlowLimiter[]]> = [
  ["Redis", () => connections.map((redis) => createFlowLimiter(redis, prefix))],
  ["Postgres", () => pools.map((pool) => createPostgresFlowLimiter(pool))],
];
if (!REDIS_THERE) {
  backends.shift();
  notRun("the flow limiter on Redis (its Lua script)");
}

let tokens = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each limiter takes turns for `ms` as fast as it is let, holding each turn `holdMs`; answers the starts. */
async function drive(limiters: FlowLimiter[], webhookId: string, limits: FlowLimits, ms: number, holdMs = 0) {
  const starts: number[] = [];
  let open = 0;
  let mostOpen = 0;
  const end = Date.now() + ms;
  await Promise.all(
    limiters.flatMap((limiter) =>
      Array.from({ length: 4 }, async () => {
        // A request keeps its token while it waits, as a delivery keeps its action's id, and comes back
        // with the turn its wait booked.
        let token = `req_${tokens++}`;
        let booking: string | undefined;
        while (Date.now() < end) {
          const turn = await limiter.take(webhookId, limits, { token, leaseMs: 5_000, booking });
          if (!turn.ok) {
            booking = turn.booking;
            await sleep(Math.min(turn.waitMs, end - Date.now()));
            continue;
          }
          token = `req_${tokens++}`;
          booking = undefined;
          // Redis's clock, which the limiter keeps to: this process's would add its own event loop's delays.
          starts.push(turn.at);
          mostOpen = Math.max(mostOpen, ++open);
          await sleep(holdMs);
          open--;
          if (turn.token) await limiter.release(webhookId, turn.token);
        }
      }),
    ),
  );
  return { starts: starts.sort((a, b) => a - b), mostOpen };
}

/** The most starts in any window of `windowMs`. */
function busiestWindow(starts: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i]! - starts[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe.each(backends)("the flow limiter on %s", (_, make) => {
  let limiters: FlowLimiter[];
  beforeAll(() => {
    limiters = make();
  });

  it("starts at most maxPerSecond requests in any second, across connections, and keeps the pace", async () => {
    const { starts } = await drive(limiters, "whk_rate", { maxPerSecond: 50, maxInFlight: null }, 3_000);
    expect(busiestWindow(starts, 1000)).toBeLessThanOrEqual(50);
    // Not starved either: three seconds at 50 a second.
    expect(starts.length).toBeGreaterThanOrEqual(140);
  });

  it("books each waiting request its own turn, evenly spaced at the rate, taken on its first return", async () => {
    const limits = { maxPerSecond: 20, maxInFlight: null };
    const [a, b, c] = limiters;
    // 60 requests at once from three connections: 20 go now, 40 are booked 50 ms apart from a second on.
    const asking = performance.now();
    const asked = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        limiters[i % 3]!.take("whk_book", limits, { token: `b${i}`, leaseMs: 1000 }).then((turn) => ({
          turn,
          answeredAt: performance.now() - asking,
        })),
      ),
    );
    const waits = asked.flatMap(({ turn, answeredAt }) => (turn.ok ? [] : [{ ...turn, answeredAt }]));
    expect(waits).toHaveLength(40);
    expect(waits.every((turn) => turn.reason === "rate" && turn.booking)).toBe(true);
    // When each booked turn comes, counted from the first ask (each wait counts from its own answer).
    const turnsAt = waits.map((turn) => turn.answeredAt + turn.waitMs).sort((x, y) => x - y);
    expect(turnsAt[0]).toBeGreaterThan(900);
    expect(turnsAt.at(-1)).toBeGreaterThan(2_800);
    expect(turnsAt.at(-1)).toBeLessThanOrEqual(3_300);
    // 50 ms apart, give or take the milliseconds between an answer and this process hearing it (two turns
    // came 18 ms apart on a loaded machine): never more than 3 in 100 ms, where unbooked all 40 would be.
    expect(busiestWindow(turnsAt, 100)).toBeLessThanOrEqual(3);
    expect(turnsAt.at(-1)! - turnsAt[0]!).toBeGreaterThanOrEqual(39 * 50 - 60);
    const booked = waits.map((turn) => turn.waitMs).sort((x, y) => x - y);
    // Asked again before its time, a booking answers the rest of the wait and keeps its place.
    const first = waits.find((turn) => turn.waitMs === booked[0])!;
    const again = { token: "early", leaseMs: 1000, booking: first.booking };
    const early = await a!.take("whk_book", limits, again);
    expect(early).toMatchObject({ ok: false, reason: "rate", booking: first.booking });
    expect(early.ok ? 0 : early.waitMs).toBeLessThanOrEqual(booked[0]!);
    // A newcomer is booked after every earlier booking.
    const newcomer = await b!.take("whk_book", limits, { token: "new", leaseMs: 1000 });
    expect(newcomer.ok ? 0 : newcomer.waitMs).toBeGreaterThanOrEqual(booked.at(-1)! - 50);
    // At its time the booking goes.
    await sleep(early.ok ? 0 : early.waitMs);
    expect(await c!.take("whk_book", limits, again)).toMatchObject({ ok: true });
  });

  it("keeps at most maxInFlight requests open at once, and a slot frees on release", async () => {
    const { starts, mostOpen } = await drive(limiters, "whk_open", { maxPerSecond: null, maxInFlight: 2 }, 1_500, 50);
    expect(mostOpen).toBe(2);
    expect(starts.length).toBeGreaterThanOrEqual(15);
  });

  it("frees the slot of a request whose worker died once its lease ends", async () => {
    const [a, b] = limiters;
    const limits = { maxPerSecond: null, maxInFlight: 1 };
    expect((await a!.take("whk_lease", limits, { token: "act_a", leaseMs: 300 })).ok).toBe(true); // never released
    const waiting = await b!.take("whk_lease", limits, { token: "act_b", leaseMs: 300 });
    expect(waiting).toMatchObject({ ok: false, reason: "in_flight" });
    await sleep(350);
    expect((await b!.take("whk_lease", limits, { token: "act_b", leaseMs: 300 })).ok).toBe(true);
  });

  it("pauses a webhook for every connection, keeps the longer of two pauses, and reports it", async () => {
    const [a, b, c] = limiters;
    const until = await a!.pause("whk_paused", 400);
    expect(await b!.pause("whk_paused", 100)).toEqual(until);
    const none = { maxPerSecond: null, maxInFlight: null };
    const slot = { token: "act_p", leaseMs: 1000 };
    const turn = await c!.take("whk_paused", none, slot);
    expect(turn).toMatchObject({ ok: false, reason: "paused" });
    if (!turn.ok) expect(turn.waitMs).toBeGreaterThan(200);
    expect((await c!.state("whk_paused")).pausedUntil).toEqual(until);
    expect((await a!.paused()).get("whk_paused")).toEqual(until);
    expect((await c!.take("whk_other", none, slot)).ok).toBe(true);
    await sleep(450);
    // After the pause one request goes first, the probe; the others wait for its answer.
    expect(await c!.take("whk_paused", none, slot)).toMatchObject({ ok: true, probe: true });
    expect(await b!.take("whk_paused", none, { token: "act_q", leaseMs: 1000 })).toMatchObject({
      ok: false,
      reason: "paused",
    });
    expect((await a!.paused()).has("whk_paused")).toBe(true);
    await c!.endProbe("whk_paused");
    expect(await b!.take("whk_paused", none, { token: "act_q", leaseMs: 1000 })).toMatchObject({
      ok: true,
      probe: false,
    });
    expect((await a!.paused()).has("whk_paused")).toBe(false);
    expect((await c!.state("whk_paused")).pausedUntil).toBeNull();
  });
});
