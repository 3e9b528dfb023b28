// What a user may send to create or change a trigger.
import { z } from "zod";
import { conditionProblems } from "../conditions/condition.ts";
import { CONTEXT_ROOTS } from "../events/event-context.ts";
import { isWholePlaceholder, templateProblems } from "../templates/template.ts";
import { LIMITS } from "../limits.ts";
import { jsonObject, reportProblems, withinBytes, writableCollection } from "../validation.ts";

const templated = jsonObject
  .superRefine(withinBytes(LIMITS.templateBytes))
  .superRefine((value, ctx) => reportProblems(ctx, templateProblems(value, CONTEXT_ROOTS)));

const filterInput = templated.superRefine((filter, ctx) => {
  if (Object.keys(filter).length === 0) {
    ctx.addIssue({
      code: "custom",
      message: "an empty filter would select every record of the collection; name the fields to match",
    });
  }
  reportProblems(ctx, conditionProblems(filter, { deferred: isWholePlaceholder }));
});

const fields = {
  action: z.enum(["create", "update", "delete"]),
  targetCollection: writableCollection,
  filter: filterInput.nullable().optional(),
  data: templated.nullable().optional(),
  active: z.boolean().optional(),
};

type TriggerShape = { action: "create" | "update" | "delete"; filter?: unknown; data?: unknown };

/** create needs data; update needs filter and data; delete needs filter. */
export function checkTriggerShape(trigger: TriggerShape, ctx: z.RefinementCtx) {
  const needs = { create: ["data"], update: ["filter", "data"], delete: ["filter"] }[trigger.action];
  for (const field of needs) {
    if (trigger[field as "filter" | "data"] == null)
      ctx.addIssue({ code: "custom", path: [field], message: `a ${trigger.action} trigger needs ${field}` });
  }
}

export const createTriggerInput = z.strictObject(fields).superRefine(checkTriggerShape);
export type CreateTriggerInput = z.output<typeof createTriggerInput>;

export const updateTriggerInput = z.strictObject(fields).partial();
export type UpdateTriggerInput = z.output<typeof updateTriggerInput>;

/** A patch checked against the trigger it would make. */
export const mergedTrigger = z
  .object({ action: fields.action, filter: z.unknown(), data: z.unknown() })
  .superRefine(checkTriggerShape);
