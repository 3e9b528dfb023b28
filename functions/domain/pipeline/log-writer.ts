// Group commit of the worker's log writes: the matches (actions) of concurrent jobs, and their delivery
// attempts with the actions' and events' new states, each written by one transaction per flush with
// multi-row statements. Every job still waits for its own flush, so nothing is acknowledged before it is
// durable.
import { createBatcher } from "../../platform/batcher.ts";
import type { EventStatus, Pool } from "../../platform/db.ts";
import { newId } from "../../platform/ids.ts";
import { fromPg, transaction } from "../../platform/sql.ts";
import { lockEvents, refreshEventStatuses } from "../events/event-status.ts";
import type { SendResult } from "../webhooks/send-webhook.ts";

export interface PlannedAction {
  id: string;
  eventId: string;
  kind: "webhook" | "trigger";
  targetId: string;
  definitionId: string;
}

export interface Match {
  eventId: string;
  actions: PlannedAction[];
}

export interface AttemptOutcome {
  eventId: string;
  actionId: string;
  webhookId: string;
  attempt: number;
  requestedAt: Date;
  result: SendResult;
  status: EventStatus;
  nextAttemptAt: Date | null;
  finishedAt: Date;
}

const INSERT_ACTIONS = `
  INSERT INTO event_actions (id, "eventId", kind, "targetId", "definitionId", status, "createdAt", "updatedAt")
  SELECT v.id, v.event_id, v.kind::"ActionKind", v.target_id, v.definition_id,
    -- Webhooks are attempted right away by the job that matched them; triggers start pending.
    CASE WHEN v.kind = 'webhook' THEN 'processing' ELSE 'pending' END::"EventStatus", $6, $6
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(id, event_id, kind, target_id, definition_id)
  ON CONFLICT ("eventId", kind, "targetId") DO NOTHING
  RETURNING id`;

const MARK_MATCHED = `
  UPDATE event_log SET "matchedAt" = $2, "startedAt" = coalesce("startedAt", $2), attempts = attempts + 1
  WHERE id = ANY($1::text[])`;

const INSERT_ATTEMPTS = `
  INSERT INTO delivery_attempts (id, "webhookId", "eventId", "actionId", attempt, ok, status, "durationMs", error, "errorCode", "responseBody", "requestedAt")
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bool[], $7::int[], $8::int[], $9::text[], $10::text[], $11::text[], $12::timestamptz[])`;

const UPDATE_ACTIONS = `
  UPDATE event_actions a SET
    status = v.status::"EventStatus", attempts = v.attempt, error = v.error, "errorCode" = v.code,
    "durationMs" = a."durationMs" + v.duration, "nextAttemptAt" = v.next, "completedAt" = v.completed,
    result = jsonb_build_object('status', v.http), "updatedAt" = v.updated_at
  FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::int[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::timestamptz[])
    AS v(id, status, attempt, error, code, duration, next, completed, http, updated_at)
  WHERE a.id = v.id`;

// Health: most deliveries succeed, so a success writes only when it changes something a person would see.
const HEALTH_SUCCESS = `
  UPDATE webhooks SET "consecutiveFailures" = 0, "lastSuccessAt" = $2
  WHERE id = ANY($1::text[]) AND ("consecutiveFailures" <> 0 OR "lastSuccessAt" IS NULL OR "lastSuccessAt" < $2 - interval '1 second')`;

const HEALTH_FAILURE = `
  UPDATE webhooks w SET
    "consecutiveFailures" = w."consecutiveFailures" + v.failures, "lastFailureAt" = $5, "lastError" = v.error,
    -- 410 Gone: the receiver says this endpoint is no more (Standard Webhooks): stop sending to it.
    active = CASE WHEN v.gone THEN false ELSE w.active END,
    "disabledReason" = CASE WHEN v.gone THEN 'the receiver answered 410 Gone' ELSE w."disabledReason" END
  FROM unnest($1::text[], $2::int[], $3::text[], $4::bool[]) AS v(id, failures, error, gone)
  WHERE w.id = v.id`;

const final = (status: EventStatus) => status === "completed" || status === "failed";

async function writeMatches(pool: Pool, matches: Match[], now: Date): Promise<Set<string>> {
  const actions = matches.flatMap((m) => m.actions);
  const eventIds = [...new Set(matches.map((m) => m.eventId))].sort();
  return transaction(pool, async (q) => {
    await lockEvents(q, eventIds);
    const inserted = actions.length
      ? await q.query<{ id: string }>(INSERT_ACTIONS, [
          actions.map((a) => a.id),
          actions.map((a) => a.eventId),
          actions.map((a) => a.kind),
          actions.map((a) => a.targetId),
          actions.map((a) => a.definitionId),
          now,
        ])
      : [];
    await q.query(MARK_MATCHED, [eventIds, now]);
    await refreshEventStatuses(q, eventIds, now);
    return new Set(inserted.map((r) => r.id));
  });
}

async function writeOutcomes(pool: Pool, outcomes: AttemptOutcome[]): Promise<void> {
  const now = outcomes.reduce((latest, o) => (o.finishedAt > latest ? o.finishedAt : latest), outcomes[0]!.finishedAt);
  const eventIds = [...new Set(outcomes.map((o) => o.eventId))].sort();
  const col = <T>(pick: (o: AttemptOutcome) => T) => outcomes.map(pick);
  await transaction(pool, async (q) => {
    await lockEvents(q, eventIds);
    await q.query(INSERT_ATTEMPTS, [
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
    ]);
    await q.query(UPDATE_ACTIONS, [
      col((o) => o.actionId),
      col((o) => o.status),
      col((o) => o.attempt),
      col((o) => o.result.error),
      col((o) => o.result.errorCode),
      col((o) => o.result.durationMs),
      col((o) => o.nextAttemptAt),
      col((o) => (final(o.status) ? o.finishedAt : null)),
      col((o) => o.result.status),
      col((o) => o.finishedAt),
    ]);
    await refreshEventStatuses(q, eventIds, now);
  });

  // Health is advisory: written after the log, outside its transaction, so a hot webhook row never
  // holds the log's locks.
  const q = fromPg(pool);
  const succeeded = [...new Set(outcomes.filter((o) => o.result.ok).map((o) => o.webhookId))];
  if (succeeded.length) await q.query(HEALTH_SUCCESS, [succeeded, now]);
  const failed = new Map<string, { failures: number; error: string | null; gone: boolean }>();
  for (const o of outcomes.filter((o) => !o.result.ok)) {
    const entry = failed.get(o.webhookId) ?? { failures: 0, error: null, gone: false };
    failed.set(o.webhookId, { failures: entry.failures + 1, error: o.result.error, gone: entry.gone || o.result.status === 410 });
  }
  if (failed.size) {
    const entries = [...failed.entries()];
    await q.query(HEALTH_FAILURE, [entries.map(([id]) => id), entries.map(([, e]) => e.failures), entries.map(([, e]) => e.error), entries.map(([, e]) => e.gone), now]);
  }
}

export interface LogWriter {
  /** Writes an event's actions and marks it matched; answers the ids of the actions this call created. */
  match(match: Match): Promise<Set<string>>;
  /** Writes one delivery attempt, its action's new state and its event's aggregate. */
  record(outcome: AttemptOutcome): Promise<void>;
}

export function createLogWriter(pool: Pool, now: () => Date): LogWriter {
  const matches = createBatcher<Match, Set<string>>(async (items) => {
    const inserted = await writeMatches(pool, items, now());
    return items.map(() => inserted);
  });
  const outcomes = createBatcher<AttemptOutcome, void>(async (items) => {
    await writeOutcomes(pool, items);
    return items.map(() => undefined);
  });
  return { match: (m) => matches.add(m), record: (o) => outcomes.add(o) };
}
