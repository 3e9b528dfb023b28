// One trigger of one event: create, update or delete records of the target collection. The records, the
// events that report them and the action's completion commit in one transaction, so a job that runs
// again (after a crash, or twice at once) finds the action completed and changes nothing more.
import type { Deps } from "../../platform/deps.ts";
import type { EventAction, EventLog, EventTrigger, Prisma } from "../../platform/db.ts";
import { derivedId } from "../../platform/ids.ts";
import type { ActionOutcome } from "../actions/run-action.ts";
import { deleteRecords, insertRecord, insertWriteEvents, mergeIntoRecords, type RecordWrite } from "../collections/record-writes.ts";
import type { Condition } from "../conditions/condition.ts";
import { compileFilter } from "../conditions/filter.ts";
import { AppError } from "../errors.ts";
import { eventContext, type EventContext } from "../events/event-context.ts";
import { failAction, isFinal, settleAction } from "../events/event-status.ts";
import { enqueueEvents } from "../events/ingest-events.ts";
import { renderTemplate } from "../templates/template.ts";

type TriggerDeps = Pick<Deps, "db" | "queue" | "config" | "log" | "now">;

interface TriggerPlan {
  action: EventTrigger["action"];
  collection: string;
  data: Record<string, unknown>;
  where: Prisma.Sql | null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Renders the trigger's templates against the event; a result that is not usable is an AppError. */
export function planTrigger(trigger: Pick<EventTrigger, "action" | "targetCollection" | "filter" | "data">, context: EventContext): TriggerPlan {
  const data = trigger.data == null ? {} : renderTemplate(trigger.data, context);
  if (!isPlainObject(data)) throw new AppError("invalid_request", `data rendered to ${JSON.stringify(data)}, not an object`);
  const filter = trigger.filter == null ? null : renderTemplate(trigger.filter, context);
  if (filter !== null && !isPlainObject(filter)) throw new AppError("invalid_request", `filter rendered to ${JSON.stringify(filter)}, not an object`);
  return { action: trigger.action, collection: trigger.targetCollection, data, where: filter ? compileFilter(filter as Condition) : null };
}

/** The id of the record a create trigger writes for one event: the same however often the job runs. */
export function derivedRecordId(actionId: string): string {
  return derivedId("rec", actionId, actionId);
}

class TooManyRecords extends Error {}

async function applyTrigger(tx: Prisma.TransactionClient, plan: TriggerPlan, actionId: string, now: Date, limit: number): Promise<RecordWrite[]> {
  switch (plan.action) {
    case "create": {
      const write = await insertRecord(tx, plan.collection, derivedRecordId(actionId), plan.data, now);
      return write ? [write] : [];
    }
    case "update":
      return mergeIntoRecords(tx, plan.collection, plan.where!, plan.data, now, limit + 1);
    case "delete":
      return deleteRecords(tx, plan.collection, plan.where!, now, limit + 1);
  }
}

export async function runTriggerAction(deps: TriggerDeps, action: EventAction & { event: EventLog }): Promise<ActionOutcome> {
  const { db, config, now } = deps;
  const { event } = action;
  const trigger = await db.eventTrigger.findUnique({ where: { id: action.targetId }, include: { definition: { select: { id: true, name: true } } } });
  if (!trigger) return failAction(db, action, now(), "trigger_deleted", "the trigger was deleted").then(() => ({}));
  if (!trigger.active) return failAction(db, action, now(), "trigger_inactive", "the trigger is inactive").then(() => ({}));
  if (event.depth >= config.TRIGGER_MAX_DEPTH) {
    const error = `event ${event.id} is at depth ${event.depth} of a chain caused by triggers; writing would pass TRIGGER_MAX_DEPTH (${config.TRIGGER_MAX_DEPTH})`;
    return failAction(db, action, now(), "chain_depth_exceeded", error).then(() => ({}));
  }

  let plan: TriggerPlan;
  try {
    plan = planTrigger(trigger, eventContext(event, trigger.definition));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return failAction(db, action, now(), "invalid_trigger_result", error.message).then(() => ({}));
  }

  const started = performance.now();
  const limit = config.TRIGGER_MAX_RECORDS;
  const causation = { causationId: event.id, depth: event.depth + 1 };
  let createdEvents: string[] = [];
  try {
    const at = now();
    await settleAction(db, action, at, async (tx) => {
      // Under the event's lock: a duplicate of this job that got here first has finished the work.
      const current = await tx.eventAction.findUnique({ where: { id: action.id }, select: { status: true } });
      if (!current || isFinal(current.status)) return null;
      const writes = await applyTrigger(tx, plan, action.id, at, limit);
      if (writes.length > limit) throw new TooManyRecords(`the filter selects more than TRIGGER_MAX_RECORDS (${limit}) records; nothing was written`);
      createdEvents = await insertWriteEvents(tx, writes, at, { causation, keyPrefix: `trigger:${action.id}` });
      return {
        status: "completed",
        attempts: { increment: 1 },
        unfinishedRuns: 0,
        error: null,
        errorCode: null,
        result: { recordsAffected: writes.length, recordIds: writes.slice(0, 100).map((w) => w.record.id) },
        durationMs: { increment: Math.round(performance.now() - started) },
        completedAt: at,
      };
    });
  } catch (error) {
    if (!(error instanceof TooManyRecords)) throw error;
    await failAction(db, action, now(), "too_many_records", error.message);
    return {};
  }
  await enqueueEvents(deps, createdEvents);
  return {};
}
