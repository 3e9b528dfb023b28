// One run of a trigger for one event: checked (chain depth), planned (its templates rendered), then
// written by the worker's trigger writer, which commits the records, the events that report them and the
// action's completion together. The first run is made by the job that matched the event (with the
// trigger from the config cache), later runs by the action's own job (with the trigger as it is now).
import { AppError } from "../errors.ts";
import { eventContext } from "../events/event-context.ts";
import type { MatchableEvent } from "../matching/match-definitions.ts";
import { planTrigger, type TriggerPlan } from "../triggers/plan-trigger.ts";
import { failAction } from "./statuses.ts";
import type { CachedTrigger, WorkerDeps } from "./pipeline.ts";

type TriggerDeps = Pick<WorkerDeps, "pool" | "config" | "now" | "pipeline">;

/** Runs `trigger` for `event` as action `action`, or fails the action with the reason it cannot run. */
export async function runTrigger(
  deps: TriggerDeps,
  action: { id: string; eventId: string },
  event: MatchableEvent,
  trigger: CachedTrigger,
): Promise<void> {
  const { config, now } = deps;
  if (event.depth >= config.TRIGGER_MAX_DEPTH) {
    const error =
      `event ${event.id} is at depth ${event.depth} of a chain caused by triggers; ` +
      `writing would pass TRIGGER_MAX_DEPTH (${config.TRIGGER_MAX_DEPTH})`;
    return failAction(deps.pool, action, now(), "chain_depth_exceeded", error);
  }
  let plan: TriggerPlan;
  try {
    plan = planTrigger(trigger, eventContext(event, trigger.definition));
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return failAction(deps.pool, action, now(), "invalid_trigger_result", error.message);
  }
  await deps.pipeline.writeTrigger({ actionId: action.id, event, plan });
}
