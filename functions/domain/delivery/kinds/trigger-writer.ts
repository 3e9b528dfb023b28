// Writes what trigger runs planned. What one trigger writes for one event (records), the events that
// report those writes and the action's completion commit together (the action log's settleRuns), so a
// run that comes again finds the action finished and writes nothing more. Trigger runs ready at the same
// time share a transaction (group commit): one INSERT for all the records they create, one for all their
// events. A flush that fails for one run's sake (or that Postgres aborted in a deadlock with another) is
// written again in halves (the batcher's retryAlone), so it fails no other.
import { createBatcher } from "../../../platform/batcher.ts";
import { isNotAnOutage } from "../../../platform/dependency-errors.ts";
import type { Deps } from "../../../platform/deps.ts";
import type { Queryable } from "../../../platform/sql.ts";
import {
  deleteRecords,
  insertRecords,
  mergeIntoRecords,
  recordKey,
  type FilteredWrites,
} from "../../collections/record-statements.ts";
import { enqueueEvents, eventRows, insertEvents } from "../../events/ingest-events.ts";
import { derivedRecordId, type TriggerPlan } from "../../triggers/plan-trigger.ts";
import type { ActionLog, RunResult } from "../action-log/action-log.ts";

/** One run of a trigger action: its plan, for its event. */
export interface TriggerRun {
  actionId: string;
  eventId: string;
  event: { id: string; depth: number };
  plan: TriggerPlan;
}

type WriterDeps = Pick<Deps, "queue" | "log" | "now" | "config">;

/** Writes what each run's plan says; answers each action's writes (or that it selected too many records). */
async function applyPlans(q: Queryable, runs: TriggerRun[], now: Date, limit: number) {
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

/** A run's result as the action shows it. */
function runResult(writes: FilteredWrites, limit: number): RunResult {
  if (writes.tooMany)
    return {
      ok: false,
      errorCode: "too_many_records",
      error: `the filter selects more than TRIGGER_MAX_RECORDS (${limit}) records; nothing was written`,
    };
  const ids = writes.writes.map((w) => w.record.id);
  return { ok: true, result: { recordsAffected: ids.length, recordIds: ids.slice(0, 100) } };
}

async function flush(deps: WriterDeps, actionLog: ActionLog, runs: TriggerRun[]): Promise<undefined[]> {
  const now = deps.now();
  const limit = deps.config.TRIGGER_MAX_RECORDS;
  const created = await actionLog.settleRuns(
    runs,
    async (q, open) => {
      const outcomes = await applyPlans(q, open, now, limit);
      // No idempotency keys: the writes, their events and the action's completion commit together, and a
      // run finds the action finished if one did; a replay that writes again reports what it wrote again.
      const rows = open.flatMap((run) =>
        eventRows(
          outcomes.get(run.actionId)!.writes.map((w) => w.event),
          now,
          { causation: { causationId: run.event.id, depth: run.event.depth + 1 } },
        ),
      );
      const { created } = await insertEvents(q, rows);
      const results = new Map(open.map((run) => [run.actionId, runResult(outcomes.get(run.actionId)!, limit)]));
      return { results, extra: created };
    },
    [] as string[],
  );
  await enqueueEvents(deps, created);
  return runs.map(() => undefined);
}

/** The trigger runs of one worker process: those ready together share a commit and an enqueue. */
export function createTriggerWriter(deps: WriterDeps, actionLog: ActionLog): (run: TriggerRun) => Promise<void> {
  const batcher = createBatcher<TriggerRun, void>((runs) => flush(deps, actionLog, runs), {
    retryAlone: isNotAnOutage,
  });
  return (run) => batcher.add(run);
}
