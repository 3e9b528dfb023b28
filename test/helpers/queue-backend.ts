// The suite's queue: on Redis where Redis answers, else in Postgres (test/helpers/test-services.ts). A test of
// Redis itself (its faults, the limiter's script, waiting for a Redis that comes late) then does not run and
// is skipped and says so in one line, with why (in CI, with Redis, everything runs).
import { describe, it } from "vitest";
import { clearQueuePrefix } from "./redis.ts";

export const QUEUE_BACKEND = (process.env.TEST_QUEUE_BACKEND ?? "redis") as "redis" | "postgres";
const redisMissing = process.env.TEST_REDIS_MISSING ?? "";
/** Whether Redis answers: the tests of Redis itself run only then. */
export const REDIS_THERE = !redisMissing;

/** One line saying `what` did not run, and why. */
export function notRun(what: string) {
  console.log(`not run: ${what}: it needs Redis itself, and ${redisMissing}`);
}

/** `it` where Redis is there; elsewhere skipped, with one line saying why. */
export function itWithRedis(name: string, test: () => Promise<void>, timeoutMs?: number) {
  if (redisMissing) notRun(`"${name}"`);
  (redisMissing ? it.skip : it)(name, test, timeoutMs);
}

/** `describe` where Redis is there; elsewhere skipped, with one line saying why. */
export function describeWithRedis(name: string, tests: () => void) {
  if (redisMissing) notRun(`the tests of "${name}"`);
  (redisMissing ? describe.skip : describe)(name, tests);
}

/** Empties a test's queue where it lives in Redis (a queue in Postgres goes with the test's database). */
export async function clearQueue(prefix: string): Promise<void> {
  if (QUEUE_BACKEND === "redis") await clearQueuePrefix(prefix);
}
