// The attempt transition: one delivery attempt logged (delivery_attempts), its action's new state (what
// nextAttempt decided) and its event's status by the rule. The action row exists before its first attempt
// (the match writes it), so an attempt in flight is visible as its action `processing`.
//
// Most events have one action. Their rule is over that one action, so one statement writes all three
// without reading the event's other actions under a lock: the first attempt with its match
// (writeFirstAttempts), a later one alone (writeAttempts tells them apart in the statement: no sibling row,
// since the match writes an event's actions all at once). Outcomes of events with other actions are written
// in a transaction that locks the events and recomputes their statuses from every action
// (writeSharedOutcomes), so two actions finishing at once never leave a stale status; the action log sends
// the first attempts of the events it matched with several actions there at once.
import sql, { raw, type Sql } from "sql-template-tag";
import type { EventStatus } from "../../../platform/db.ts";
import { newId } from "../../../platform/ids.ts";
import type { Pool } from "../../../platform/pool.ts";
import { fromPg, runSql, transaction, type Queryable } from "../../../platform/sql.ts";
import { asEmitted, exhaustedEventsInsert, exhaustedIds, type Emitted } from "../../operational/operational-events.ts";
import {
  actionErrorSql,
  eventStatusSql,
  isFinalSql,
  refreshEventStatuses,
  settledColumnsSql,
  showsErrorSql,
  sqlList,
} from "./event-status.ts";

/** What a receiver answered (or why there was no answer), as the log keeps it. */
export interface AttemptResult {
  ok: boolean;
  status: number | null;
  durationMs: number;
  responseBody: string | null;
  error: string | null;
  errorCode: string | null;
}

/** One delivery attempt and what follows it (nextAttempt's answer). */
export interface AttemptOutcome {
  eventId: string;
  actionId: string;
  webhookId: string;
  attempt: number;
  requestedAt: Date;
  result: AttemptResult;
  status: Extract<EventStatus, "completed" | "retrying" | "failed">;
  nextAttemptAt: Date | null;
  finishedAt: Date;
  /** The record of an ordered action (its end releases the next one of its webhook and record). */
  orderKey?: string | null;
}

/**
 * The outcomes as rows `v` (one per attempt); `op_id` is the id of the delivery.exhausted event a failed
 * one reports (see exhaustedStep).
 */
function outcomeRows(outcomes: AttemptOutcome[]): Sql {
  const col = <T>(pick: (o: AttemptOutcome) => T) => outcomes.map(pick);
  return sql`
    SELECT * FROM unnest(${col(() => newId("att"))}::text[], ${col((o) => o.webhookId)}::text[],
      ${col((o) => o.eventId)}::text[], ${col((o) => o.actionId)}::text[], ${col((o) => o.attempt)}::int[],
      ${col((o) => o.result.ok)}::bool[], ${col((o) => o.result.status)}::int[],
      ${col((o) => o.result.durationMs)}::int[],
      ${col((o) => o.result.error)}::text[], ${col((o) => o.result.errorCode)}::text[],
      ${col((o) => o.result.responseBody)}::text[], ${col((o) => o.requestedAt)}::timestamptz[],
      ${col((o) => o.status)}::text[], ${col((o) => o.nextAttemptAt)}::timestamptz[],
      ${col((o) => o.finishedAt)}::timestamptz[], ${exhaustedIds(col((o) => o.status === "failed"))}::text[])
    AS v(attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested,
      status, next, finished, op_id)`;
}

const noneExhausted = sql`exhausted AS (SELECT NULL::text AS id WHERE false)`;

/**
 * The step `exhausted` (its rows: the ids inserted) reporting the actions of `source` that this statement
 * fails for good, as delivery.exhausted operational events. `fresh`: a condition on the source's row `s`
 * for actions the statement creates; else an action counts when it was not failed before the statement
 * (what its other steps read of event_actions is the row before their updates), so a duplicate record of
 * the same end reports nothing twice.
 */
function exhaustedStep(outcomes: AttemptOutcome[], source: string, fresh?: Sql): Sql {
  if (!outcomes.some((o) => o.status === "failed")) return noneExhausted;
  const failures = fresh
    ? sql`SELECT s.op_id, s.action_id, s.event_id, 'webhook', s.webhook_id, s.definition_id, s.code, s.error,
        s.attempt, s.http, s.finished
      FROM ${raw(source)} s WHERE s.op_id IS NOT NULL AND ${fresh}`
    : sql`SELECT s.op_id, s.action_id, s.event_id, 'webhook', s.webhook_id, a."definitionId", s.code, s.error,
        s.attempt, s.http, s.finished
      FROM ${raw(source)} s JOIN event_actions a ON a.id = s.action_id
      WHERE s.op_id IS NOT NULL AND a.status <> 'failed'`;
  return sql`exhausted AS (${exhaustedEventsInsert(failures)})`;
}

/** The attempts of `source` (rows shaped as outcomeRows) logged, and their actions updated. */
const attemptAndActionSteps = (source: string) => sql`
  attempts AS (
    INSERT INTO delivery_attempts (id, "webhookId", "eventId", "actionId", attempt, ok, status, "durationMs", error,
      "errorCode", "responseBody", "requestedAt")
    SELECT attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested
    FROM ${raw(source)} v
  ), actions AS (
    UPDATE event_actions a SET
      status = v.status::"EventStatus", attempts = v.attempt, error = v.error, "errorCode" = v.code,
      "unfinishedRuns" = 0, "leaseExpiresAt" = NULL, waiting = NULL, "durationMs" = a."durationMs" + v.duration,
      "nextAttemptAt" = v.next,
      "completedAt" = CASE WHEN ${isFinalSql(raw("v.status"))} THEN v.finished END,
      result = jsonb_build_object('status', v.http), "updatedAt" = v.finished
    FROM ${raw(source)} v WHERE a.id = v.action_id
  )`;

/**
 * Writes the outcomes whose action is its event's only one, with their events' statuses (the rule over that
 * one action); answers the others, untouched.
 */
async function writeSoleOutcomes(
  q: Queryable,
  outcomes: AttemptOutcome[],
): Promise<{ shared: AttemptOutcome[]; emitted: Emitted[] }> {
  const v = (column: string) => raw(`v.${column}`);
  const actionError = actionErrorSql("v", "'webhook'", "v.webhook_id");
  const rows = await runSql<{ action_id: string | null; emitted: string | null }>(
    q,
    sql`
    WITH v AS (${outcomeRows(outcomes)}),
    sole AS (
      SELECT v.*, ${eventStatusSql((statuses) => sql`v.status IN (${sqlList(statuses)})`)} AS event_status FROM v
      WHERE NOT EXISTS (SELECT 1 FROM event_actions o WHERE o."eventId" = v.event_id AND o.id <> v.action_id)
    ), ${attemptAndActionSteps("sole")}, events AS (
      UPDATE event_log e SET status = v.event_status,
        error = CASE WHEN ${showsErrorSql(v("status"))}
          THEN ${actionError} END,
        ${settledColumnsSql(v("event_status"), v("finished"))}
      FROM sole v WHERE e.id = v.event_id
    ), ${exhaustedStep(outcomes, "sole")}
    SELECT action_id, NULL AS emitted FROM v WHERE action_id NOT IN (SELECT action_id FROM sole)
    UNION ALL SELECT NULL, id FROM exhausted`,
  );
  const left = new Set(rows.map((r) => r.action_id));
  return {
    shared: outcomes.filter((o) => left.has(o.actionId)),
    emitted: asEmitted(rows.flatMap((r) => (r.emitted ? [{ id: r.emitted }] : []))),
  };
}

/**
 * Writes outcomes of events with other actions: the events locked (in the same statement as the writes),
 * then their statuses recomputed from all their actions, in one transaction.
 */
export async function writeSharedOutcomes(pool: Pool, outcomes: AttemptOutcome[]): Promise<Emitted[]> {
  const eventIds = [...new Set(outcomes.map((o) => o.eventId))].sort();
  return transaction(pool, async (q) => {
    const [row] = await runSql<{ emitted: string[] | null }>(
      q,
      sql`WITH locked AS (SELECT id FROM event_log WHERE id = ANY(${eventIds}::text[]) ORDER BY id FOR UPDATE),
        v AS (${outcomeRows(outcomes)}), ${attemptAndActionSteps("v")}, ${exhaustedStep(outcomes, "v")}
      SELECT count(*), (SELECT array_agg(id) FROM exhausted) AS emitted FROM locked`,
    );
    await refreshEventStatuses(q, eventIds, latestFinish(outcomes));
    return asEmitted((row?.emitted ?? []).map((id) => ({ id })));
  });
}

/**
 * Writes the attempts of a flush whose events' other actions are not known: one statement for those that
 * have none, the locked transaction for the others.
 */
export async function writeAttempts(pool: Pool, outcomes: AttemptOutcome[]): Promise<Emitted[]> {
  const { shared, emitted } = await writeSoleOutcomes(fromPg(pool), outcomes);
  if (shared.length > 0) emitted.push(...(await writeSharedOutcomes(pool, shared)));
  return emitted;
}

/** The first attempt of an event's only action, whose match was not written yet (see action-log.ts). */
export interface FirstAttempt {
  outcome: AttemptOutcome;
  definitionId: string;
  matchedAt: Date;
}

/**
 * Writes the match (the action), its first attempt and the event matched with its status, in one statement.
 * When another run matched the event first (it took the event over after this run's lease lapsed), that
 * run's record of the action and the event stands, and this attempt is logged beside it (action ids derive
 * from event and target, so they agree).
 */
export async function writeFirstAttempts(q: Queryable, items: FirstAttempt[]): Promise<Emitted[]> {
  const v = (column: string) => raw(`w.${column}`);
  const actionError = actionErrorSql("w", "'webhook'", "w.webhook_id");
  const outcomes = items.map((i) => i.outcome);
  const emitted = await runSql<{ id: string }>(
    q,
    sql`
    WITH v AS (
      SELECT o.*, m.definition_id, m.matched_at
      FROM (${outcomeRows(outcomes)}) o
      JOIN unnest(${items.map((i) => i.outcome.actionId)}::text[], ${items.map((i) => i.definitionId)}::text[],
        ${items.map((i) => i.matchedAt)}::timestamptz[]) AS m(action_id, definition_id, matched_at)
        ON m.action_id = o.action_id
    ), new_actions AS (
      INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, attempts, error,
        "errorCode", "durationMs", "nextAttemptAt", "completedAt", result, "createdAt", "updatedAt")
      SELECT v.action_id, v.event_id, 'webhook', v.webhook_id, v.definition_id, v.status::"EventStatus", v.attempt,
        v.error, v.code, v.duration, v.next, CASE WHEN ${isFinalSql(raw("v.status"))} THEN v.finished END,
        jsonb_build_object('status', v.http), v.matched_at, v.finished
      FROM v
      ON CONFLICT ("eventId", kind, "targetId") DO NOTHING
      RETURNING id
    ), attempts AS (
      INSERT INTO delivery_attempts (id, "webhookId", "eventId", "actionId", attempt, ok, status, "durationMs", error,
        "errorCode", "responseBody", "requestedAt")
      SELECT attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested
      FROM v
      WHERE action_id IN (SELECT id FROM new_actions) OR EXISTS (SELECT 1 FROM event_actions a WHERE a.id = v.action_id)
    ), w AS (
      SELECT v.*, ${eventStatusSql((statuses) => sql`v.status IN (${sqlList(statuses)})`)} AS event_status
      FROM v WHERE action_id IN (SELECT id FROM new_actions)
    ), marked AS (
      UPDATE event_log e SET status = w.event_status, "matchedAt" = w.matched_at,
        error = CASE WHEN ${showsErrorSql(v("status"))} THEN ${actionError} END,
        ${settledColumnsSql(v("event_status"), v("finished"))}
      FROM w WHERE e.id = w.event_id AND e."matchedAt" IS NULL
    ), ${exhaustedStep(outcomes, "v", sql`s.action_id IN (SELECT id FROM new_actions)`)}
    SELECT id FROM exhausted`,
  );
  return asEmitted(emitted);
}

/** A test send (POST /webhooks/{id}/test): logged as an attempt of no event. */
export async function writeTestSend(
  q: Queryable,
  send: { id: string; webhookId: string; requestedAt: Date; result: AttemptResult },
): Promise<void> {
  const { ok, status, durationMs, error, errorCode, responseBody } = send.result;
  await runSql(
    q,
    sql`INSERT INTO delivery_attempts (id, "webhookId", attempt, "requestedAt", test, ok, status, "durationMs", error,
        "errorCode", "responseBody")
      VALUES (${send.id}, ${send.webhookId}, 1, ${send.requestedAt}, true, ${ok}, ${status}, ${durationMs}, ${error},
        ${errorCode}, ${responseBody})`,
  );
}

export const latestFinish = (outcomes: AttemptOutcome[]) =>
  outcomes.reduce(
    (latest, o) => (o.finishedAt.getTime() > latest.getTime() ? o.finishedAt : latest),
    outcomes[0]!.finishedAt,
  );
