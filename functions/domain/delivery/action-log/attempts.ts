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

/** The outcomes as rows `v` (one per attempt). */
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
      ${col((o) => o.finishedAt)}::timestamptz[])
    AS v(attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested,
      status, next, finished)`;
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
async function writeSoleOutcomes(q: Queryable, outcomes: AttemptOutcome[]): Promise<AttemptOutcome[]> {
  const v = (column: string) => raw(`v.${column}`);
  const actionError = actionErrorSql("v", "'webhook'", "v.webhook_id");
  const rows = await runSql<{ action_id: string }>(
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
    )
    SELECT action_id FROM v WHERE action_id NOT IN (SELECT action_id FROM sole)`,
  );
  const left = new Set(rows.map((r) => r.action_id));
  return outcomes.filter((o) => left.has(o.actionId));
}

/**
 * Writes outcomes of events with other actions: the events locked (in the same statement as the writes),
 * then their statuses recomputed from all their actions, in one transaction.
 */
export async function writeSharedOutcomes(pool: Pool, outcomes: AttemptOutcome[]): Promise<void> {
  const eventIds = [...new Set(outcomes.map((o) => o.eventId))].sort();
  await transaction(pool, async (q) => {
    await runSql(
      q,
      sql`WITH locked AS (SELECT id FROM event_log WHERE id = ANY(${eventIds}::text[]) ORDER BY id FOR UPDATE),
        v AS (${outcomeRows(outcomes)}), ${attemptAndActionSteps("v")}
      SELECT count(*) FROM locked`,
    );
    await refreshEventStatuses(q, eventIds, latestFinish(outcomes));
  });
}

/**
 * Writes the attempts of a flush whose events' other actions are not known: one statement for those that
 * have none, the locked transaction for the others.
 */
export async function writeAttempts(pool: Pool, outcomes: AttemptOutcome[]): Promise<void> {
  const shared = await writeSoleOutcomes(fromPg(pool), outcomes);
  if (shared.length > 0) await writeSharedOutcomes(pool, shared);
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
export async function writeFirstAttempts(q: Queryable, items: FirstAttempt[]): Promise<void> {
  const v = (column: string) => raw(`w.${column}`);
  const actionError = actionErrorSql("w", "'webhook'", "w.webhook_id");
  await runSql(
    q,
    sql`
    WITH v AS (
      SELECT o.*, m.definition_id, m.matched_at
      FROM (${outcomeRows(items.map((i) => i.outcome))}) o
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
    )
    UPDATE event_log e SET status = w.event_status, "matchedAt" = w.matched_at,
      error = CASE WHEN ${showsErrorSql(v("status"))} THEN ${actionError} END,
      ${settledColumnsSql(v("event_status"), v("finished"))}
    FROM w WHERE e.id = w.event_id AND e."matchedAt" IS NULL`,
  );
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
