// Writes what trigger runs planned. What one trigger writes for one event (records), the events that
// report those writes and the action's completion commit together, so a job that runs again finds the
// action completed and writes nothing more. Trigger actions ready at the same time share a transaction
// (group commit): one INSERT for all the records they create, one for all their events, one UPDATE for the
// actions and one for their events' statuses. A flush that fails for one action's sake (or that Postgres
// aborted in a deadlock with another) is written again in halves (the batcher's retryAlone), so it fails no
// other.
import type { Pipeline, TriggerRun } from "../../domain/delivery/pipeline.ts";
import { createBatcher } from "../../platform/batcher.ts";
import { isNotAnOutage } from "../../platform/dependency-errors.ts";
import type { Deps } from "../../platform/deps.ts";
import { transaction, type Queryable } from "../../platform/sql.ts";
import {
  deleteRecords,
  insertRecords,
  mergeIntoRecords,
  recordKey,
  type FilteredWrites,
} from "../../domain/collections/record-writes.ts";
import { lockEvents, refreshEventStatuses, triggerRunStatusSql } from "../../domain/delivery/statuses.ts";
import { enqueueEvents, eventRows, insertEvents } from "../../domain/events/ingest-events.ts";
import { derivedRecordId } from "../../domain/triggers/plan-trigger.ts";

type WriterDeps = Pick<Deps, "pool" | "queue" | "log" | "now" | "config">;

const SETTLE_ACTIONS = `
  UPDATE event_actions a SET
    status = ${triggerRunStatusSql("v.too_many")},
    attempts = a.attempts + 1, "unfinishedRuns" = 0, "nextAttemptAt" = NULL,
    error = CASE WHEN v.too_many THEN $4 END, "errorCode" = CASE WHEN v.too_many THEN 'too_many_records' END,
    result = CASE WHEN v.too_many THEN NULL ELSE v.result END,
    "durationMs" = a."durationMs" + $5, "completedAt" = $6, "updatedAt" = $6
  FROM unnest($1::text[], $2::bool[], $3::jsonb[]) AS v(id, too_many, result)
  WHERE a.id = v.id`;

/** Writes what each run's plan says; answers each action's writes (or that it selected too many records). */
async function applyPlans(
  q: Queryable,
  runs: TriggerRun[],
  now: Date,
  limit: number,
): Promise<Map<string, FilteredWrites>> {
  const outcomes = new Map<string, FilteredWrites>();
  const creates = runs.filter((run) => run.plan.action === "create");
  const target = (run: TriggerRun) => ({ collection: run.plan.collection, id: derivedRecordId(run.actionId) });
  const inserted = await insertRecords(
    q,
    creates.map((run) => ({ ...target(run), data: run.plan.data })),
    now,
  );
  for (const run of creates) {
    // Not inserted: created by an earlier run of this action (the id derives from it) whose completion was lost.
    const write = inserted.get(recordKey(target(run)));
    outcomes.set(run.actionId, { writes: write ? [write] : [], tooMany: false });
  }
  for (const run of runs.filter((r) => r.plan.action !== "create")) {
    const { collection, where, data } = run.plan;
    outcomes.set(
      run.actionId,
      run.plan.action === "update"
        ? await mergeIntoRecords(q, collection, where!, data, now, limit)
        : await deleteRecords(q, collection, where!, now, limit),
    );
  }
  return outcomes;
}

async function flush(deps: WriterDeps, runs: TriggerRun[]): Promise<undefined[]> {
  const now = deps.now();
  const started = performance.now();
  const limit = deps.config.TRIGGER_MAX_RECORDS;
  const eventIds = [...new Set(runs.map((run) => run.event.id))].sort();
  const created = await transaction(deps.pool, async (q) => {
    await lockEvents(q, eventIds);
    // Under the events' locks: an action finished by a duplicate job that got here first is left alone.
    const open = await q.query<{ id: string }>(
      `SELECT id FROM event_actions WHERE id = ANY($1::text[]) AND status NOT IN ('completed', 'failed')`,
      [runs.map((r) => r.actionId)],
    );
    const openIds = new Set(open.map((row) => row.id));
    const todo = [
      ...new Map(runs.filter((run) => openIds.has(run.actionId)).map((run) => [run.actionId, run])).values(),
    ];
    if (todo.length === 0) return [];

    const outcomes = await applyPlans(q, todo, now, limit);
    // No idempotency keys: the writes, their events and the action's completion commit together, and a
    // run finds the action finished if one did; a replay that writes again reports what it wrote again.
    const rows = todo.flatMap((run) =>
      eventRows(
        outcomes.get(run.actionId)!.writes.map((w) => w.event),
        now,
        { causation: { causationId: run.event.id, depth: run.event.depth + 1 } },
      ),
    );
    const { created } = await insertEvents(q, rows);
    const results = todo.map((run) => outcomes.get(run.actionId)!);
    await q.query(SETTLE_ACTIONS, [
      todo.map((run) => run.actionId),
      results.map((r) => r.tooMany),
      results.map((r) =>
        JSON.stringify({ recordsAffected: r.writes.length, recordIds: r.writes.slice(0, 100).map((w) => w.record.id) }),
      ),
      `the filter selects more than TRIGGER_MAX_RECORDS (${limit}) records; nothing was written`,
      Math.round(performance.now() - started),
      now,
    ]);
    await refreshEventStatuses(q, eventIds, now);
    return created;
  });
  await enqueueEvents(deps, created);
  return runs.map(() => undefined);
}

/** The trigger runs of one worker process: those ready together share a commit and an enqueue. */
export function createTriggerWriter(deps: WriterDeps): Pipeline["writeTrigger"] {
  const batcher = createBatcher<TriggerRun, void>((runs) => flush(deps, runs), { retryAlone: isNotAnOutage });
  return (run) => batcher.add(run);
}
