// What a trigger will write for one event: its templates rendered against the event's context, checked
// before anything is written.
import type { Sql } from "sql-template-tag";
import type { EventTrigger } from "../../platform/db.ts";
import { derivedId } from "../../platform/ids.ts";
import type { Condition } from "../conditions/condition.ts";
import { compileFilter } from "../conditions/filter.ts";
import { AppError } from "../errors.ts";
import type { EventContext } from "../events/event-context.ts";
import { renderTemplate } from "../templates/template.ts";

export interface TriggerPlan {
  action: EventTrigger["action"];
  collection: string;
  data: Record<string, unknown>;
  where: Sql | null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Renders the trigger's templates against the event; a result that is not usable is an AppError. */
export function planTrigger(
  trigger: Pick<EventTrigger, "action" | "targetCollection" | "filter" | "data">,
  context: EventContext,
): TriggerPlan {
  const data = trigger.data == null ? {} : renderTemplate(trigger.data, context);
  if (!isPlainObject(data))
    throw new AppError("invalid_request", `data rendered to ${JSON.stringify(data)}, not an object`);
  const filter = trigger.filter == null ? null : renderTemplate(trigger.filter, context);
  if (filter !== null && !isPlainObject(filter))
    throw new AppError("invalid_request", `filter rendered to ${JSON.stringify(filter)}, not an object`);
  return {
    action: trigger.action,
    collection: trigger.targetCollection,
    data,
    where: filter ? compileFilter(filter as Condition) : null,
  };
}

/** The id of the record a create trigger writes for one event: the same however often the job runs. */
export function derivedRecordId(actionId: string): string {
  return derivedId("rec", actionId, actionId);
}
