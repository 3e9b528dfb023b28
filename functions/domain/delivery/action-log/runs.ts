// Transitions of an action's runs: begun (counted, so a crash counts too), ended in an error, failed for
// good, and a trigger run settled with what it wrote. Every change of an action's status takes its event's
// row lock first and recomputes the event's status before it commits.
import sql from "sql-template-tag";
import type { EventAction, EventLog } from "../../../platform/db.ts";
import { errorReason, isDependencyDown } from "../../../platform/dependency-errors.ts";
import type { Pool } from "../../../platform/pool.ts";
import { fromPg, runSql, transaction, type Queryable } from "../../../platform/sql.ts";
import { eventFromRow } from "../../events/event-type.ts";
import {
  asEmitted,
  exhaustedEventsInsert,
  exhaustedIds,
  failedActionRows,
  type Emitted,
} from "../../operational/operational-events.ts";
import { storableText } from "../../storable-json.ts";
import { FINAL_STATUSES, lockEvents, refreshEventStatuses, sqlList } from "./event-status.ts";

export type LoadedAction = EventAction & { event: EventLog };

/** An action with its event, or undefined when it is gone (its event pruned). */
export async function loadAction(q: Queryable, actionId: string): Promise<LoadedAction | undefined> {
  const [action] = await runSql<EventAction>(q, sql`SELECT * FROM event_actions WHERE id = ${actionId}`);
  if (!action) return undefined;
  const [event] = await runSql<EventLog>(q, sql`SELECT * FROM event_log WHERE id = ${action.eventId}`);
  return event && { ...action, event: eventFromRow(event) };
}

/**
 * A later run of the action begins: counted before the work, so a run that crashes the worker counts too
 * (a run that finishes sets the count back to 0; the first run is counted by the match).
 */
export async function beginRun(q: Queryable, actionId: string): Promise<void> {
  await runSql(q, sql`UPDATE event_actions SET "unfinishedRuns" = "unfinishedRuns" + 1 WHERE id = ${actionId}`);
}

/** A later delivery attempt is in flight: retrying (or pending, after a replay) -> processing. */
export async function startAttempt(q: Queryable, actionId: string, attempt: number): Promise<void> {
  await runSql(
    q,
    sql`UPDATE event_actions SET status = 'processing', attempts = ${attempt}, waiting = NULL WHERE id = ${actionId}`,
  );
}

/**
 * A run (counted as begun) that ended in an error. An outage is nobody's fault: the run does not count, as
 * long as the database can still be told so (a run cut short by Postgres itself going down stays counted).
 * Any other error is kept as the action's last reason. A first run gives up its lease: the retry of its
 * job queues the action at once (see match-event.ts) instead of leaving it to the sweep.
 */
export async function noteFailedRun(pool: Pool, actionId: string, error: unknown): Promise<void> {
  const statement = isDependencyDown(error)
    ? sql`UPDATE event_actions SET "unfinishedRuns" = GREATEST(0, "unfinishedRuns" - 1), "leaseExpiresAt" = NULL
        WHERE id = ${actionId}`
    : sql`UPDATE event_actions SET error = ${storableText(errorReason(error))}, "leaseExpiresAt" = NULL
        WHERE id = ${actionId}`;
  await runSql(fromPg(pool), statement).catch(() => {});
}

/**
 * The delivery.exhausted events of actions that were just failed for good (`actionIds`, as the transaction
 * left them), in that transaction.
 */
export async function reportExhausted(q: Queryable, actionIds: string[], now: Date): Promise<Emitted[]> {
  if (actionIds.length === 0) return [];
  const ids = exhaustedIds(actionIds.map(() => true)) as string[];
  return asEmitted(await runSql<{ id: string }>(q, exhaustedEventsInsert(failedActionRows(ids, actionIds, now))));
}

/** Fails an action for good, with a code and a reason; answers the operational event that reports it. */
export async function failAction(
  pool: Pool,
  action: { id: string; eventId: string },
  now: Date,
  errorCode: string,
  error: string,
): Promise<Emitted[]> {
  return transaction(pool, async (q) => {
    await lockEvents(q, [action.eventId]);
    // Under its event's lock: an action a duplicate run failed already is not reported twice.
    const failing = await runSql<{ id: string }>(
      q,
      sql`SELECT id FROM event_actions WHERE id = ${action.id} AND status <> 'failed' FOR UPDATE`,
    );
    await runSql(
      q,
      sql`UPDATE event_actions SET status = 'failed', error = ${error}, "errorCode" = ${errorCode},
        "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL, waiting = NULL, "completedAt" = ${now}, "updatedAt" = ${now}
        WHERE id = ${action.id}`,
    );
    await refreshEventStatuses(q, [action.eventId], now);
    return reportExhausted(
      q,
      failing.map((row) => row.id),
      now,
    );
  });
}

/**
 * A delivery waits for its turn under its webhook's flow control: pending, with the reason, its run ended
 * without counting (nothing failed) and, if it was a first attempt written as in flight, that attempt not
 * made. Waiting is not an attempt: attempts and the retry budget are untouched.
 */
export async function waitForTurn(
  pool: Pool,
  action: { id: string; eventId: string },
  reason: string,
  now: Date,
): Promise<void> {
  await transaction(pool, async (q) => {
    await lockEvents(q, [action.eventId]);
    await runSql(q, waitingUpdate(action.id, reason, now));
    await refreshEventStatuses(q, [action.eventId], now);
  });
}

/** An ordered action: its webhook, its record (orderKey, and as its event names it) and its place (its event). */
export interface OrderedAction {
  id: string;
  eventId: string;
  targetId: string;
  orderKey: string;
  record: { collection: string; recordId: string };
}

/** How long an ordered action waits for an earlier event of its record that is not matched yet. */
const UNMATCHED_WAIT_MS = 100;

/**
 * Serialises, for the rest of the transaction, the ordering decisions about one webhook and record: an
 * action deciding to wait, and a finished one releasing the next, never pass each other unseen.
 */
const lockRecordOrder = (q: Queryable, a: { targetId: string; orderKey: string }) =>
  runSql(q, sql`SELECT pg_advisory_xact_lock(hashtextextended(${a.targetId} || chr(30) || ${a.orderKey}, 0))`);

const unfinished = sql`status NOT IN (${sqlList(FINAL_STATUSES)})`;

/** Whether an ordered action goes now, waits to be released, or looks again shortly. */
export type OrderTurn = { go: true } | { go: false; retryInMs: number | null };

/**
 * An ordered action behind an unfinished earlier one of its webhook and record waits for it: pending,
 * waiting "order", its run ended without counting; the earlier one's end releases it (nextInOrder). Behind
 * an earlier event of its record that is not matched yet (its actions are not written: it may have one for
 * this webhook), it waits the same way but looks again after UNMATCHED_WAIT_MS, a matter of milliseconds.
 */
export async function holdIfBehind(pool: Pool, action: OrderedAction, now: Date): Promise<OrderTurn> {
  return transaction(pool, async (q) => {
    await lockRecordOrder(q, action);
    const [behind] = await runSql<{ unmatched: boolean }>(
      q,
      sql`SELECT false AS unmatched FROM event_actions
        WHERE "targetId" = ${action.targetId} AND "orderKey" = ${action.orderKey} AND "eventId" < ${action.eventId}
          AND ${unfinished}
        UNION ALL
        SELECT true FROM event_log
        WHERE collection = ${action.record.collection} AND "recordId" = ${action.record.recordId}
          AND id < ${action.eventId} AND "matchedAt" IS NULL AND status IN ('pending', 'processing')
        LIMIT 1`,
    );
    if (!behind) return { go: true };
    await lockEvents(q, [action.eventId]);
    await runSql(q, waitingUpdate(action.id, "order", now));
    await refreshEventStatuses(q, [action.eventId], now);
    return { go: false, retryInMs: behind.unmatched ? UNMATCHED_WAIT_MS : null };
  });
}

/**
 * The first unfinished action of a webhook and record, if it waits for its turn in order: answered so its
 * job is queued (after the action before it ended).
 */
export async function nextInOrder(pool: Pool, action: Pick<OrderedAction, "targetId" | "orderKey">) {
  return transaction(pool, async (q) => {
    await lockRecordOrder(q, action);
    const [head] = await runSql<{ id: string; waiting: string | null }>(
      q,
      sql`SELECT id, waiting FROM event_actions
        WHERE "targetId" = ${action.targetId} AND "orderKey" = ${action.orderKey} AND ${unfinished}
        ORDER BY "eventId" LIMIT 1`,
    );
    return head?.waiting === "order" ? head.id : undefined;
  });
}

const waitingUpdate = (id: string, reason: string, now: Date) =>
  sql`UPDATE event_actions SET status = 'pending', waiting = ${reason}, "unfinishedRuns" = 0,
      "leaseExpiresAt" = NULL, "updatedAt" = ${now},
      -- A first attempt is written in flight with the match: it was not made.
      attempts = CASE WHEN status = 'processing' THEN GREATEST(0, attempts - 1) ELSE attempts END
    WHERE id = ${id} AND ${unfinished}`;

/** What one trigger run did: records written (the result shown), or nothing because it selected too many. */
export type RunResult = { ok: true; result: unknown } | { ok: false; errorCode: string; error: string };

export interface SettledRuns<T> {
  /** Results of the runs whose actions were still open, by action id. */
  results: Map<string, RunResult>;
  /** Whatever else the work produced (e.g. the events it created, to queue after the commit). */
  extra: T;
  /** Operational events the settling wrote (runs failed for good), to queue after the commit. */
  emitted?: Emitted[];
}

/**
 * Trigger runs settled with their writes: `work` writes what the runs still open planned (a duplicate that
 * got here first finished the others) in the same transaction as their actions' completion and their events'
 * statuses, so a run that comes again finds its action finished and writes nothing more. Runs that failed
 * are reported (delivery.exhausted) in the same transaction. Undefined when every run was finished already.
 */
export async function settleRuns<R extends { actionId: string; eventId: string }, T>(
  pool: Pool,
  runs: R[],
  now: Date,
  work: (q: Queryable, open: R[]) => Promise<SettledRuns<T>>,
): Promise<SettledRuns<T> | undefined> {
  const eventIds = [...new Set(runs.map((run) => run.eventId))].sort();
  return transaction(pool, async (q) => {
    await lockEvents(q, eventIds);
    // Under the events' locks: an action finished by a duplicate job that got here first is left alone.
    const open = await runSql<{ id: string }>(
      q,
      sql`SELECT id FROM event_actions
        WHERE id = ANY(${runs.map((r) => r.actionId)}::text[]) AND status NOT IN (${sqlList(FINAL_STATUSES)})`,
    );
    const openIds = new Set(open.map((row) => row.id));
    const todo = [
      ...new Map(runs.filter((run) => openIds.has(run.actionId)).map((run) => [run.actionId, run])).values(),
    ];
    if (todo.length === 0) return undefined;
    const started = performance.now();
    const { results, extra } = await work(q, todo);
    const settled = todo.map((run) => results.get(run.actionId)!);
    await runSql(
      q,
      sql`UPDATE event_actions a SET
        status = CASE WHEN v.ok THEN 'completed' ELSE 'failed' END::"EventStatus",
        attempts = a.attempts + 1, "unfinishedRuns" = 0, "nextAttemptAt" = NULL, "leaseExpiresAt" = NULL,
        error = v.error, "errorCode" = v.code, result = v.result,
        "durationMs" = a."durationMs" + ${Math.round(performance.now() - started)}::int,
        "completedAt" = ${now}, "updatedAt" = ${now}
      FROM unnest(${todo.map((r) => r.actionId)}::text[], ${settled.map((r) => r.ok)}::bool[],
        ${settled.map((r) => (r.ok ? null : r.errorCode))}::text[],
        ${settled.map((r) => (r.ok ? null : r.error))}::text[],
        ${settled.map((r) => (r.ok ? JSON.stringify(r.result) : null))}::jsonb[]) AS v(id, ok, code, error, result)
      WHERE a.id = v.id`,
    );
    await refreshEventStatuses(q, eventIds, now);
    const emitted = await reportExhausted(
      q,
      todo.filter((_, i) => !settled[i]!.ok).map((run) => run.actionId),
      now,
    );
    return { results, extra, emitted };
  });
}
