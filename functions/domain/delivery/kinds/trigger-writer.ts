// Writes what trigger runs planned. What one trigger writes for one event (records), the events that
// report those writes, its chain's count of them (triggers/chain-budget.ts) and the action's completion
// commit together (the action log's settleRuns), so a run that comes again finds the action finished and
// writes nothing more. Trigger runs ready at the same time share a transaction (group commit): one INSERT
// for all the records they create, one for all their events. A flush that fails for one run's sake (or
// that Postgres aborted in a deadlock with another) is written again in halves (the batcher's retryAlone),
// so it fails no other.
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
  type PassedBound,
} from "../../collections/record-statements.ts";
import { enqueueEvents, eventRows, insertEvents } from "../../events/ingest-events.ts";
import { formatBytes, LIMITS } from "../../limits.ts";
import { chainEventLimit, lockChainBudgets, type ChainBudgets } from "../../triggers/chain-budget.ts";
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

/** What bounds the writes of one flush's runs: TRIGGER_MAX_RECORDS, and their chains' budgets. */
interface RunBounds {
  maxRecords: number;
  chains: ChainBudgets;
  chainLimit: number;
}

/** What one run wrote (or the bound that stopped it), with the chain it belongs to. */
type Outcome = FilteredWrites & { root: string };

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * Writes what each run's plan says, as far as its bounds let it (a run that would pass one writes nothing).
 * Runs of one chain draw on its budget in turn, so a flush never writes past it either.
 */
async function applyPlans(q: Queryable, runs: TriggerRun[], now: Date, bounds: RunBounds) {
  const { chains } = bounds;
  const outcomes = new Map<string, Outcome>();
  const rootOf = (run: TriggerRun) => chains.rootOf(run.event.id);
  const target = (run: TriggerRun) => ({ collection: run.plan.collection, id: derivedRecordId(run.actionId) });
  const creates: TriggerRun[] = [];
  for (const run of runs.filter((r) => r.plan.action === "create")) {
    const passed: PassedBound | null =
      jsonBytes(run.plan.data) > LIMITS.recordBytes ? "recordBytes" : chains.left(rootOf(run)) < 1 ? "writes" : null;
    outcomes.set(run.actionId, { writes: [], passed, root: rootOf(run) });
    if (passed) continue;
    creates.push(run);
    chains.spend(rootOf(run), 1);
  }
  const inserted = await insertRecords(
    q,
    creates.map((run) => ({ ...target(run), data: run.plan.data })),
    now,
  );
  for (const run of creates) {
    // Not inserted: created by an earlier run of this action (the id derives from it) whose completion was lost.
    const write = inserted.get(recordKey(target(run)));
    if (write) outcomes.get(run.actionId)!.writes.push(write);
    else chains.spend(rootOf(run), -1);
  }
  for (const run of runs.filter((r) => r.plan.action !== "create")) {
    const { collection, where, data } = run.plan;
    const root = rootOf(run);
    const limits = { records: bounds.maxRecords, writes: chains.left(root), recordBytes: LIMITS.recordBytes };
    const written =
      run.plan.action === "update"
        ? await mergeIntoRecords(q, collection, where!, data, now, limits)
        : await deleteRecords(q, collection, where!, now, limits);
    chains.spend(root, written.writes.length);
    outcomes.set(run.actionId, { ...written, root });
  }
  return outcomes;
}

/** Why a run wrote nothing, as its action shows it: the code of the bound it would have passed. */
function refusal(passed: PassedBound, root: string, bounds: RunBounds): { errorCode: string; error: string } {
  switch (passed) {
    case "records":
      return {
        errorCode: "too_many_records",
        error: `the filter selects more than TRIGGER_MAX_RECORDS (${bounds.maxRecords}) records; nothing was written`,
      };
    case "recordBytes":
      return {
        errorCode: "record_too_large",
        error:
          `a record it writes would be over ${formatBytes(LIMITS.recordBytes)} of JSON (LIMITS.recordBytes); ` +
          "nothing was written",
      };
    case "writes":
      return {
        errorCode: "chain_too_wide",
        error:
          `the triggers of the chain caused by event ${root} have written ` +
          `${bounds.chainLimit - bounds.chains.left(root)} events; these writes would pass ` +
          `TRIGGER_MAX_CHAIN_EVENTS (${bounds.chainLimit}); nothing was written`,
      };
  }
}

/** A run's result as the action shows it. */
function runResult(outcome: Outcome, bounds: RunBounds): RunResult {
  if (outcome.passed) return { ok: false, ...refusal(outcome.passed, outcome.root, bounds) };
  const ids = outcome.writes.map((w) => w.record.id);
  return { ok: true, result: { recordsAffected: ids.length, recordIds: ids.slice(0, 100) } };
}

async function flush(deps: WriterDeps, actionLog: ActionLog, runs: TriggerRun[]): Promise<undefined[]> {
  const now = deps.now();
  const created = await actionLog.settleRuns(
    runs,
    async (q, open) => {
      const chainLimit = chainEventLimit(deps.config);
      // Locked in the transaction of the writes: a chain's budget is spent by one flush at a time.
      const chains = await lockChainBudgets(
        q,
        open.map((run) => run.event),
        chainLimit,
      );
      const bounds = { maxRecords: deps.config.TRIGGER_MAX_RECORDS, chains, chainLimit };
      const outcomes = await applyPlans(q, open, now, bounds);
      await chains.save(now);
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
      const results = new Map(open.map((run) => [run.actionId, runResult(outcomes.get(run.actionId)!, bounds)]));
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
