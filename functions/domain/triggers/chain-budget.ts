// How wide a chain of trigger writes may grow. TRIGGER_MAX_DEPTH stops a chain going deeper, but a trigger
// that updates many records of its own collection multiplies at every depth (one edit of 5 records made
// 3,911 events). So every event the triggers of one chain write is counted against the original change at
// its root (the event at depth 0 it descends from), up to TRIGGER_MAX_CHAIN_EVENTS in all.
//
// The count lives in chain_budgets, a row per root, taken FOR UPDATE by the transaction that writes a
// trigger's records: workers writing the same chain at once wait for each other's count, so together they
// never pass the budget.
import sql from "sql-template-tag";
import type { Config } from "../../platform/config.ts";
import { runSql, type Queryable } from "../../platform/sql.ts";
import { LIMITS } from "../limits.ts";

/** The most events the triggers of one chain may write. */
export const chainEventLimit = (config: Pick<Config, "TRIGGER_MAX_CHAIN_EVENTS">) =>
  config.TRIGGER_MAX_CHAIN_EVENTS ?? LIMITS.chainEvents;

/** An event whose triggers write: where it sits in its chain. */
export interface ChainLink {
  id: string;
  depth: number;
}

/** The budgets of the chains some trigger runs belong to, locked until their transaction ends. */
export interface ChainBudgets {
  /** The chain's root of an event of one of the runs. */
  rootOf(eventId: string): string;
  /** Events the chain of `root` may still write. */
  left(root: string): number;
  /** Counts `events` written in the chain of `root`. */
  spend(root: string, events: number): void;
  /** Stores what was spent; in the same transaction as the writes. */
  save(now: Date): Promise<void>;
}

/**
 * Each event's root: itself at depth 0, otherwise found by walking causationId up (one lookup by id per
 * depth). Where the walk breaks (an ancestor pruned with its log), the oldest ancestor still there stands in.
 */
async function chainRoots(q: Queryable, events: ChainLink[]): Promise<Map<string, string>> {
  const roots = new Map<string, string>();
  const deeper: string[] = [];
  for (const event of events) {
    if (event.depth === 0) roots.set(event.id, event.id);
    else deeper.push(event.id);
  }
  if (deeper.length === 0) return roots;
  const found = await runSql<{ start: string; root: string }>(
    q,
    sql`WITH RECURSIVE up(start, id, cause, step) AS (
        SELECT id, id, "causationId", 0 FROM event_log WHERE id = ANY(${deeper}::text[])
        UNION ALL
        SELECT up.start, e.id, e."causationId", up.step + 1 FROM up JOIN event_log e ON e.id = up.cause
        WHERE up.step < 1000
      )
      SELECT DISTINCT ON (start) start, id AS root FROM up ORDER BY start, step DESC`,
  );
  for (const row of found) roots.set(row.start, row.root);
  for (const id of deeper) if (!roots.has(id)) roots.set(id, id);
  return roots;
}

/**
 * Locks the budgets of the chains of `events` (rows made where missing, in key order so that two
 * transactions never wait on each other's) and answers what each may still write.
 */
export async function lockChainBudgets(q: Queryable, events: ChainLink[], limit: number): Promise<ChainBudgets> {
  const roots = await chainRoots(q, events);
  const keys = [...new Set(roots.values())].sort();
  // DO UPDATE (not DO NOTHING): it locks an existing row and returns it, in one round trip.
  const rows = await runSql<{ rootId: string; events: number }>(
    q,
    sql`INSERT INTO chain_budgets ("rootId", events, "updatedAt")
      SELECT k, 0, now() FROM unnest(${keys}::text[]) AS k ORDER BY k
      ON CONFLICT ("rootId") DO UPDATE SET "rootId" = EXCLUDED."rootId"
      RETURNING "rootId", events`,
  );
  const used = new Map(rows.map((row) => [row.rootId, row.events]));
  const spent = new Map<string, number>();
  return {
    rootOf: (eventId) => roots.get(eventId)!,
    left: (root) => Math.max(0, limit - (used.get(root) ?? 0) - (spent.get(root) ?? 0)),
    spend: (root, events) => {
      spent.set(root, (spent.get(root) ?? 0) + events);
    },
    async save(now) {
      const written = [...spent].filter(([, n]) => n > 0);
      if (written.length === 0) return;
      await runSql(
        q,
        sql`UPDATE chain_budgets b SET events = b.events + v.n, "updatedAt" = ${now}
          FROM unnest(${written.map(([root]) => root)}::text[], ${written.map(([, n]) => n)}::int[]) AS v(root, n)
          WHERE b."rootId" = v.root`,
      );
    },
  };
}

/** Forgets the budgets of chains that wrote nothing since `before` (the sweep's, with the log's retention). */
export async function pruneChainBudgets(q: Queryable, before: Date): Promise<number> {
  const deleted = await runSql(
    q,
    sql`DELETE FROM chain_budgets WHERE "rootId" IN (
      SELECT "rootId" FROM chain_budgets WHERE "updatedAt" < ${before} LIMIT 10000 FOR UPDATE SKIP LOCKED)
      RETURNING 1`,
  );
  return deleted.length;
}
