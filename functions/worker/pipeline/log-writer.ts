// Group commit of the worker's log writes: the matches (actions) of concurrent jobs, and their delivery
// attempts with the actions' and events' new states, written per flush with multi-row statements (one
// round trip for most flushes). Every job still waits for its own flush, so nothing is acknowledged
// before it is durable.
import { createBatcher } from "../../platform/batcher.ts";
import { isNotAnOutage } from "../../platform/dependency-errors.ts";
import type { Pool } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import type { Logger } from "../../platform/logger.ts";
import { fromPg, transaction, type Queryable } from "../../platform/sql.ts";
import {
  actionErrorSql,
  eventStatusSql,
  isFinalSql,
  plannedActionStatusSql,
  lockEvents,
  refreshEventStatuses,
  settledColumnsSql,
  showsErrorSql,
  sqlList,
} from "../../domain/delivery/statuses.ts";
import type { AttemptOutcome, LogWriter, Match } from "../../domain/delivery/pipeline.ts";

// The status of an event just matched, by the rule: processing when it has actions, completed otherwise.
const MATCHED_STATUS = eventStatusSql((statuses) => (statuses.includes("processing") ? "m.actions > 0" : "false"));

// One statement, so atomic without a transaction: the actions, and the claimed events marked matched
// with the status that follows (completed when nothing matched, processing otherwise). Only unmatched
// events are marked, so a job that runs again changes nothing.
const WRITE_MATCHES = `
  WITH planned AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $9::text[], $10::text[])
      AS v(id, event_id, kind, target_id, definition_id, error_code, error)
  ), inserted AS (
    INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, "errorCode", error,
      "completedAt", "unfinishedRuns", "createdAt", "updatedAt")
    SELECT id, event_id, kind::"ActionKind", target_id, definition_id,
      ${plannedActionStatusSql({ kind: "kind", errorCode: "error_code" })},
      error_code, error, CASE WHEN error_code IS NOT NULL THEN $7::timestamptz END,
      -- A trigger runs right after this write: its first run counts as begun (see run-action.ts).
      CASE WHEN kind = 'trigger' AND error_code IS NULL THEN 1 ELSE 0 END, $7, $7
    FROM planned
    ON CONFLICT ("eventId", kind, "targetId") DO NOTHING
    RETURNING id
  ), matched AS (
    -- The event's status by the rule, from the actions just written: pending or processing, when it has any.
    SELECT m.id, ${MATCHED_STATUS} AS status
    FROM unnest($6::text[], $8::int[]) AS m(id, actions)
  ), marked AS (
    UPDATE event_log e SET "matchedAt" = $7, error = NULL, status = m.status, ${settledColumnsSql("m.status", "$7")}
    FROM matched m
    WHERE e.id = m.id AND e."matchedAt" IS NULL
  )
  SELECT id FROM inserted`;

// The attempts of a flush (one row each): their delivery_attempts rows, and their actions' new states
// (new actions inserted with them). When another run recorded the event's first attempt before this one
// (it took the event over after this run's lease lapsed), that run's record of the action and the event
// stands, and this attempt is logged beside it (action ids derive from event and target, so they agree).
const OUTCOMES = `
  v AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bool[], $7::int[], $8::int[],
      $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::text[], $14::timestamptz[], $15::timestamptz[],
      $16::text[])
      AS v(attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested,
        status, next, finished, new_definition_id)
  ), new_actions AS (
    INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, attempts, error, "errorCode",
      "durationMs", "nextAttemptAt", "completedAt", result, "createdAt", "updatedAt")
    SELECT v.action_id, v.event_id, 'webhook', v.webhook_id, v.new_definition_id, v.status::"EventStatus", v.attempt,
      v.error, v.code, v.duration, v.next, CASE WHEN ${isFinalSql("v.status")} THEN v.finished END,
      jsonb_build_object('status', v.http), v.requested, v.finished
    FROM v
    WHERE v.new_definition_id IS NOT NULL
    ON CONFLICT ("eventId", kind, "targetId") DO NOTHING
    RETURNING id
  ), w AS (
    SELECT * FROM v WHERE new_definition_id IS NULL OR action_id IN (SELECT id FROM new_actions)
  ), attempts AS (
    INSERT INTO delivery_attempts (id, "webhookId", "eventId", "actionId", attempt, ok, status, "durationMs", error,
      "errorCode", "responseBody", "requestedAt")
    SELECT attempt_id, webhook_id, event_id, action_id, attempt, ok, http, duration, error, code, body, requested FROM v
    WHERE new_definition_id IS NULL OR action_id IN (SELECT id FROM new_actions)
      OR EXISTS (SELECT 1 FROM event_actions a WHERE a.id = v.action_id)
  ), actions AS (
    UPDATE event_actions a SET
      status = v.status::"EventStatus", attempts = v.attempt, error = v.error, "errorCode" = v.code,
      "unfinishedRuns" = 0,
      "durationMs" = a."durationMs" + v.duration, "nextAttemptAt" = v.next,
      "completedAt" = CASE WHEN ${isFinalSql("v.status")} THEN v.finished END,
      result = jsonb_build_object('status', v.http), "updatedAt" = v.finished
    FROM v WHERE a.id = v.action_id AND v.new_definition_id IS NULL
  )`;

/**
 * For events whose only action is the one attempted, the rule is applied to that one action: one statement
 * writes all three, atomic by itself, without reading the event's actions back.
 */
const WRITE_SOLE_OUTCOMES = `
  WITH ${OUTCOMES}, settled AS (
    SELECT w.*, ${eventStatusSql((statuses) => `w.status IN (${sqlList(statuses)})`)} AS event_status FROM w
  )
  UPDATE event_log e SET
    status = w.event_status,
    error = CASE WHEN ${showsErrorSql("w.status")}
      THEN ${actionErrorSql({ kind: "'webhook'", targetId: "w.webhook_id", error: "w.error", status: "w.status" })} END,
    "matchedAt" = coalesce(e."matchedAt", w.requested),
    ${settledColumnsSql("w.event_status", "w.finished")}
  -- A run that raced this one to match the event (see OUTCOMES) and wrote first keeps it.
  FROM settled w WHERE e.id = w.event_id AND (w.new_definition_id IS NULL OR e."matchedAt" IS NULL)`;

/** For events with other actions: lock the events, write, then refreshEventStatuses in the same transaction. */
const WRITE_SHARED_OUTCOMES = `
  WITH locked AS (SELECT id FROM event_log WHERE id = ANY($3::text[]) ORDER BY id FOR UPDATE), ${OUTCOMES}
  SELECT count(*) FROM locked`;

// Health: most deliveries succeed, so a success writes only when it changes something a person would see.
const HEALTH_SUCCESS = `
  UPDATE webhooks SET "consecutiveFailures" = 0, "lastSuccessAt" = $2
  WHERE id = ANY($1::text[])
    AND ("consecutiveFailures" <> 0 OR "lastSuccessAt" IS NULL
      OR "lastSuccessAt" < $2::timestamptz - interval '1 second')`;

const HEALTH_FAILURE = `
  UPDATE webhooks w SET
    "consecutiveFailures" = w."consecutiveFailures" + v.failures, "lastFailureAt" = $5, "lastError" = v.error,
    -- 410 Gone: the receiver says this endpoint is no more (Standard Webhooks): stop sending to it.
    active = CASE WHEN v.gone THEN false ELSE w.active END,
    "disabledReason" = CASE WHEN v.gone THEN 'the receiver answered 410 Gone' ELSE w."disabledReason" END
  FROM unnest($1::text[], $2::int[], $3::text[], $4::bool[]) AS v(id, failures, error, gone)
  WHERE w.id = v.id`;

async function writeMatches(q: Queryable, matches: Match[], now: Date): Promise<Set<string>> {
  const actions = matches.flatMap((m) => m.actions);
  const inserted = await q.query<{ id: string }>(WRITE_MATCHES, [
    actions.map((a) => a.id),
    actions.map((a) => a.eventId),
    actions.map((a) => a.kind),
    actions.map((a) => a.targetId),
    actions.map((a) => a.definitionId),
    matches.map((m) => m.eventId),
    now,
    matches.map((m) => m.actions.length),
    actions.map((a) => a.failure?.errorCode ?? null),
    actions.map((a) => a.failure?.error ?? null),
  ]);
  return new Set(inserted.map((r) => r.id));
}

/**
 * A match with actions failed from the start (see PlannedAction.failure) has no later writer to settle
 * its event's status: it is written alone, and the status recomputed in the same transaction.
 */
async function writeSettledMatch(pool: Pool, match: Match, now: Date): Promise<Set<string>> {
  return transaction(pool, async (q) => {
    await lockEvents(q, [match.eventId]);
    const inserted = await writeMatches(q, [match], now);
    await refreshEventStatuses(q, [match.eventId], now);
    return inserted;
  });
}

function outcomeParams(outcomes: AttemptOutcome[]): unknown[] {
  const col = <T>(pick: (o: AttemptOutcome) => T) => outcomes.map(pick);
  return [
    col(() => newId("att")),
    col((o) => o.webhookId),
    col((o) => o.eventId),
    col((o) => o.actionId),
    col((o) => o.attempt),
    col((o) => o.result.ok),
    col((o) => o.result.status),
    col((o) => o.result.durationMs),
    col((o) => o.result.error),
    col((o) => o.result.errorCode),
    col((o) => o.result.responseBody),
    col((o) => o.requestedAt),
    col((o) => o.status),
    col((o) => o.nextAttemptAt),
    col((o) => o.finishedAt),
    col((o) => o.soleAction?.definitionId ?? null),
  ];
}

/** Outcomes of events with no other action: one statement. */
async function writeSoleOutcomes(pool: Pool, outcomes: AttemptOutcome[]): Promise<void> {
  await fromPg(pool).query(WRITE_SOLE_OUTCOMES, outcomeParams(outcomes));
}

/** Outcomes of events with other actions: the events' statuses are recomputed in the same transaction. */
async function writeSharedOutcomes(pool: Pool, outcomes: AttemptOutcome[]): Promise<void> {
  await transaction(pool, async (q) => {
    await q.query(WRITE_SHARED_OUTCOMES, outcomeParams(outcomes));
    await refreshEventStatuses(q, [...new Set(outcomes.map((o) => o.eventId))], latestFinish(outcomes));
  });
}

const latestFinish = (outcomes: AttemptOutcome[]) =>
  outcomes.reduce(
    (latest, o) => (o.finishedAt.getTime() > latest.getTime() ? o.finishedAt : latest),
    outcomes[0]!.finishedAt,
  );

/**
 * Health is advisory: written after the log, outside its transaction, so a hot webhook row never holds
 * the log's locks. A success is written at most once a second per webhook and process.
 */
async function writeHealth(pool: Pool, outcomes: AttemptOutcome[], now: Date, lastSuccessWritten: Map<string, number>) {
  const q = fromPg(pool);
  const succeeded = [...new Set(outcomes.filter((o) => o.result.ok).map((o) => o.webhookId))].filter(
    (id) => now.getTime() - (lastSuccessWritten.get(id) ?? 0) >= 1000,
  );
  if (succeeded.length) {
    await q.query(HEALTH_SUCCESS, [succeeded, now]);
    for (const id of succeeded) lastSuccessWritten.set(id, now.getTime());
  }
  const failed = new Map<string, { failures: number; error: string | null; gone: boolean }>();
  for (const o of outcomes.filter((o) => !o.result.ok)) {
    const entry = failed.get(o.webhookId) ?? { failures: 0, error: null, gone: false };
    failed.set(o.webhookId, {
      failures: entry.failures + 1,
      error: o.result.error,
      gone: entry.gone || o.result.status === 410,
    });
    // A failure resets the success throttle: the next success must clear the failure count.
    lastSuccessWritten.delete(o.webhookId);
  }
  if (failed.size) {
    const entries = [...failed.entries()];
    await q.query(HEALTH_FAILURE, [
      entries.map(([id]) => id),
      entries.map(([, e]) => e.failures),
      entries.map(([, e]) => e.error),
      entries.map(([, e]) => e.gone),
      now,
    ]);
  }
}

export function createLogWriter(pool: Pool, now: () => Date, log: Logger): LogWriter {
  const matches = createBatcher<Match, Set<string>>(
    async (items) => {
      const inserted = await writeMatches(fromPg(pool), items, now());
      return items.map(() => inserted);
    },
    { retryAlone: isNotAnOutage },
  );
  const lastSuccessWritten = new Map<string, number>();
  // Two kinds of write, batched apart, so a failed flush fails only the attempts it carried.
  const outcomesBatcher = (write: (pool: Pool, outcomes: AttemptOutcome[]) => Promise<void>) =>
    createBatcher<AttemptOutcome, void>(
      async (items) => {
        await write(pool, items);
        // The log is durable now: a failure to update health must not make the job run (and deliver) again.
        await writeHealth(pool, items, latestFinish(items), lastSuccessWritten).catch((err) =>
          log.warn({ err }, "could not update webhook health"),
        );
        return items.map(() => undefined);
      },
      { retryAlone: isNotAnOutage },
    );
  const sole = outcomesBatcher(writeSoleOutcomes);
  const shared = outcomesBatcher(writeSharedOutcomes);
  return {
    match: (m) => (m.actions.some((a) => a.failure) ? writeSettledMatch(pool, m, now()) : matches.add(m)),
    record: (o) => (o.soleAction ? sole : shared).add(o),
  };
}
