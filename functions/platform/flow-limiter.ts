// Per-webhook flow control shared by every worker process: a pause (a receiver's Retry-After), at most
// `maxInFlight` requests open at once, and at most `maxPerSecond` started per second. One Lua script decides
// and takes a turn atomically, on Redis's clock, so processes on different machines agree without locks.
//
//   pause       a key holding the time the pause ends (PX-expiring)
//   in flight   a sorted set of open requests' tokens, scored by when their lease ends: a worker that dies
//               mid-request frees its slot when the lease ends, without anyone cleaning up
//   rate        a sliding log: the start times of the last second's requests; a request starts only while
//               fewer than maxPerSecond did in the 1,000 ms before it, so no second, however cut, holds more
//   schedule    turns booked for the requests that must wait, evenly spaced at the rate after the last one
//               (up to BOOKING_HORIZON_MS ahead): a waiting request sleeps until its turn, so a thousand
//               waiting deliveries wake one by one instead of all at once. A booking orders the wakes; the
//               sliding log alone decides who starts, so a request that wakes late still goes, as soon as the
//               log allows
//
// On a Redis Cluster the keys share the slot of QUEUE_PREFIX's hash tag, as BullMQ's own keys must.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";

/** Why a delivery waits for its turn. */
export type WaitReason = "paused" | "in_flight" | "rate";

export interface FlowLimits {
  maxPerSecond: number | null;
  maxInFlight: number | null;
}

/**
 * A turn (at: when it was given, on Redis's clock, which every process shares; probe: the first request
 * after a pause, whose answer decides whether the others go), or how long to wait; `booking` when the wait
 * ends in a turn booked for this request (ask again with it, once the wait is over).
 */
export type Turn =
  | { ok: true; token: string | null; at: number; probe: boolean }
  | { ok: false; waitMs: number; reason: WaitReason; booking?: string };

/** A request for a turn: `token` names it while it is open; `booking` is the turn a wait booked for it. */
export interface TurnRequest {
  token: string;
  leaseMs: number;
  booking?: string;
}

const TAKE_TURN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booking = ARGV[7]
-- A refused request gives back the turn it booked: it books anew when it asks again.
local function refuse(waitMs, reason)
  if booking ~= '' then redis.call('ZREM', KEYS[6], booking) end
  return {0, waitMs, reason}
end
local pausedUntil = tonumber(redis.call('GET', KEYS[3]) or '0')
if pausedUntil > now then return refuse(pausedUntil - now, 'paused') end
local maxInFlight = tonumber(ARGV[2])
local leaseMs = tonumber(ARGV[4])
-- After a pause, one request goes first (the probe); the others wait for its answer.
local probe = 0
if redis.call('EXISTS', KEYS[4]) == 1 then
  local probing = redis.call('GET', KEYS[5])
  if probing and probing ~= ARGV[6] then return refuse(tonumber(ARGV[5]), 'paused') end
  if not probing then redis.call('SET', KEYS[5], ARGV[6], 'PX', leaseMs) end
  probe = 1
end
if maxInFlight > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZSCORE', KEYS[2], ARGV[6]) == false and redis.call('ZCARD', KEYS[2]) >= maxInFlight then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return refuse(math.max(1, math.min(tonumber(first[2]) - now, tonumber(ARGV[5]))), 'in_flight')
  end
end
local perSecond = tonumber(ARGV[1])
if perSecond > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
  local started = redis.call('ZCARD', KEYS[1])
  local booked = booking ~= '' and tonumber(redis.call('ZSCORE', KEYS[6], booking) or nil)
  if booked then
    -- Its booked turn: once the time has come (a wake a little early waits the rest), it goes as soon as
    -- the last second's starts allow, however late it comes; it keeps its booking while it waits.
    if booked > now then return {0, math.ceil(booked - now), 'rate', booking} end
    if started >= perSecond then
      local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
      return {0, math.max(1, oldest + 1000 - now), 'rate', booking}
    end
    redis.call('ZREM', KEYS[6], booking)
  else
    -- A newcomer goes now if the last second has room and nobody is booked ahead of it; else it is booked
    -- an even step after the last booking (and not before a start leaves the last second).
    redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - tonumber(ARGV[9]))
    local last = redis.call('ZRANGE', KEYS[6], -1, -1, 'WITHSCORES')
    local at = now
    if last[2] then at = math.max(now, tonumber(last[2]) + 1000 / perSecond) end
    if at > now or started >= perSecond then
      if started >= perSecond then
        at = math.max(at, tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]) + 1000)
      end
      if at - now > tonumber(ARGV[8]) then return refuse(tonumber(ARGV[8]), 'rate') end
      redis.call('ZADD', KEYS[6], at, ARGV[3])
      redis.call('PEXPIRE', KEYS[6], math.ceil(at - now) + tonumber(ARGV[9]))
      return {0, math.max(1, math.ceil(at - now)), 'rate', ARGV[3]}
    end
  end
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], 1000)
end
if maxInFlight > 0 then
  redis.call('ZADD', KEYS[2], now + leaseMs, ARGV[6])
  redis.call('PEXPIRE', KEYS[2], leaseMs)
end
return {1, now, '', probe}`;

const PAUSE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs > current then
  redis.call('SET', KEYS[1], untilMs, 'PX', tonumber(ARGV[1]))
  -- Then a probe: the first request after the pause goes alone (a new pause starts a new probe).
  redis.call('SET', KEYS[3], untilMs, 'PX', tonumber(ARGV[1]) + tonumber(ARGV[3]))
  redis.call('DEL', KEYS[4])
  -- Every process reads this set now and then, to learn of pauses (and probes) of webhooks it has no
  -- limits for; an entry leaves it when its probe ends, or when nobody came for the probe for a while.
  redis.call('ZADD', KEYS[2], untilMs, ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[3]))
end
return math.max(untilMs, current)`;

export interface FlowLimiter {
  /**
   * Takes a turn for one request to `webhookId`, or answers how long to wait and why. A turn under
   * maxInFlight holds a slot named `token` (unique per request in flight: an action's id) until release()
   * or `leaseMs`, whichever comes first.
   */
  take(webhookId: string, limits: FlowLimits, request: TurnRequest): Promise<Turn>;
  release(webhookId: string, token: string): Promise<void>;
  /** Pauses every request to `webhookId` for `ms` (a longer pause already set stands); answers its end. */
  pause(webhookId: string, ms: number): Promise<Date>;
  /**
   * A 429 that named no time: pauses the webhook for a second, doubling with each such answer in a row
   * (across every worker), at most `maxMs`; answers the pause's end. recovered() starts again from a second.
   */
  backOff(webhookId: string, maxMs: number): Promise<Date>;
  recovered(webhookId: string): Promise<void>;
  /** The probe after a pause was answered without a new pause: the others go. */
  endProbe(webhookId: string): Promise<void>;
  /** What a person sees on the webhook: requests open now and the end of a pause. */
  state(webhookId: string): Promise<{ inFlight: number; pausedUntil: Date | null }>;
  /** Webhooks paused now, or waiting for the probe after their pause, with the end of each pause. */
  paused(): Promise<Map<string, Date>>;
}

/** How long after a pause its probe may still be awaited: with nobody to send it, the pause is forgotten. */
export const PROBE_WINDOW_MS = 10 * 60_000;

/** A 429 without Retry-After pauses its webhook this long, doubling for each in a row. */
export const FIRST_BACKOFF_MS = 1000;
/** How long 429s count as "in a row" without a success between them. */
export const BACKOFF_MEMORY_MS = 10 * 60_000;

/** Longest single wait answered for a full in-flight set: a slot usually frees before its lease ends. */
export const MAX_IN_FLIGHT_WAIT_MS = 250;

/**
 * Furthest ahead a turn is booked: a request further back waits this long and asks again, so limits that
 * change while deliveries wait hold within this time.
 */
export const BOOKING_HORIZON_MS = 30_000;

/** A booking whose request never came (its worker died) stops holding others back this long after its time. */
export const STALE_BOOKING_MS = 10_000;

export function createFlowLimiter(redis: Redis, prefix: string): FlowLimiter {
  const keys = (webhookId: string) => {
    const base = `${prefix}:flow:${webhookId}`;
    return {
      rate: `${base}:rate`,
      schedule: `${base}:schedule`,
      inFlight: `${base}:in-flight`,
      pause: `${base}:pause`,
      probe: `${base}:probe`,
      probing: `${base}:probing`,
    };
  };
  const pausedKey = `${prefix}:flow:paused`;
  // Members must be unique across every process and limiter: a repeated one would replace an entry.
  const instance = randomBytes(6).toString("hex");
  let sequence = 0;
  const limiter: FlowLimiter = {
    async take(webhookId, limits, { token, leaseMs, booking }) {
      const k = keys(webhookId);
      // Unique across processes: names this request in the rate log and, under maxInFlight, its slot.
      const member = `${instance}:${sequence++}`;
      // The fourth: a turn's probe flag (1 or 0), or the turn a wait booked.
      const [ok, waitOrAt, reason, probeOrBooking] = (await redis.eval(
        TAKE_TURN,
        6,
        k.rate,
        k.inFlight,
        k.pause,
        k.probe,
        k.probing,
        k.schedule,
        limits.maxPerSecond ?? 0,
        limits.maxInFlight ?? 0,
        member,
        leaseMs,
        MAX_IN_FLIGHT_WAIT_MS,
        token,
        booking ?? "",
        BOOKING_HORIZON_MS,
        STALE_BOOKING_MS,
      )) as [number, number, WaitReason | "", (number | string)?];
      if (ok !== 1) {
        const waiting = { ok: false, waitMs: waitOrAt, reason: reason as WaitReason } as const;
        return typeof probeOrBooking === "string" ? { ...waiting, booking: probeOrBooking } : waiting;
      }
      return { ok: true, token: limits.maxInFlight ? token : null, at: waitOrAt, probe: probeOrBooking === 1 };
    },
    async release(webhookId, token) {
      await redis.zrem(keys(webhookId).inFlight, token);
    },
    async pause(webhookId, ms) {
      const k = keys(webhookId);
      const until = (await redis.eval(
        PAUSE,
        4,
        k.pause,
        pausedKey,
        k.probe,
        k.probing,
        Math.max(1, Math.round(ms)),
        webhookId,
        PROBE_WINDOW_MS,
      )) as number;
      return new Date(until);
    },
    async backOff(webhookId, maxMs) {
      const key = `${keys(webhookId).pause}:backoff`;
      const [[, inARow]] = (await redis.multi().incr(key).pexpire(key, BACKOFF_MEMORY_MS).exec()) as [
        [unknown, number],
      ];
      return limiter.pause(webhookId, Math.min(maxMs, FIRST_BACKOFF_MS * 2 ** Math.min(30, inARow - 1)));
    },
    async recovered(webhookId) {
      await redis.del(`${keys(webhookId).pause}:backoff`);
    },
    async endProbe(webhookId) {
      const k = keys(webhookId);
      await redis.multi().del(k.probe, k.probing).zrem(pausedKey, webhookId).exec();
    },
    async paused() {
      const entries = await redis.zrange(pausedKey, 0, -1, "WITHSCORES");
      const paused = new Map<string, Date>();
      for (let i = 0; i < entries.length; i += 2) paused.set(entries[i]!, new Date(Number(entries[i + 1])));
      return paused;
    },
    async state(webhookId) {
      const k = keys(webhookId);
      const [[, inFlight], [, paused]] = (await redis
        .multi()
        .zcount(k.inFlight, Date.now(), "+inf")
        .get(k.pause)
        .exec()) as [[unknown, number], [unknown, string | null]];
      const until = paused ? Number(paused) : 0;
      return { inFlight, pausedUntil: until > Date.now() ? new Date(until) : null };
    },
  };
  return limiter;
}
