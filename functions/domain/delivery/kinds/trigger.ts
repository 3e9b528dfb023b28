// The trigger kind: a write to another collection (create, update or delete records), planned from the
// trigger's templates and written with the events that report it (trigger-writer.ts). The first run is
// made by the run that matched the event (with the trigger from the config cache), later runs by the
// action's own job (with the trigger as it is now).
import sql from "sql-template-tag";
import type { EventTrigger } from "../../../platform/db.ts";
import { fromPg, runSql } from "../../../platform/sql.ts";
import { AppError } from "../../errors.ts";
import { eventContext } from "../../events/event-context.ts";
import type { MatchableEvent } from "../../matching/match-definitions.ts";
import { planTrigger, type TriggerPlan } from "../../triggers/plan-trigger.ts";
import { RenderedTooLarge } from "../../templates/template.ts";
import type { ActionKindEntry, CachedTrigger, RunOutcome, WorkerDeps } from "./runtime.ts";

/** Runs `trigger` for `event` as action `action`, or fails the action with the reason it cannot run. */
async function runTrigger(
  deps: WorkerDeps,
  action: { id: string; eventId: string },
  event: MatchableEvent,
  trigger: CachedTrigger,
): Promise<RunOutcome> {
  const { config, runtime } = deps;
  const done = { retryAt: null };
  if (event.depth >= config.TRIGGER_MAX_DEPTH) {
    const error =
      `event ${event.id} is at depth ${event.depth} of a chain caused by triggers; ` +
      `writing would pass TRIGGER_MAX_DEPTH (${config.TRIGGER_MAX_DEPTH})`;
    await runtime.actionLog.fail(action, "chain_depth_exceeded", error);
    return done;
  }
  let plan: TriggerPlan;
  try {
    plan = planTrigger(trigger, eventContext(event, trigger.definition));
  } catch (error) {
    if (error instanceof RenderedTooLarge) {
      await runtime.actionLog.fail(action, error.code, error.message);
      return done;
    }
    if (!(error instanceof AppError)) throw error;
    await runtime.actionLog.fail(action, "invalid_trigger_result", error.message);
    return done;
  }
  await runtime.writeTrigger({ actionId: action.id, eventId: event.id, event, plan });
  return done;
}

/** The trigger as it is now, with its definition's id and name; undefined when deleted. */
async function currentTrigger(deps: Pick<WorkerDeps, "pool">, id: string): Promise<CachedTrigger | undefined> {
  const [row] = await runSql<EventTrigger & { definition: { id: string; name: string } }>(
    fromPg(deps.pool),
    sql`SELECT t.*, json_build_object('id', d.id, 'name', d.name) AS definition
      FROM event_triggers t JOIN event_definitions d ON d.id = t."definitionId" WHERE t.id = ${id}`,
  );
  return row;
}

export const triggerKind: ActionKindEntry = {
  targets: (definition) => definition.triggers,
  // Pending until its writes commit; its run follows the match at once.
  start: { status: "pending", attempts: 0 },
  runFirst: (deps, action, event, config) => runTrigger(deps, action, event, config.trigger(action.targetId)!),

  async runAgain(deps, action) {
    const trigger = await currentTrigger(deps, action.targetId);
    if (!trigger?.active) {
      const [code, error] = trigger
        ? ["trigger_inactive", "the trigger is inactive"]
        : ["trigger_deleted", "the trigger was deleted"];
      await deps.runtime.actionLog.fail(action, code, error);
      return { retryAt: null };
    }
    return runTrigger(deps, action, action.event, trigger);
  },
};
