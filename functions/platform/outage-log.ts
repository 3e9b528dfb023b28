// What a process says while a dependency (Redis / the queue, Postgres) is down: one line when it goes, a
// reminder at most every REMIND_EVERY_MS saying for how long, one line when it is back. Every place that
// sees such errors (connection events, failed jobs, the sweep, a 503) reports here instead of logging,
// so an outage costs a few lines, not a stack trace at every reconnection attempt.
import { errorReason } from "./dependency-errors.ts";
import type { Logger } from "./logger.ts";

export type Dependency = "redis" | "postgres";

/** At most one reminder per dependency this often while it stays down. */
export const REMIND_EVERY_MS = 60_000;

export interface OutageLog {
  /** `dependency` failed (`error` says how): logged when it goes, then as a reminder at a bounded rate. */
  down(dependency: Dependency, error: unknown): void;
  /** `dependency` answered: logged only when it was down. */
  up(dependency: Dependency): void;
  isDown(dependency: Dependency): boolean;
  /**
   * The queue's store lost what it held (Redis restarted empty or was flushed: BullMQ finds a job's keys
   * missing): logged at most every REMIND_EVERY_MS, however many jobs in flight notice it.
   */
  lost(dependency: Dependency, error: unknown): void;
}

interface Outage {
  since: number;
  lastSaid: number;
}

const byLogger = new WeakMap<Logger, OutageLog>();

/**
 * The outage log of `log`'s owner: one per logger, so the connection, the consumer and the jobs of one
 * process share what they have said. `now` is for tests.
 */
export function outageLog(log: Logger, now: () => number = Date.now): OutageLog {
  const known = byLogger.get(log);
  if (known) return known;
  const outages = new Map<Dependency, Outage>();
  const lostSaid = new Map<Dependency, number>();
  const seconds = (ms: number) => Math.round(ms / 1000);
  const made: OutageLog = {
    down(dependency, error) {
      const at = now();
      const outage = outages.get(dependency);
      if (!outage) {
        outages.set(dependency, { since: at, lastSaid: at });
        log.warn(
          { dependency, outage: "began", reason: errorReason(error) },
          `${dependency} is unreachable; waiting for it (reminders at most every ${seconds(REMIND_EVERY_MS)} s)`,
        );
      } else if (at - outage.lastSaid >= REMIND_EVERY_MS) {
        outage.lastSaid = at;
        const downForS = seconds(at - outage.since);
        log.warn(
          { dependency, outage: "continues", downForS, reason: errorReason(error) },
          `${dependency} still unreachable, for ${downForS} s`,
        );
      }
    },
    up(dependency) {
      const outage = outages.get(dependency);
      if (!outage) return;
      outages.delete(dependency);
      const downForS = seconds(now() - outage.since);
      log.info({ dependency, outage: "ended", downForS }, `${dependency} reachable again after ${downForS} s`);
    },
    isDown: (dependency) => outages.has(dependency),
    lost(dependency, error) {
      const at = now();
      if (at - (lostSaid.get(dependency) ?? Number.NEGATIVE_INFINITY) < REMIND_EVERY_MS) return;
      lostSaid.set(dependency, at);
      log.warn(
        { dependency, outage: "lost-jobs", reason: errorReason(error) },
        `${dependency} lost jobs in flight (restarted empty or flushed): the sweep queues them again`,
      );
    },
  };
  byLogger.set(log, made);
  return made;
}

/** BullMQ's words when a job's keys are gone from its store. */
export const isLostJob = (error: unknown) => /^Missing key for job/.test((error as Error | undefined)?.message ?? "");

/** Which dependency a dependency-down error is about (isDependencyDown said it is one): Redis's or Postgres's. */
export function dependencyOf(error: unknown, depth = 0): Dependency {
  const e = error as { name?: string; message?: string; cause?: unknown } | undefined;
  if (!e || typeof e !== "object" || depth > 4) return "postgres";
  if (/^redis\b/i.test(e.message ?? "")) return "redis";
  if (e.name === "MaxRetriesPerRequestError" || /Connection is closed|Stream isn't writeable/.test(e.message ?? ""))
    return "redis";
  return e.cause ? dependencyOf(e.cause, depth + 1) : "postgres";
}
