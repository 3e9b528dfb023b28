// One trigger of one event: checked, planned (its templates rendered), then run by the worker's trigger
// runner, which commits its writes with their events and the action's completion. Used for the first
// run (by the job that matched the event, with the trigger from the config cache) and for later runs
// (the action's own job, with the trigger as it is now).
import type { EventLog } from "../../platform/db.ts";
import type { ActionOutcome } from "../actions/run-action.ts";
import { AppError } from "../errors.ts";
import { eventContext } from "../events/event-context.ts";
import { failAction } from "../events/event-status.ts";
import type { MatchableEvent } from "../events/match-definitions.ts";
import type { WorkerDeps } from "../pipeline/pipeline.ts";
import type { CachedTrigger } from "../pipeline/config-cache.ts";
import { planTrigger } from "./plan-trigger.ts";

type TriggerDeps = Pick<WorkerDeps, "db" | "pool" | "config" | "now" | "pipeline">;

/** Runs `trigger` for `event` as action `actionId`, or fails the action with the reason it cannot run. */
export async function runTrigger(deps: TriggerDeps, action: { id: string; eventId: string }, event: MatchableEvent, trigger: CachedTrigger): Promise<ActionOutcome> {
  const { db, config, now } = deps;
  if (event.depth >= config.TRIGGER_MAX_DEPTH) {
    const error = `event ${event.id} is at depth ${event.depth} of a chain caused by triggers; writing would pass TRIGGER_MAX_DEPTH (${config.TRIGGER_MAX_DEPTH})`;
    await failAction(deps.pool, action, now(), "chain_depth_exceeded", error);
    return {};
  }
  let plan;
  try {
    plan = planTrigger(trigger, eventContext(event, trigger.definition));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    await failAction(deps.pool, action, now(), "invalid_trigger_result", error.message);
    return {};
  }
  await deps.pipeline.triggers({ actionId: action.id, event, plan });
  return {};
}

/** A later run of a trigger action: the trigger as it is now (deleted or turned off fails the action). */
export async function runTriggerAction(deps: TriggerDeps, action: { id: string; eventId: string; targetId: string; event: EventLog }): Promise<ActionOutcome> {
  const { db, now } = deps;
  const trigger = await db.eventTrigger.findUnique({ where: { id: action.targetId }, include: { definition: { select: { id: true, name: true } } } });
  if (!trigger) return failAction(deps.pool, action, now(), "trigger_deleted", "the trigger was deleted").then(() => ({}));
  if (!trigger.active) return failAction(deps.pool, action, now(), "trigger_inactive", "the trigger is inactive").then(() => ({}));
  return runTrigger(deps, action, action.event, trigger);
}
